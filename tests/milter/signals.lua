-- signals.lua - SIGHUP does not stop the daemon (libmilter's own signal
-- thread would, if it got it): the daemon ignores it, and filters on;
-- hup_race.lua tries harder.  SIGUSR1 reloads the configuration from the
-- next message on (a message in progress keeps the one it started with),
-- a broken file keeps the old configuration.
-- Runs last against the main daemon; the runner checks afterwards that
-- SIGTERM stops it within seconds with status 0.
--   MT_CONF_TAG   a copy of the configuration with no_consent = "tag"
--   MT_CONF_ORIG  a copy of the original configuration
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local NEWS = "<news@news.example.com>"
	local PID = T.env("MT_PID")
	local CONF = T.env("MT_CONF")

	local function reloads()
		local n = 0
		for _ in T.read_log():gmatch("configuration reloaded from ") do n = n + 1 end
		return n
	end

	local function alive(what)
		local ok = os.execute("kill -0 " .. PID .. " 2>/dev/null")
		return T.ok(ok == true, what or "the daemon is still running")
	end

	-- signal(sig): send it, wait (5 s at most) for one more reload line.
	local function signal(sig, what)
		local before = reloads()
		T.sh("kill -" .. sig .. " " .. PID, "kill -" .. sig)
		local n
		for _ = 1, 50 do
			n = reloads()
			if n > before then break end
			mt.sleep(0.1)
		end
		T.ok(n > before, what or (sig .. " reloads the configuration"))
	end

	-- refused(conn, qid): a bulk message to no@: refused at RCPT (reject).
	local function refused(conn, qid, what)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE, what)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, qid)
		T.eom(conn, qid)
		T.accepted(conn, qid .. " end of message")
		T.ok(not mt.eom_check(conn, MT_HDRADD, "X-Consent"), qid .. ": not tagged")
	end

	T.case("SIGHUP", function(conn)
		refused(conn, "S1", "before SIGHUP: refused")
		local n = reloads()
		T.sh("kill -HUP " .. PID, "kill -HUP")
		-- Rather than wait a while for nothing: a SIGUSR1 after it, and
		-- once its reload is logged, a SIGHUP taken (its number is lower,
		-- and it was sent first) would have been handled before it.
		signal("USR1", "SIGUSR1 after the SIGHUP reloads")
		alive("SIGHUP did not stop the daemon")
		T.eq(reloads(), n + 1, "SIGHUP is ignored: no reload of its own")
		refused(conn, "S2", "after SIGHUP, same connection: still filtered")
		local c2 = T.connect()
		refused(c2, "S3", "after SIGHUP, new connection: still filtered")
		mt.disconnect(c2)
		T.ok(not T.read_log():find("stopping", 1, true), "never began to stop")
	end)

	T.case("SIGUSR1 reloads from the next message on", function(conn)
		-- A message in progress keeps its configuration.
		T.mail(conn, NEWS)
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE, "before the reload: refused")
		T.sh("cp " .. T.env("MT_CONF_TAG") .. " " .. CONF, "edit the configuration")
		signal("USR1", "SIGUSR1 reloads")
		T.rcpt(conn, "<no+1@example.net>", SMFIR_REPLYCODE,
		    "same message, after the reload: still refused")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "s5")
		T.eom(conn, "S5")
		T.accepted(conn, "end of that message")
		T.ok(not mt.eom_check(conn, MT_HDRADD, "X-Consent"), "that message is not tagged")
		-- The next one uses the new action: tag.
		T.mail(conn, NEWS)
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE, "next message: tagged, not refused")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "s6")
		T.eom(conn, "S6")
		T.accepted(conn, "next message")
		T.deleted(conn, "<no@example.net>", false)
		T.header_is(conn, "X-Consent", "deny; reason=no_consent; list=news; recipients=1")
		T.log_has("S6: list=news rcpt=<no@example.net> verdict=deny reason=no_consent " ..
		    "action=tag stage=rcpt outcome=tagged")
	end)

	T.case("a broken file keeps the old configuration", function(conn)
		T.sh("echo 'actions: { default = \"explode\"; };' > " .. CONF, "break the file")
		T.sh("kill -USR1 " .. PID, "kill -USR1")
		T.ok(T.wait_log("reload failed, keeping the old configuration", 5),
		    "says it keeps the old configuration")
		alive()
		T.mail(conn, NEWS)
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE, "still tagged")
		T.headers(conn, {}, "s7")
		T.eom(conn, "S7")
		T.accepted(conn, "end of message")
		T.header_is(conn, "X-Consent", "deny; reason=no_consent; list=news; recipients=1")
	end)

	T.case("a reload cannot change the store's address rules", function(conn)
		T.sh("cp " .. T.env("MT_CONF_ORIG") .. " " .. CONF ..
		    " && sed -i 's/store: *{/store: { case_sensitive_local = true; recipient_delimiter = \"-\";/' " ..
		    CONF, "ask for case-sensitive local parts")
		T.sh("grep -q case_sensitive_local " .. CONF, "the edit took")
		T.sh("kill -USR1 " .. PID, "kill -USR1")
		T.ok(T.wait_log("the store section needs a restart", 5),
		    "says the store section needs a restart")
		alive()
		-- Keys are still made the store's way: a tagged, mixed-case
		-- address of the subscriber still finds its record.
		T.mail(conn, NEWS)
		T.rcpt(conn, "<Yes+Tag@Example.NET>", SMFIR_CONTINUE, "still found")
		T.headers(conn, {}, "s7b")
		T.eom(conn, "S7B")
		T.accepted(conn, "end of message")
		T.log_has("S7B: list=news rcpt=<yes+tag@example.net> verdict=allow")
	end)

	T.case("back to the original", function(conn)
		T.sh("cp " .. T.env("MT_CONF_ORIG") .. " " .. CONF, "restore the configuration")
		signal("USR1", "SIGUSR1 reloads")
		refused(conn, "S8", "refused again")
	end)
end)
