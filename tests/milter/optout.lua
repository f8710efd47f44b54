-- optout.lua - the opt-out model: everyone may get bulk mail but those who
-- unsubscribed (from the list or from all lists) or are suppressed.
-- Same store and actions as the main daemon (see rcpt_stage.lua).
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local NEWS = "<news@news.example.com>"

	T.case("opt-out at RCPT", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE, "never opted in: allowed")
		T.rcpt(conn, "<stranger@nowhere.example>", SMFIR_CONTINUE, "unknown: allowed")
		T.rcpt(conn, "<pend@example.net>", SMFIR_CONTINUE, "pending: allowed")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE, "unsubscribed: dropped later")
		T.rcpt(conn, "<all@example.net>", SMFIR_CONTINUE, "left all lists: dropped later")
		T.rcpt(conn, "<bounce@example.net>", SMFIR_CONTINUE, "hard bounce: redirected later")
		T.rcpt(conn, "<a@blocked.example>", SMFIR_REPLYCODE, "suppressed domain: refused")
		T.headers(conn, {}, "o1")
		T.eom(conn, "O1")
		T.accepted(conn, "end of message")
		for _, r in ipairs({ "<no@example.net>", "<stranger@nowhere.example>",
		    "<pend@example.net>", "<yes@example.net>" }) do
			T.deleted(conn, r, false)
		end
		T.deleted(conn, "<gone@example.net>", true)
		T.deleted(conn, "<all@example.net>", true)
		T.deleted(conn, "<bounce@example.net>", true)
		T.ok(mt.eom_check(conn, MT_RCPTADD, "hold@example.org"), "redirects")
		T.log_has("O1: list=news rcpt=<no@example.net> verdict=allow reason=opt_out")
		T.log_has("O1: list=news rcpt=<stranger@nowhere.example> verdict=allow reason=opt_out")
	end)

	T.case("opt-out at EOM, on a list nobody has a record for", function(conn)
		T.mail(conn, "<mailer@elsewhere.example>")
		for _, r in ipairs({ "<gone@example.net>", "<all@example.net>",
		    "<no@example.net>", "<angry@example.net>" }) do
			T.rcpt(conn, r, SMFIR_CONTINUE)
		end
		T.headers(conn, { { "X-Consent-List", "brand-new" } }, "o2")
		T.eom(conn, "O2")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<gone@example.net>", false, "left only news: ")
		T.deleted(conn, "<all@example.net>", true, "left every list: ")
		T.deleted(conn, "<no@example.net>", false)
		T.header_is(conn, "X-Consent", "deny; reason=complaint; list=brand-new; recipients=1")
	end)

	T.case("opt-out, all dropped: discarded", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<soft@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "o3")
		T.eom_reply(conn, "O3", SMFIR_DISCARD, "nobody left")
	end)

	T.case("opt-out, an invalid list name fails closed", function(conn)
		-- No record means allowed under opt-out: a list that cannot be stored
		-- must not make everyone allowed, gone@ (who left "news") included.
		T.mail(conn, "<mailer@elsewhere.example>")
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "News Letter!" } }, "o4")
		T.eom_reply(conn, "O4", SMFIR_REPLYCODE, "refused whole")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
		    "No recipient may receive bulk mail on list (invalid) (unknown_list)"),
		    "550 5.7.1, unknown list")
		T.log_has("O4: list=- rcpt=<gone@example.net> verdict=deny reason=unknown_list")
	end)
end)
