-- addresses.lua - recipients as MTAs write them: the decision follows the
-- normalised address (case, quotes, blanks, +tag, source route), and a
-- removal names the RCPT argument EXACTLY as given (smfi_delrcpt matches
-- it verbatim).  Domain and .subdomain suppressions, an expired
-- suppression, invalid addresses.
--
-- Store: gone@ and "odd gone"@ unsubscribed from news (drop), yes@
-- subscribed, old@ subscribed with a hard-bounce suppression that expired
-- in 2020; a@ at blocked.example, sub.blocked.example, corp.example,
-- mail.corp.example and othercorp.example all subscribed, with the
-- suppressions "blocked.example" and ".corp.example" (reason invalid:
-- reject).
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local NEWS = "<news@news.example.com>"

	-- Dropped at RCPT time's decision, removed at end of message, verbatim.
	local DROPPED = {
		"<Gone@Example.NET>",
		"<GONE@EXAMPLE.NET>",
		"< gone@example.net>",
		"<gone@example.net >",
		"gone@example.net",
		"<\"gone\"@example.net>",
		"<\"Odd Gone\"@example.net>",
		"<gone+promo@example.net>",
		"<Gone+Spring.Sale@Example.Net>",
		"<@relay.example:gone@example.net>",
	}
	-- Allowed: must stay.
	local KEPT = {
		"<Yes@Example.Net>",
		"<yes+tag@example.net>",
		"<\"yes\"@example.net>",
		"< yes@EXAMPLE.net >",
		"<old@example.net>",
		"<a@sub.blocked.example>",
		"<a@othercorp.example>",
	}
	-- Refused at RCPT time.
	local REFUSED = {
		"<a@blocked.example>",
		"<A@Blocked.Example>",
		"<a@corp.example>",
		"<a@mail.corp.example>",
		"<a@deep.mail.corp.example>",
		"<nobody+yes@example.net>",
	}

	T.case("odd forms decided at RCPT, removed verbatim at EOM", function(conn)
		T.mail(conn, NEWS)
		for _, r in ipairs(DROPPED) do
			T.rcpt(conn, r, SMFIR_CONTINUE, "unsubscribed " .. r .. ": not refused")
		end
		for _, r in ipairs(KEPT) do
			T.rcpt(conn, r, SMFIR_CONTINUE, "allowed " .. r)
		end
		for _, r in ipairs(REFUSED) do
			T.rcpt(conn, r, SMFIR_REPLYCODE, "suppressed or no consent " .. r .. ": refused")
		end
		T.headers(conn, {}, "a1")
		T.eom(conn, "A1")
		T.accepted(conn, "end of message")
		for _, r in ipairs(DROPPED) do T.deleted(conn, r, true) end
		for _, r in ipairs(KEPT) do T.deleted(conn, r, false) end
		for _, r in ipairs(REFUSED) do T.deleted(conn, r, false, "refused at RCPT: ") end
		-- Never a normalised form the MTA does not know.
		T.deleted(conn, "<gone@example.net>", false, "no normalised form: ")
		T.deleted(conn, "gone@example.net ", false, "no normalised form: ")
		T.log_has("A1: list=news rcpt=<gone+promo@example.net> verdict=deny " ..
		    "reason=unsubscribed action=drop stage=rcpt outcome=removed",
		    "+tag: the base address's record decides")
		T.log_has("A1: list=news rcpt=<old@example.net> verdict=allow " ..
		    "reason=subscribed", "an expired suppression is ignored")
		T.log_has("A1: list=news rcpt=<a@blocked.example> verdict=deny reason=invalid",
		    "domain suppression")
		T.log_has("A1: list=news rcpt=<a@mail.corp.example> verdict=deny reason=invalid",
		    ".subdomain suppression covers a subdomain")
		T.log_has("A1: list=news rcpt=<a@corp.example> verdict=deny reason=invalid",
		    ".subdomain suppression covers the domain itself")
		T.log_has("A1: list=news rcpt=<a@sub.blocked.example> verdict=allow",
		    "an exact domain suppression does not cover subdomains")
		T.log_has("A1: list=news rcpt=<a@othercorp.example> verdict=allow",
		    ".corp.example does not cover othercorp.example")
	end)

	T.case("odd forms at EOM", function(conn)
		-- Classified by header: everything is decided, and removed, at the end.
		T.mail(conn, "<mailer@elsewhere.example>")
		for _, r in ipairs(DROPPED) do T.rcpt(conn, r, SMFIR_CONTINUE) end
		for _, r in ipairs(KEPT) do T.rcpt(conn, r, SMFIR_CONTINUE) end
		for _, r in ipairs(REFUSED) do T.rcpt(conn, r, SMFIR_CONTINUE) end
		T.headers(conn, { { "X-Consent-List", "news" } }, "a2")
		T.eom(conn, "A2")
		T.accepted(conn, "end of message")
		for _, r in ipairs(DROPPED) do T.deleted(conn, r, true) end
		for _, r in ipairs(KEPT) do T.deleted(conn, r, false) end
		for _, r in ipairs(REFUSED) do T.deleted(conn, r, true, "to refuse, at EOM: ") end
	end)

	T.case("invalid addresses", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<no-domain>", SMFIR_REPLYCODE, "no domain: refused for bulk")
		T.rcpt(conn, "<two@@example.net>", SMFIR_REPLYCODE, "two @: refused for bulk")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "a3")
		T.eom(conn, "A3")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<no-domain>", false, "refused at RCPT: ")
		T.deleted(conn, "<yes@example.net>", false)
		T.log_has("A3: list=news rcpt=<no-domain> verdict=deny " ..
		    "reason=invalid_address action=reject stage=rcpt outcome=rejected",
		    "the refusal of an invalid address says why")
		T.audit_has('"qid":"A3"', "audits it")
		T.ok(not T.read_file("MT_AUDIT"):find('"reason":"?"', 1, true),
		    "no decision in the audit trail without its reason")
	end)

	T.case("invalid addresses at EOM: removed", function(conn)
		T.mail(conn, "<mailer@elsewhere.example>")
		T.rcpt(conn, "<no-domain>", SMFIR_CONTINUE)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" } }, "a4")
		T.eom(conn, "A4")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<no-domain>", true)
		T.deleted(conn, "<yes@example.net>", false)
	end)
end)
