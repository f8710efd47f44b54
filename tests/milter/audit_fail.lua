-- audit_fail.lua - audit.fail_closed: when the audit line of a decision
-- cannot be written, bulk mail is tempfailed (451 4.3.0 "Audit log
-- unavailable") with fail_closed = true, and goes on with fail_closed =
-- false; transactional mail passes either way.  Run against two daemons:
-- "auditfc" (MT_FAIL_CLOSED=1) and "auditfo" (MT_FAIL_CLOSED=0).
--
-- The audit log is made unwritable by replacing the file with a directory
-- and sending SIGUSR1 (which reopens it: the reopen fails, and every write
-- after it); the file put back and SIGUSR1 again, decisions are written
-- as before.
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local NEWS = "<news@news.example.com>"
	local AUDIT = T.env("MT_AUDIT")
	local PID = T.env("MT_PID")
	local closed = T.env("MT_FAIL_CLOSED") == "1"
	local tag = closed and "fail_closed: " or "fail_open: "

	-- count(text): occurrences of text in the daemon's log.
	local function count(text)
		local n = 0
		local from = 1
		local log = T.read_log()
		while true do
			local i = log:find(text, from, true)
			if i == nil then return n end
			n = n + 1
			from = i + 1
		end
	end

	-- reopen(ready): SIGUSR1, then wait (10 s) until ready() holds.
	local function reopen(what, ready)
		T.sh("kill -USR1 " .. PID, "kill -USR1")
		for _ = 1, 100 do
			if ready() then return T.ok(true, what) end
			mt.sleep(0.1)
		end
		return T.ok(false, what)
	end

	-- bulk(conn, qid, header): a bulk message to yes@ (allowed) and no@
	-- (refused at RCPT, or removed at the end with header); returns the
	-- end-of-message reply.
	local function bulk(conn, qid, header)
		if header then
			T.mail(conn, "<mailer@elsewhere.example>")
			T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
			T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE)
			T.headers(conn, { { "X-Consent-List", "news" } }, qid)
		else
			T.mail(conn, NEWS)
			T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
			T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE)
			T.headers(conn, {}, qid)
		end
		return T.eom(conn, qid)
	end

	T.case(tag .. "audit log writable", function(conn)
		bulk(conn, "AF1")
		T.accepted(conn, "AF1")
		T.audit_has('"qid":"AF1"', "AF1's decisions are in the trail")
	end)

	-- The audit log becomes a directory: the reopen fails.
	local failed = count("Is a directory")
	os.execute("rm -f '" .. AUDIT .. "' && mkdir '" .. AUDIT .. "'")
	T.prefix = tag
	reopen("the reopen fails (logged)", function()
		return count("Is a directory") > failed
	end)
	T.prefix = ""

	for _, how in ipairs({ { "AF2", false, "envelope bulk" },
	    { "AF3", true, "header bulk" } }) do
		T.case(tag .. how[3] .. ", audit log unwritable", function(conn)
			local r = bulk(conn, how[1], how[2])
			if closed then
				T.ok(r == SMFIR_REPLYCODE and mt.eom_check(conn,
				    MT_SMTPREPLY, "451", "4.3.0",
				    "Audit log unavailable, try again later"),
				    how[1] .. ": tempfailed, 451 4.3.0", "got " .. T.rname(r))
			else
				T.ok(r == SMFIR_CONTINUE or r == SMFIR_ACCEPT,
				    how[1] .. ": goes on", "got " .. T.rname(r))
			end
			T.ok(T.wait_log("audit log: cannot write decisions of " ..
			    how[1], 5), how[1] .. ": the lost decisions are logged")
		end)
	end

	T.case(tag .. "transactional, audit log unwritable", function(conn)
		T.mail(conn, "<receipts@news.example.com>")
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "AF4")
		T.eom(conn, "AF4")
		T.accepted(conn, "AF4: transactional passes")
		T.no_edits(conn, "AF4", { "<no@example.net>" })
	end)

	-- The file back: decisions are written again.
	os.execute("rmdir '" .. AUDIT .. "'")
	T.prefix = tag
	reopen("the reopen succeeds (the file is made again)", function()
		local f = io.open(AUDIT, "r")
		if f == nil then return false end
		local s = f:read("a") or ""
		f:close()
		return s:find('"type":"open"', 1, true) ~= nil
	end)
	T.prefix = ""
	T.case(tag .. "audit log back", function(conn)
		bulk(conn, "AF5")
		T.accepted(conn, "AF5")
		T.audit_has('"qid":"AF5"', "AF5's decisions are in the trail")
	end)
end)
