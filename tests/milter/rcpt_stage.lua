-- rcpt_stage.lua - an envelope rule makes the message bulk at MAIL, so each
-- recipient is decided at RCPT: reject answers there (SMFIR_REPLYCODE, the
-- 550 5.7.1 set with smfi_setreply), every other action is carried out at
-- end of message.  Also: each kind of envelope rule.
--
-- The store (see test_miltertest.sh), list "news": yes subscribed, pend
-- pending, no never opted in, gone unsubscribed (drop), all unsubscribed
-- from every list (drop), soft soft-bounced (drop), bounce hard-bounced
-- (redirect to hold@example.org), angry complained (tag), held suppressed
-- by hand (quarantine).  fan@example.net is on list "promo", yes also on
-- "default".
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local NEWS = "<news@news.example.com>"
	local SMTPD = { "{daemon_name}", "smtpd", "{client_addr}", "192.0.2.25",
	    "{client_port}", "41234" }

	T.case("reject at RCPT", function(conn)
		T.mail(conn, NEWS, SMTPD)
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE, "never opted in: refused")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE, "subscribed: accepted")
		T.rcpt(conn, "<pend@example.net>", SMFIR_REPLYCODE, "pending: refused")
		T.headers(conn, {}, "r1")
		T.eom(conn, "R1")
		T.accepted(conn, "end of message")
		-- Refused recipients are not in the message: nothing to remove.
		T.no_edits(conn, "after refusals", { "<no@example.net>",
		    "<yes@example.net>", "<pend@example.net>" })
		T.log_has("R1: list=news rcpt=<no@example.net> verdict=deny " ..
		    "reason=no_consent action=reject stage=rcpt outcome=rejected")
		T.log_has("R1: list=news rcpt=<pend@example.net> verdict=deny " ..
		    "reason=pending action=reject stage=rcpt outcome=rejected")
		T.log_has("R1: list=news rcpt=<yes@example.net> verdict=allow " ..
		    "reason=subscribed action=none stage=rcpt outcome=accepted")
	end)

	T.case("drop", function(conn)
		T.mail(conn, NEWS, SMTPD)
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE, "unsubscribed: not refused")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "r2")
		T.eom(conn, "R2")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<gone@example.net>", true)
		T.deleted(conn, "<yes@example.net>", false)
		T.ok(not mt.eom_check(conn, MT_HDRADD), "no header added")
		T.ok(not mt.eom_check(conn, MT_QUARANTINE), "not held")
		T.log_has("R2: list=news rcpt=<gone@example.net> verdict=deny " ..
		    "reason=unsubscribed action=drop stage=rcpt outcome=removed")
	end)

	T.case("drop every recipient", function(conn)
		T.mail(conn, NEWS, SMTPD)
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<all@example.net>", SMFIR_CONTINUE, "unsubscribed from all: not refused")
		T.rcpt(conn, "<soft@example.net>", SMFIR_CONTINUE, "soft bounce: not refused")
		T.headers(conn, {}, "r3")
		T.eom_reply(conn, "R3", SMFIR_DISCARD, "nobody left: discarded")
		T.log_has("R3: list=news rcpt=<all@example.net> verdict=deny " ..
		    "reason=unsubscribed_all action=drop stage=rcpt outcome=discarded")
		T.log_has("R3: list=news rcpt=<soft@example.net> verdict=deny " ..
		    "reason=soft_bounce action=drop stage=rcpt outcome=discarded")
	end)

	T.case("redirect, alone", function(conn)
		T.mail(conn, NEWS, SMTPD)
		T.rcpt(conn, "<bounce@example.net>", SMFIR_CONTINUE, "hard bounce: not refused")
		T.headers(conn, {}, "r4")
		T.eom(conn, "R4")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<bounce@example.net>", true)
		T.ok(mt.eom_check(conn, MT_RCPTADD, "hold@example.org"),
		    "adds the holding mailbox")
		-- Nobody else sees the message: the header may name the recipient.
		T.header_is(conn, "X-Consent-Redirected-For",
		    "<bounce@example.net>; reason=hard_bounce; list=news")
		T.ok(not mt.eom_check(conn, MT_HDRADD, "X-Consent-Redirected"),
		    "no summary header")
		T.log_has("R4: list=news rcpt=<bounce@example.net> verdict=deny " ..
		    "reason=hard_bounce action=redirect stage=rcpt outcome=redirected")
	end)

	T.case("redirect, among others", function(conn)
		T.mail(conn, NEWS, SMTPD)
		T.rcpt(conn, "<bounce@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "r5")
		T.eom(conn, "R5")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<bounce@example.net>", true)
		T.deleted(conn, "<yes@example.net>", false)
		T.ok(mt.eom_check(conn, MT_RCPTADD, "hold@example.org"),
		    "adds the holding mailbox")
		-- yes@ gets the message too: it must not learn who was redirected.
		T.ok(not mt.eom_check(conn, MT_HDRADD, "X-Consent-Redirected-For"),
		    "names no redirected recipient to the others")
		T.header_is(conn, "X-Consent-Redirected",
		    "1 recipients; see the log for queue id R5")
	end)

	T.case("tag", function(conn)
		T.mail(conn, NEWS, SMTPD)
		T.rcpt(conn, "<angry@example.net>", SMFIR_CONTINUE, "complaint: not refused")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "r6")
		T.eom(conn, "R6")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<angry@example.net>", false, "tag: ")
		T.deleted(conn, "<yes@example.net>", false)
		T.header_is(conn, "X-Consent", "deny; reason=complaint; list=news; recipients=1")
		T.ok(not mt.eom_check(conn, MT_QUARANTINE), "not held")
		T.log_has("R6: list=news rcpt=<angry@example.net> verdict=deny " ..
		    "reason=complaint action=tag stage=rcpt outcome=tagged")
	end)

	T.case("quarantine", function(conn)
		T.mail(conn, NEWS, SMTPD)
		T.rcpt(conn, "<held@example.net>", SMFIR_CONTINUE, "manual suppression: not refused")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "r7")
		T.eom(conn, "R7")
		T.accepted(conn, "end of message")
		T.ok(mt.eom_check(conn, MT_QUARANTINE, "consent-milter: manual on list news"),
		    "holds the message, saying why")
		T.deleted(conn, "<held@example.net>", false, "quarantine: ")
		T.deleted(conn, "<yes@example.net>", false)
		T.log_has("R7: list=news rcpt=<held@example.net> verdict=deny " ..
		    "reason=manual action=quarantine stage=rcpt outcome=held")
	end)

	T.case("every action in one message", function(conn)
		T.mail(conn, NEWS, SMTPD)
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE)
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<bounce@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<angry@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<held@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, "r8")
		T.eom(conn, "R8")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<no@example.net>", false, "refused at RCPT: ")
		T.deleted(conn, "<gone@example.net>", true)
		T.deleted(conn, "<bounce@example.net>", true)
		T.deleted(conn, "<angry@example.net>", false)
		T.deleted(conn, "<held@example.net>", false)
		T.deleted(conn, "<yes@example.net>", false)
		T.ok(mt.eom_check(conn, MT_RCPTADD, "hold@example.org"), "redirects")
		T.header_is(conn, "X-Consent-Redirected",
		    "1 recipients; see the log for queue id R8")
		T.header_is(conn, "X-Consent", "deny; reason=complaint; list=news; recipients=1")
		T.ok(mt.eom_check(conn, MT_QUARANTINE, "consent-milter: manual on list news"),
		    "holds the message")
	end)

	-- Each kind of envelope rule, shown by a refusal at RCPT time.
	local function rule_case(name, sender, macros, refused, accepted)
		T.case(name, function(conn)
			T.mail(conn, sender, macros)
			for _, r in ipairs(refused) do
				T.rcpt(conn, r, SMFIR_REPLYCODE, "bulk at RCPT: refuses " .. r)
			end
			for _, r in ipairs(accepted) do
				T.rcpt(conn, r, SMFIR_CONTINUE, "accepts " .. r)
			end
			T.headers(conn, {})
			T.eom(conn, nil)
			T.accepted(conn, "end of message")
		end)
	end

	rule_case("rule: sender", "<digest@example.com>", {},
	    { "<no@example.net>" }, { "<yes@example.net>" })
	rule_case("rule: sender, case of the domain", "<digest@EXAMPLE.com>", {},
	    { "<no@example.net>" }, { "<yes@example.net>" })
	rule_case("rule: .subdomain, a subdomain", "<offers@mail.promo.example.com>", {},
	    { "<yes@example.net>" }, { "<fan@example.net>" })
	rule_case("rule: .subdomain, the domain", "<offers@promo.example.com>", {},
	    { "<no@example.net>" }, { "<fan@example.net>" })
	rule_case("rule: sender_domain, no list: the default list",
	    "<x@plain.example.com>", {}, { "<conf@example.net>" }, { "<yes@example.net>" })
	rule_case("rule: sasl_login", "<someone@elsewhere.example>",
	    { "{auth_authen}", "mailer" }, { "<no@example.net>" }, { "<yes@example.net>" })
	rule_case("rule: daemon_name", "<someone@elsewhere.example>",
	    { "{daemon_name}", "bulk-submission" }, { "<no@example.net>" },
	    { "<yes@example.net>" })

	-- Near misses: no rule matches, the class waits for the headers (none
	-- here), so nobody is refused at RCPT and the message passes untouched.
	local function miss_case(name, sender, macros)
		T.case(name, function(conn)
			T.mail(conn, sender, macros)
			T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE, "not bulk at RCPT")
			T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE)
			T.headers(conn, {})
			T.eom(conn, nil)
			T.accepted(conn, "end of message")
			T.no_edits(conn, name, { "<no@example.net>", "<gone@example.net>" })
		end)
	end

	miss_case("miss: other subdomain", "<offers@notpromo.example.com>", {})
	miss_case("miss: subdomain of an exact sender_domain",
	    "<news@mail.news.example.com>", {})
	miss_case("miss: other SASL login", "<someone@elsewhere.example>",
	    { "{auth_authen}", "mailer2" })
	miss_case("miss: other service", "<someone@elsewhere.example>",
	    { "{daemon_name}", "smtpd" })

	T.case("the envelope's list wins over a list header", function(conn)
		T.mail(conn, NEWS, SMTPD)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE, "on news: accepted")
		T.rcpt(conn, "<fan@example.net>", SMFIR_REPLYCODE, "not on news: refused")
		T.headers(conn, { { "X-Consent-List", "promo" } }, "r9")
		T.eom(conn, "R9")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<yes@example.net>", false)
		T.ok(mt.eom_check(conn, MT_HDRDELETE, "X-Consent-List"),
		    "strips the list header all the same")
	end)
end)
