-- hup_race.lua - SIGHUP, even in a burst with SIGUSR1, never reaches
-- libmilter's own signal thread, which would stop the filter (it calls
-- mi_stop_milters(MILTER_STOP) on SIGHUP: smfi_main returns, the daemon
-- exits with status 0).  Runs against a daemon of its own ("hup"), last.
--
-- The race it guards against: the daemon runs smfi_main in a thread and
-- takes signals in its main thread, but Linux hands a process signal to
-- the main thread only while it runs or has no signal pending; otherwise
-- to any thread that does not block it, and libmilter's signal thread, in
-- sigwait for SIGHUP/SIGTERM/SIGINT, qualifies.  With a SIGHUP handler, a
-- burst of SIGUSR1/SIGHUP pairs while a session is open, right after
-- another one ended, stopped the daemon nearly every time; SIGHUP is now
-- ignored (an ignored signal is dropped when sent).
--
-- The sign, seen at once: libmilter's signal thread (the one thread in
-- sigtimedwait, per /proc/PID/task/*/wchan, or where wchan reads 0, per
-- the syscall number in /proc/PID/task/*/syscall) is gone.  Where neither
-- shows it, the script says "skipped:" for that sign rather than pass
-- without looking; the daemon's survival is checked either way.
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local NEWS = "<news@news.example.com>"
	local PID = T.env("MT_PID")

	-- rt_sigtimedwait's number, for /proc/PID/task/TID/syscall.
	local nr = ({ x86_64 = "128", aarch64 = "137", i686 = "177",
	    armv7l = "177", ppc64le = "176", s390x = "177",
	    riscv64 = "137" })[T.sh_out("uname -m")]

	-- sigwaiters(): threads of the daemon in sigtimedwait, or nil if no
	-- thread's wait can be seen (wchan reads 0 or nothing, and the
	-- syscall files are unreadable or the architecture unknown).
	local function sigwaiters()
		local out = T.sh_out("for t in /proc/" .. PID .. "/task/*; do " ..
		    "printf '%s %s\\n' \"$(cat $t/wchan 2>/dev/null)\" " ..
		    "\"$(cut -d' ' -f1 $t/syscall 2>/dev/null)\"; done")
		local n, seen = 0, false
		for w, sc in (out .. "\n"):gmatch("(%S*) (%S*)\n") do
			if w ~= "" and w ~= "0" then
				seen = true
				if w:find("sigtimedwait", 1, true) then n = n + 1 end
			elseif nr ~= nil and sc:match("^%d+$") then
				seen = true
				if sc == nr then n = n + 1 end
			end
		end
		if not seen then return nil end
		return n
	end

	-- Without a thread seen in sigtimedwait, the rounds below could only pass.
	local visible = sigwaiters()
	if visible == nil or visible == 0 then
		print("skipped: hup_race.lua: libmilter's signal thread cannot be " ..
		    "seen here (/proc/PID/task/*/wchan reads 0, syscall unreadable); " ..
		    "only the daemon's survival is checked")
	else
		T.eq(visible, 1, "libmilter's signal thread is seen in sigtimedwait")
	end

	local function message(conn, qid)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE, qid .. ": filtering")
		T.headers(conn, {}, qid)
		T.eom(conn, qid)
		T.accepted(conn, qid .. ": end of message")
	end

	-- One plain SIGHUP first.
	T.case("one SIGHUP", function(conn)
		local before = sigwaiters()
		T.sh("kill -HUP " .. PID, "kill -HUP")
		mt.sleep(0.3)
		if before ~= nil and before > 0 then
			T.eq(sigwaiters(), before, "libmilter's signal thread did not get it")
		end
		message(conn, "H0")
	end)

	-- quiet(conn, qid): a refused recipient, checked without counting (the
	-- number of rounds varies); a wrong reply stops the case, a failure.
	local function quiet(conn, qid)
		T.mail(conn, NEWS)
		local r = T.rcpt_quiet(conn, "<no@example.net>")
		if r ~= SMFIR_REPLYCODE then
			error(qid .. ": RCPT -> " .. T.rname(r) .. ", wanted REPLYCODE")
		end
		T.call(mt.abort(conn), "mt.abort")
	end

	-- A round: a message on the case's connection, one on a second
	-- connection that then closes, a burst of signals while the first is
	-- still open.  hit: libmilter's signal thread took one.
	local hit = false
	for round = 1, 5 do
		local before, burst
		T.case("round " .. round, function(conn)
			quiet(conn, "H" .. round .. "a")
			local c2 = T.connect()
			quiet(c2, "H" .. round .. "b")
			mt.disconnect(c2)
			before = sigwaiters()
			burst = os.execute("for i in 1 2 3 4 5 6 7 8 9 10; do kill -USR1 " ..
			    PID .. "; kill -HUP " .. PID .. "; done")
			mt.sleep(0.3)
		end)
		local after = sigwaiters()
		if not burst then
			T.ok(false, "round " .. round .. ": the burst was sent")
			break
		end
		if before ~= nil and before > 0 and after ~= nil and after < before then
			hit = true
			break
		end
	end

	T.prefix = "after the bursts: "
	if hit then
		-- The daemon is on its way out: let it go (libmilter takes a few s).
		T.wait_log("stopping", 10)
	end
	if visible ~= nil and visible > 0 then
		T.ok(not hit, "SIGHUP never reached libmilter's signal thread")
	end
	T.prefix = ""
	if not hit then
		T.case("still filtering", function(conn) message(conn, "H9") end)
		T.ok(not T.read_log():find("stopping", 1, true), "never began to stop")
	end
end)
