-- late.lua - FAIL CLOSED: the daemon starts with no store at all.  Bulk
-- mail is tempfailed (451 4.3.0 through SMFIR_REPLYCODE, at RCPT or at end
-- of message), transactional mail passes untouched.  Then the store appears
-- (made with consentctl, LATE_CTL): within about a second the daemon opens
-- it and decides normally.
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local NEWS = "<news@news.example.com>"

	T.case("no store: bulk at RCPT tempfailed", function(conn)
		T.log_has("store unavailable, bulk mail is tempfailed", "warns at start")
		T.mail(conn, NEWS)
		T.rcpt(conn, "<yes@example.net>", SMFIR_REPLYCODE, "451 4.3.0")
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE, "451 4.3.0")
		T.headers(conn, {}, "late1")
		T.eom(conn, "LATE1")
		T.accepted(conn, "end of message (nobody left in it)")
		T.log_has("LATE1: list=news rcpt=<yes@example.net> verdict=tempfail " ..
		    "reason=store_error action=tempfail stage=rcpt outcome=tempfailed")
	end)

	T.case("no store: bulk at EOM tempfailed", function(conn)
		T.mail(conn, "<mailer@elsewhere.example>")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" } }, "late2")
		T.eom_reply(conn, "LATE2", SMFIR_REPLYCODE, "end of message")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0",
		    "Consent store unavailable, try again later"), "451 4.3.0")
		T.ok(not mt.eom_check(conn, MT_RCPTDELETE, "<yes@example.net>") and
		    not mt.eom_check(conn, MT_HDRDELETE), "and no edit")
	end)

	T.case("no store: non-SMTP bulk held whole", function(conn)
		T.mail(conn, NEWS, { "{client_addr}", "127.0.0.1", "{client_port}", "0" })
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE, "non-SMTP: never refused")
		T.headers(conn, {}, "late3")
		T.eom_reply(conn, "LATE3", SMFIR_REPLYCODE, "end of message")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0",
		    "Consent store unavailable, try again later"), "451 4.3.0")
	end)

	T.case("no store: transactional mail passes", function(conn)
		T.mail(conn, "<receipts@news.example.com>")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "late4")
		T.eom(conn, "LATE4")
		T.accepted(conn, "transactional by rule")
		T.no_edits(conn, "transactional by rule", { "<yes@example.net>", "<no@example.net>" })
		T.mail(conn, "<someone@elsewhere.example>")
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "late5")
		T.eom(conn, "LATE5")
		T.accepted(conn, "no bulk marker")
		T.no_edits(conn, "no bulk marker", { "<no@example.net>" })
	end)

	T.case("the store appears", function(conn)
		local ctl = T.env("LATE_CTL")
		T.sh(ctl .. " init", "consentctl init")
		T.sh(ctl .. " subscribe yes@example.net --list news", "consentctl subscribe")
		local t0 = os.time()
		local got
		for _ = 1, 40 do
			T.call(mt.macro(conn, SMFIC_MAIL, "{mail_addr}", NEWS, "v",
			    T.MTA), "mt.macro")
			T.call(mt.mailfrom(conn, NEWS), "mt.mailfrom")
			got = T.rcpt_quiet(conn, "<yes@example.net>")
			T.call(mt.abort(conn), "mt.abort")
			if got == SMFIR_CONTINUE then break end
			mt.sleep(0.1)
		end
		local waited = os.time() - t0
		T.eq(T.rname(got), "CONTINUE", "a subscriber is accepted once the store is there")
		T.ok(waited <= 3, "within about a second", waited .. " s")
		T.ok(T.wait_log("(recovered)", 2), "logs that the store was opened late")
		T.mail(conn, NEWS)
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE, "never opted in: refused, not tempfailed")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "late6")
		T.eom(conn, "LATE6")
		T.accepted(conn, "end of message")
		T.log_has("LATE6: list=news rcpt=<no@example.net> verdict=deny reason=no_consent")
		T.mail(conn, "<mailer@elsewhere.example>")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" } }, "late7")
		T.eom(conn, "LATE7")
		T.accepted(conn, "classified at EOM: decided normally")
		T.deleted(conn, "<no@example.net>", true)
		T.deleted(conn, "<yes@example.net>", false)
	end)
end)
