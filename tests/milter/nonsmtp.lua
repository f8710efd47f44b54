-- nonsmtp.lua - mail from sendmail(1): Postfix emulates SMTP for it, with
-- {client_addr} 127.0.0.1 and {client_port} 0 at MAIL.  There no recipient
-- may be refused (Postfix treats that as a configuration error), and no
-- removal is sure: Postfix shows the filter each recipient as rewritten
-- but removes by the original.  So a message left with nobody is
-- discarded, one that would need a removal is refused whole at the end
-- (the sender gets a bounce saying why), and actions that remove nobody
-- (tag, hold) still apply.
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local NEWS = "<news@news.example.com>"
	local LOCAL = { "{client_addr}", "127.0.0.1", "{client_port}", "0",
	    "{daemon_name}", "pickup" }

	-- refused_whole(conn, qid, rcpts): the end of message refuses it all
	-- and edits nothing.
	local function refused_whole(conn, qid, rcpts)
		T.eom_reply(conn, qid, SMFIR_REPLYCODE, "refused whole")
		for _, r in ipairs(rcpts) do T.deleted(conn, r, false, "nothing edited: ") end
		T.ok(not mt.eom_check(conn, MT_RCPTADD, "hold@example.org"), "no redirect")
		T.ok(not mt.eom_check(conn, MT_HDRADD), "no header added")
		T.log_has(qid .. ": message refused: rcpt=", "says why")
	end

	T.case("non-SMTP: never refused at RCPT, refused whole at EOM", function(conn)
		T.mail(conn, NEWS, LOCAL)
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE, "never opted in: not refused")
		T.rcpt(conn, "<Pend@Example.net>", SMFIR_CONTINUE, "pending: not refused")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "n1")
		refused_whole(conn, "N1", { "<no@example.net>", "<Pend@Example.net>", "<yes@example.net>" })
		T.log_has("N1: list=news rcpt=<no@example.net> verdict=deny " ..
		    "reason=no_consent action=drop stage=rcpt outcome=rejected",
		    "reject became drop, and the message's outcome is logged")
		T.log_has("N1: list=news rcpt=<yes@example.net> verdict=allow " ..
		    "reason=subscribed action=none stage=rcpt outcome=rejected",
		    "the allowed recipient shares the message's outcome")
	end)

	T.case("non-SMTP: nobody left, discarded", function(conn)
		T.mail(conn, NEWS, LOCAL)
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "n2")
		T.eom_reply(conn, "N2", SMFIR_DISCARD, "discarded, not refused")
		T.ok(not mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1"), "no 550 reply")
	end)

	T.case("non-SMTP: an invalid address beside a valid one: refused whole", function(conn)
		T.mail(conn, NEWS, LOCAL)
		T.rcpt(conn, "<no-domain>", SMFIR_CONTINUE, "invalid: not refused")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "n3")
		refused_whole(conn, "N3", { "<no-domain>", "<yes@example.net>" })
	end)

	T.case("non-SMTP: a redirect needs a removal: refused whole", function(conn)
		T.mail(conn, NEWS, LOCAL)
		T.rcpt(conn, "<bounce@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<angry@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "n4")
		refused_whole(conn, "N4", { "<bounce@example.net>" })
	end)

	T.case("non-SMTP: actions that remove nobody still apply", function(conn)
		T.mail(conn, NEWS, LOCAL)
		T.rcpt(conn, "<angry@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<held@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "n4b")
		T.eom(conn, "N4B")
		T.accepted(conn, "end of message")
		T.header_is(conn, "X-Consent", "deny; reason=complaint; list=news; recipients=1")
		T.ok(mt.eom_check(conn, MT_QUARANTINE), "holds the message")
		T.deleted(conn, "<yes@example.net>", false)
	end)

	T.case("non-SMTP, classified at EOM: nobody left, discarded", function(conn)
		T.mail(conn, "<mailer@elsewhere.example>", LOCAL)
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<pend@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" } }, "n5")
		T.eom_reply(conn, "N5", SMFIR_DISCARD, "discarded, not refused")
	end)

	T.case("non-SMTP without {client_port}", function(conn)
		T.mail(conn, NEWS, { "{client_addr}", "127.0.0.1" })
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE, "still not refused")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "n6")
		refused_whole(conn, "N6", { "<no@example.net>" })
	end)

	T.case("SMTP from localhost is SMTP", function(conn)
		T.mail(conn, NEWS, { "{client_addr}", "127.0.0.1", "{client_port}", "52110" })
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE, "refused")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "n7")
		T.eom(conn, "N7")
		T.accepted(conn, "end of message")
	end)

	T.case("port 0 from another address is SMTP", function(conn)
		T.mail(conn, NEWS, { "{client_addr}", "192.0.2.7", "{client_port}", "0" })
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE, "refused")
		T.headers(conn, {}, "n8")
		T.eom(conn, "N8")
		T.accepted(conn, "end of message")
	end)

	T.case("non-SMTP, then SMTP on one connection", function(conn)
		T.mail(conn, NEWS, LOCAL)
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE, "message 1 (local): not refused")
		T.headers(conn, {}, "n9")
		T.eom_reply(conn, "N9", SMFIR_DISCARD, "message 1")
		T.mail(conn, NEWS, { "{client_addr}", "192.0.2.8", "{client_port}", "40000" })
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE, "message 2 (SMTP): refused")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "n10")
		T.eom(conn, "N10")
		T.accepted(conn, "message 2")
		T.deleted(conn, "<no@example.net>", false, "message 2: ")
	end)
end)
