-- macros.lua - an MTA that sends few or no macros: no {i} (queue id), no
-- {daemon_name}, no {auth_authen}, no client macros, the null sender, no
-- Message-ID.  The filter must decide all the same, name the message
-- NOQUEUE in its log, and never crash.  An MTA that does not name itself
-- (no v) gets no removal and no refusal of one recipient at all: its
-- rules are not known; only whole messages are refused.
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	T.case("no macros at all", function(conn)
		-- Straight mt.mailfrom: not a single macro on this connection.
		-- An MTA that does not name itself: no refusal at RCPT and no
		-- removal is known to hold, so the message is refused whole.
		T.call(mt.mailfrom(conn, "<news@news.example.com>"), "mt.mailfrom")
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE, "unknown MTA: not refused at RCPT")
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.call(mt.header(conn, "Subject", "no macros, no Message-ID"), "mt.header")
		T.eom_reply(conn, nil, SMFIR_REPLYCODE, "refused whole")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
		    "Recipient <no@example.net> cannot be removed from this bulk " ..
		    "message with certainty (the filter does not know this MTA's rules)"),
		    "550 5.7.1 saying why")
		T.deleted(conn, "<no@example.net>", false)
		T.deleted(conn, "<gone@example.net>", false)
		T.log_has("the MTA did not name itself as Postfix or Sendmail (macro v: " ..
		    "not sent)", "says once that it cannot tell the MTA")
		T.log_has("NOQUEUE: list=news rcpt=<gone@example.net> verdict=deny " ..
		    "reason=unsubscribed action=drop stage=rcpt outcome=rejected",
		    "logs NOQUEUE for want of {i}")
		T.audit_has('"qid":"NOQUEUE","from":',
		    "audits NOQUEUE and no Message-ID")
	end)

	T.case("no v, decided at the end: refused whole, never a removal", function(conn)
		T.mail(conn, "<someone@elsewhere.example>")
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" } })
		T.eom(conn, "M0")
		-- T.mail named Postfix: this one does.  The next case does not.
		T.accepted(conn, "Postfix: end of message")
		T.deleted(conn, "<gone@example.net>", true)
		local saved = T.MTA
		T.MTA = false
		T.mail(conn, "<someone@elsewhere.example>")
		T.MTA = saved
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" } })
		T.eom_reply(conn, "M0b", SMFIR_REPLYCODE, "no v: the message is refused")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
		    "Recipient <gone@example.net> cannot be removed from this bulk " ..
		    "message with certainty (the filter does not know this MTA's rules)"),
		    "with 550 5.7.1 saying why")
		T.deleted(conn, "<gone@example.net>", false)
		T.log_has("message refused: rcpt=<gone@example.net> has no form an " ..
		    "unknown MTA is sure to match", "logs why")
	end)

	T.case("no {daemon_name}: the service rule cannot match", function(conn)
		T.mail(conn, "<someone@elsewhere.example>", { "{auth_authen}", "" })
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE, "not bulk at RCPT")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" } })
		T.eom(conn, nil)
		T.accepted(conn, "end of message")
		T.deleted(conn, "<no@example.net>", true, "decided by the list header: ")
		T.deleted(conn, "<yes@example.net>", false)
	end)

	T.case("empty {auth_authen} and {daemon_name}", function(conn)
		T.mail(conn, "<someone@elsewhere.example>", { "{auth_authen}", "",
		    "{daemon_name}", "" })
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE, "empty macros match no rule")
		T.headers(conn, {})
		T.eom(conn, "M3")
		T.accepted(conn, "end of message")
		T.no_edits(conn, "transactional", { "<no@example.net>" })
	end)

	T.case("null sender", function(conn)
		T.mail(conn, "<>")
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "Content-Type", "multipart/report; report-type=delivery-status" } })
		T.eom(conn, "M4")
		T.accepted(conn, "end of message")
		T.no_edits(conn, "a bounce", { "<no@example.net>" })
	end)

	T.case("null sender with a list header", function(conn)
		T.mail(conn, "<>")
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" } })
		T.eom(conn, "M5")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<no@example.net>", true)
		T.deleted(conn, "<yes@example.net>", false)
	end)

	T.case("ESMTP parameters on MAIL and RCPT", function(conn)
		T.mail(conn, "<news@news.example.com>")
		T.call(mt.rcptto(conn, "<gone@example.net>", "NOTIFY=NEVER",
		    "ORCPT=rfc822;gone@example.net"), "mt.rcptto")
		T.reply(conn, SMFIR_CONTINUE, "RCPT with parameters")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {})
		T.eom(conn, "M6")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<gone@example.net>", true, "the address, not its parameters: ")
	end)
end)
