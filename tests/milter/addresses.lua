-- addresses.lua - recipients as MTAs write them: the decision follows the
-- normalised address (case, quotes, +tag, source route), and a removal
-- names the recipient in the form Postfix's cleanup matches: what smtpd
-- recorded, i.e. the argument without its source route or blanks, in <>.
-- A form outside RFC 5321 (a blank inside the mailbox, a route after a
-- blank), which no removal can be sure to match, is refused.  Domain and .subdomain suppressions, an expired
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

	-- Dropped at RCPT time's decision, removed at end of message: the
	-- RCPT argument, then the form the removal must name.
	local DROPPED = {
		{ "<Gone@Example.NET>", "<Gone@Example.NET>" },
		{ "<GONE@EXAMPLE.NET>", "<GONE@EXAMPLE.NET>" },
		{ "gone@example.net", "<gone@example.net>" },
		{ "<\"gone\"@example.net>", "<\"gone\"@example.net>" },
		{ "<\"Odd Gone\"@example.net>", "<\"Odd Gone\"@example.net>" },
		{ "<gone+promo@example.net>", "<gone+promo@example.net>" },
		{ "<Gone+Spring.Sale@Example.Net>", "<Gone+Spring.Sale@Example.Net>" },
		{ "<@relay.example:gone@example.net>", "<gone@example.net>" },
		{ "<@a.example,@b.example:GONE@example.net>", "<GONE@example.net>" },
		{ "<@x.example:\"gone\"@example.net>", "<\"gone\"@example.net>" },
		{ "<@[192.0.2.1]:gone@example.net>", "<gone@example.net>" },
		{ "< gone@example.net>", "<gone@example.net>" },
		{ "<gone@example.net >", "<gone@example.net>" },
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
	-- No form the MTA is sure to match: refused whatever the store says
	-- (yes@ is subscribed), since neither a removal nor the address
	-- looked up could be trusted.
	local UNSURE = {
		"< @relay.example:yes@example.net>",
		"<yes @example.net>",
		"<@[IPv6:2001:db8::1]:yes@example.net>",
		"<yes(comment)@example.net>",
	}

	T.case("odd forms decided at RCPT, removed in cleanup's form at EOM", function(conn)
		T.mail(conn, NEWS)
		for _, r in ipairs(DROPPED) do
			T.rcpt(conn, r[1], SMFIR_CONTINUE, "unsubscribed " .. r[1] .. ": not refused")
		end
		for _, r in ipairs(KEPT) do
			T.rcpt(conn, r, SMFIR_CONTINUE, "allowed " .. r)
		end
		for _, r in ipairs(REFUSED) do
			T.rcpt(conn, r, SMFIR_REPLYCODE, "suppressed or no consent " .. r .. ": refused")
		end
		for _, r in ipairs(UNSURE) do
			T.rcpt(conn, r, SMFIR_REPLYCODE, "no sure form " .. r .. ": refused")
		end
		T.headers(conn, {}, "a1")
		T.eom(conn, "A1")
		T.accepted(conn, "end of message")
		for _, r in ipairs(DROPPED) do T.deleted(conn, r[2], true) end
		for _, r in ipairs(KEPT) do T.deleted(conn, r, false) end
		for _, r in ipairs(REFUSED) do T.deleted(conn, r, false, "refused at RCPT: ") end
		-- Never a route, which cleanup would not match.
		T.deleted(conn, "<@relay.example:gone@example.net>", false, "never the routed form: ")
		T.deleted(conn, "gone@example.net", false, "never without <>: ")
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
		T.log_has("rcpt=<@[IPv6:2001:db8::1]:yes@example.net> verdict=deny " ..
		    "reason=invalid_address action=reject stage=rcpt outcome=rejected",
		    "a route Postfix would cut elsewhere: refused as invalid")
	end)

	T.case("odd forms at EOM", function(conn)
		-- Classified by header: everything is decided, and removed, at the end.
		T.mail(conn, "<mailer@elsewhere.example>")
		for _, r in ipairs(DROPPED) do T.rcpt(conn, r[1], SMFIR_CONTINUE) end
		for _, r in ipairs(KEPT) do T.rcpt(conn, r, SMFIR_CONTINUE) end
		for _, r in ipairs(REFUSED) do T.rcpt(conn, r, SMFIR_CONTINUE) end
		T.headers(conn, { { "X-Consent-List", "news" } }, "a2")
		T.eom(conn, "A2")
		T.accepted(conn, "end of message")
		for _, r in ipairs(DROPPED) do T.deleted(conn, r[2], true) end
		for _, r in ipairs(KEPT) do T.deleted(conn, r, false) end
		for _, r in ipairs(REFUSED) do T.deleted(conn, r, true, "to refuse, at EOM: ") end
	end)

	T.case("a form no removal can be sure of, at EOM: the whole message refused", function(conn)
		for i, u in ipairs(UNSURE) do
			T.mail(conn, "<mailer@elsewhere.example>")
			T.rcpt(conn, "<Yes@Example.Net>", SMFIR_CONTINUE)
			T.rcpt(conn, u, SMFIR_CONTINUE)
			T.headers(conn, { { "X-Consent-List", "news" } }, "u" .. i)
			T.eom_reply(conn, "U" .. i, SMFIR_REPLYCODE, "refused whole: " .. u)
			T.deleted(conn, "<Yes@Example.Net>", false, "nothing edited: ")
			T.ok(not mt.eom_check(conn, MT_HDRADD), "no header added: " .. u)
			T.log_has("U" .. i .. ": message refused: rcpt=", "says why: " .. u)
			T.log_has("U" .. i .. ": list=news rcpt=<yes@example.net> verdict=allow " ..
			    "reason=subscribed action=none stage=eom outcome=rejected",
			    "the allowed one's outcome is the message's: " .. u)
		end
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
