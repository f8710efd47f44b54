-- abort.lua - a message given up half way (SMFIC_ABORT, a new MAIL, a
-- dropped connection) leaves nothing behind: the next message on the
-- connection starts clean, with no recipient, header or flag carried over.
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local NEWS = "<news@news.example.com>"
	local OTHER = "<someone@elsewhere.example>"

	T.case("abort after RCPT, then a transactional message", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<bounce@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE)
		T.headers(conn, { { "X-Consent-List", "news" } }, "b1")
		T.call(mt.abort(conn), "mt.abort")
		T.ok(T.wait_log("NOQUEUE: list=news rcpt=<gone@example.net> verdict=deny " ..
		    "reason=unsubscribed action=drop stage=rcpt outcome=aborted", 3),
		    "logs the aborted message's decisions")
		T.mail(conn, OTHER)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "b1b")
		T.eom(conn, "B1")
		T.accepted(conn, "the next message")
		T.no_edits(conn, "the next message", { "<gone@example.net>",
		    "<bounce@example.net>", "<no@example.net>", "<yes@example.net>" })
	end)

	T.case("abort, then bulk again: only the new recipients", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<held@example.net>", SMFIR_CONTINUE)
		T.call(mt.abort(conn), "mt.abort")
		T.mail(conn, NEWS)
		T.rcpt(conn, "<all@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "b2")
		T.eom(conn, "B2")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<all@example.net>", true)
		T.deleted(conn, "<gone@example.net>", false, "from the aborted message: ")
		T.deleted(conn, "<yes@example.net>", false)
		T.ok(not mt.eom_check(conn, MT_QUARANTINE),
		    "not held for the aborted message's recipient")
	end)

	T.case("abort after the headers: no list header carried over", function(conn)
		T.mail(conn, OTHER)
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" }, { "X-Consent-List", "news" } }, "b3")
		T.call(mt.abort(conn), "mt.abort")
		T.mail(conn, OTHER)
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "b3b")
		T.eom(conn, "B3")
		T.accepted(conn, "the next message")
		T.no_edits(conn, "transactional after an aborted bulk one", { "<no@example.net>" })
	end)

	T.case("a new MAIL without abort", function(conn)
		-- The MTA never ended the first message: MAIL starts a new one.
		T.mail(conn, NEWS)
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<bounce@example.net>", SMFIR_CONTINUE)
		T.mail(conn, OTHER)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "b4")
		T.eom(conn, "B4")
		T.accepted(conn, "the second message")
		T.no_edits(conn, "the second message", { "<gone@example.net>",
		    "<bounce@example.net>", "<yes@example.net>" })
	end)

	T.case("abort of a non-SMTP message", function(conn)
		T.mail(conn, NEWS, { "{client_addr}", "127.0.0.1", "{client_port}", "0" })
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE, "non-SMTP: not refused")
		T.call(mt.abort(conn), "mt.abort")
		T.mail(conn, NEWS, { "{client_addr}", "192.0.2.9", "{client_port}", "1025" })
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE, "SMTP again: refused")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "b5")
		T.eom(conn, "B5")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<no@example.net>", false)
	end)

	T.case("abort twice, then a message", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE)
		T.call(mt.abort(conn), "mt.abort")
		T.call(mt.abort(conn), "mt.abort (nothing in progress)")
		T.mail(conn, NEWS)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "b6")
		T.eom(conn, "B6")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<gone@example.net>", false)
	end)

	T.case("connection dropped mid-message", function(conn)
		local c2 = T.connect()
		T.mail(c2, NEWS)
		T.rcpt(c2, "<held@example.net>", SMFIR_CONTINUE, "second connection")
		T.headers(c2, {}, "b7")
		mt.disconnect(c2, false)	-- abrupt: no QUIT
		T.ok(T.wait_log("NOQUEUE: list=news rcpt=<held@example.net> verdict=deny " ..
		    "reason=manual action=quarantine stage=rcpt outcome=aborted", 3),
		    "logs the dropped message as aborted")
		-- The daemon goes on.
		T.mail(conn, NEWS)
		T.rcpt(conn, "<held@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "b7b")
		T.eom(conn, "B7")
		T.accepted(conn, "a message on another connection")
		T.ok(mt.eom_check(conn, MT_QUARANTINE), "is held")
	end)
end)
