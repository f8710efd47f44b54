-- doubleoptin.lua - opt-in with double opt-in required: only confirmed
-- subscribers get bulk mail; a single opt-in is "unconfirmed", a pending
-- one "pending".  late@ has a single opt-in; confirming it with consentctl
-- lets the very next message through.
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local NEWS = "<news@news.example.com>"

	T.case("double opt-in at RCPT", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<conf@example.net>", SMFIR_CONTINUE, "confirmed: accepted")
		T.rcpt(conn, "<yes@example.net>", SMFIR_REPLYCODE, "single opt-in: refused")
		T.rcpt(conn, "<pend@example.net>", SMFIR_REPLYCODE, "pending: refused")
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE, "never opted in: refused")
		T.headers(conn, {}, "d1")
		T.eom(conn, "D1")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<conf@example.net>", false)
		T.log_has("D1: list=news rcpt=<conf@example.net> verdict=allow reason=confirmed")
		T.log_has("D1: list=news rcpt=<yes@example.net> verdict=deny reason=unconfirmed " ..
		    "action=reject stage=rcpt outcome=rejected")
		T.log_has("D1: list=news rcpt=<pend@example.net> verdict=deny reason=pending")
	end)

	T.case("double opt-in at EOM", function(conn)
		T.mail(conn, "<mailer@elsewhere.example>")
		T.rcpt(conn, "<conf@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<Yes+Tag@Example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" } }, "d2")
		T.eom(conn, "D2")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<conf@example.net>", false)
		T.deleted(conn, "<yes@example.net>", true)
		T.deleted(conn, "<Yes+Tag@Example.net>", true)
	end)

	T.case("double opt-in, nobody confirmed", function(conn)
		T.mail(conn, "<mailer@elsewhere.example>")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" } }, "d3")
		T.eom_reply(conn, "D3", SMFIR_REPLYCODE, "refused whole")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
		    "No recipient may receive bulk mail on list news (unconfirmed)"),
		    "550 5.7.1 says unconfirmed")
	end)

	T.case("confirmation while running", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<late@example.net>", SMFIR_REPLYCODE, "before: refused")
		T.headers(conn, {}, "d4")
		T.eom(conn, "D4")
		T.accepted(conn, "end of message")
		T.ctl("confirm late@example.net --list news")
		T.mail(conn, NEWS)
		T.rcpt(conn, "<late@example.net>", SMFIR_CONTINUE, "confirmed a moment ago: accepted")
		T.headers(conn, {}, "d5")
		T.eom(conn, "D5")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<late@example.net>", false)
	end)
end)
