-- eom_stage.lua - no envelope rule matches: the headers classify the
-- message at end of message (X-Consent-List, then List-Id, then
-- Precedence), and every decision is carried out there: a recipient to be
-- refused is removed instead, and a message left with nobody is refused
-- whole (550 5.7.1 through SMFIR_REPLYCODE) or discarded.
-- The store is described in rcpt_stage.lua; yes@ is also on the lists
-- "news.example.com" and "default".
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local FROM = "<mailer@elsewhere.example>"

	-- send(conn, qid, rcpts, headers): a message whose recipients must all be
	-- accepted at RCPT time (the class is not known yet).
	local function send(conn, qid, rcpts, headers)
		T.mail(conn, FROM)
		for _, r in ipairs(rcpts) do
			T.rcpt(conn, r, SMFIR_CONTINUE, "class unknown at RCPT: accepts " .. r)
		end
		T.headers(conn, headers, qid)
		return T.eom(conn, qid)
	end

	T.case("reject at EOM: removed", function(conn)
		send(conn, "E1", { "<no@example.net>", "<yes@example.net>" },
		    { { "X-Consent-List", "news" } })
		T.accepted(conn, "end of message")
		T.deleted(conn, "<no@example.net>", true, "never opted in: ")
		T.deleted(conn, "<yes@example.net>", false)
		T.ok(mt.eom_check(conn, MT_HDRDELETE, "X-Consent-List", 1),
		    "strips the list header")
		T.log_has("E1: list=news rcpt=<no@example.net> verdict=deny " ..
		    "reason=no_consent action=reject stage=eom outcome=removed")
		T.log_has("E1: list=news rcpt=<yes@example.net> verdict=allow " ..
		    "reason=subscribed action=none stage=eom outcome=accepted")
	end)

	T.case("reject at EOM: nobody left, refused", function(conn)
		send(conn, "E2", { "<no@example.net>", "<pend@example.net>" },
		    { { "X-Consent-List", "news" } })
		T.reply(conn, SMFIR_REPLYCODE, "end of message")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
		    "No recipient may receive bulk mail on list news (no_consent)"),
		    "550 5.7.1 names the list and the first reason")
		T.log_has("E2: list=news rcpt=<pend@example.net> verdict=deny " ..
		    "reason=pending action=reject stage=eom outcome=rejected")
	end)

	T.case("drop at EOM", function(conn)
		send(conn, "E3", { "<gone@example.net>", "<yes@example.net>" },
		    { { "X-Consent-List", "news" } })
		T.accepted(conn, "end of message")
		T.deleted(conn, "<gone@example.net>", true)
		T.deleted(conn, "<yes@example.net>", false)
		T.ok(not mt.eom_check(conn, MT_HDRADD), "no header added")
	end)

	T.case("drop at EOM: nobody left, discarded", function(conn)
		send(conn, "E4", { "<gone@example.net>", "<soft@example.net>" },
		    { { "X-Consent-List", "news" } })
		T.reply(conn, SMFIR_DISCARD, "end of message")
	end)

	T.case("reject and drop: nobody left, refused", function(conn)
		-- One recipient to refuse is enough to refuse the whole message.
		send(conn, "E5", { "<gone@example.net>", "<no@example.net>" },
		    { { "X-Consent-List", "news" } })
		T.reply(conn, SMFIR_REPLYCODE, "end of message")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
		    "No recipient may receive bulk mail on list news (no_consent)"),
		    "550 5.7.1")
	end)

	T.case("redirect at EOM", function(conn)
		send(conn, "E6", { "<bounce@example.net>" }, { { "X-Consent-List", "news" } })
		T.accepted(conn, "end of message")
		T.deleted(conn, "<bounce@example.net>", true)
		T.ok(mt.eom_check(conn, MT_RCPTADD, "hold@example.org"), "adds the holding mailbox")
		T.header_is(conn, "X-Consent-Redirected-For",
		    "<bounce@example.net>; reason=hard_bounce; list=news")
		T.ok(mt.eom_check(conn, MT_HDRDELETE, "X-Consent-List"), "strips the list header")
	end)

	T.case("tag at EOM", function(conn)
		send(conn, "E7", { "<angry@example.net>", "<yes@example.net>" },
		    { { "X-Consent-List", "news" } })
		T.accepted(conn, "end of message")
		T.deleted(conn, "<angry@example.net>", false)
		T.header_is(conn, "X-Consent", "deny; reason=complaint; list=news; recipients=1")
	end)

	T.case("quarantine at EOM", function(conn)
		send(conn, "E8", { "<held@example.net>" }, { { "X-Consent-List", "news" } })
		T.accepted(conn, "end of message")
		T.ok(mt.eom_check(conn, MT_QUARANTINE, "consent-milter: manual on list news"),
		    "holds the message")
		T.deleted(conn, "<held@example.net>", false)
	end)

	T.case("every action at EOM", function(conn)
		send(conn, "E9", { "<no@example.net>", "<gone@example.net>",
		    "<bounce@example.net>", "<angry@example.net>", "<held@example.net>",
		    "<yes@example.net>" }, { { "X-Consent-List", "news" } })
		T.accepted(conn, "end of message")
		T.deleted(conn, "<no@example.net>", true)
		T.deleted(conn, "<gone@example.net>", true)
		T.deleted(conn, "<bounce@example.net>", true)
		T.deleted(conn, "<angry@example.net>", false)
		T.deleted(conn, "<held@example.net>", false)
		T.deleted(conn, "<yes@example.net>", false)
		T.ok(mt.eom_check(conn, MT_RCPTADD, "hold@example.org"), "redirects")
		T.header_is(conn, "X-Consent-Redirected",
		    "1 recipients; see the log for queue id E9")
		T.header_is(conn, "X-Consent", "deny; reason=complaint; list=news; recipients=1")
		T.ok(mt.eom_check(conn, MT_QUARANTINE), "holds the message")
		T.ok(mt.eom_check(conn, MT_HDRDELETE, "X-Consent-List"), "strips the list header")
	end)

	T.case("List-Id", function(conn)
		send(conn, "E10", { "<no@example.net>", "<yes@example.net>" },
		    { { "List-Id", "Example News <news.example.com>" } })
		T.accepted(conn, "end of message")
		T.deleted(conn, "<no@example.net>", true)
		T.deleted(conn, "<yes@example.net>", false, "on news.example.com: ")
		T.ok(not mt.eom_check(conn, MT_HDRDELETE), "List-Id is kept")
		T.log_has("E10: list=news.example.com rcpt=<yes@example.net> verdict=allow")
	end)

	T.case("List-Id, all refused", function(conn)
		send(conn, "E11", { "<no@example.net>" },
		    { { "List-Id", "<news.example.com>" } })
		T.reply(conn, SMFIR_REPLYCODE, "end of message")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
		    "No recipient may receive bulk mail on list news.example.com (no_consent)"),
		    "550 5.7.1 names the List-Id")
	end)

	T.case("Precedence: bulk", function(conn)
		send(conn, "E12", { "<conf@example.net>", "<yes@example.net>" },
		    { { "Precedence", "bulk" } })
		T.accepted(conn, "end of message")
		T.deleted(conn, "<conf@example.net>", true, "not on the default list: ")
		T.deleted(conn, "<yes@example.net>", false, "on the default list: ")
		T.log_has("E12: list=default rcpt=<conf@example.net> verdict=deny " ..
		    "reason=no_consent action=reject stage=eom outcome=removed")
	end)

	T.case("Precedence: list", function(conn)
		send(conn, "E13", { "<conf@example.net>" }, { { "Precedence", " List " } })
		T.reply(conn, SMFIR_REPLYCODE, "end of message")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
		    "No recipient may receive bulk mail on list default (no_consent)"),
		    "550 5.7.1 on the default list")
	end)

	-- Header values are read without their comments (RFC 5322 CFWS).
	T.case("Precedence: list (mailing list)", function(conn)
		send(conn, "E13b", { "<no@example.net>", "<yes@example.net>" },
		    { { "Precedence", "list (mailing list)" } })
		T.accepted(conn, "end of message")
		T.deleted(conn, "<no@example.net>", true, "never opted in: ")
		T.deleted(conn, "<yes@example.net>", false, "on the default list: ")
		T.log_has("E13b: list=default rcpt=<no@example.net> verdict=deny " ..
		    "reason=no_consent action=reject stage=eom outcome=removed")
	end)

	T.case("Precedence: (comment) bulk, folded", function(conn)
		send(conn, "E13c", { "<no@example.net>" },
		    { { "Precedence", "(weekly\r\n\t digest) bulk" } })
		T.reply(conn, SMFIR_REPLYCODE, "end of message")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
		    "No recipient may receive bulk mail on list default (no_consent)"),
		    "550 5.7.1 on the default list")
	end)

	T.case("an unreadable Precedence fails closed", function(conn)
		send(conn, "E13d", { "<yes@example.net>", "<no@example.net>" },
		    { { "Precedence", "bulk (unbalanced" } })
		T.reply(conn, SMFIR_REPLYCODE, "end of message")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
		    "No recipient may receive bulk mail on list (invalid) (unknown_list)"),
		    "550 5.7.1, bulk on no list")
		T.log_has("E13d: list=- rcpt=<yes@example.net> verdict=deny " ..
		    "reason=unknown_list")
	end)

	T.case("List-Id: the id outside comments and quotes", function(conn)
		send(conn, "E13e", { "<yes@example.net>", "<no@example.net>" },
		    { { "List-Id", '"News <list>" <news.example.com> (was <evil.example>)' } })
		T.accepted(conn, "end of message")
		T.deleted(conn, "<yes@example.net>", false, "on news.example.com: ")
		T.deleted(conn, "<no@example.net>", true)
		T.log_has("E13e: list=news.example.com rcpt=<yes@example.net> verdict=allow")
	end)

	T.case("the list header wins over List-Id and Precedence", function(conn)
		send(conn, "E14", { "<conf@example.net>", "<fan@example.net>" },
		    { { "Precedence", "bulk" }, { "List-Id", "<news.example.com>" },
		    { "x-consent-list", " promo " } })
		T.accepted(conn, "end of message")
		T.deleted(conn, "<conf@example.net>", true, "not on promo: ")
		T.deleted(conn, "<fan@example.net>", false, "on promo: ")
		T.ok(mt.eom_check(conn, MT_HDRDELETE, "X-Consent-List", 1),
		    "strips the list header, whatever its case")
	end)

	T.case("List-Id wins over Precedence", function(conn)
		send(conn, "E15", { "<yes@example.net>", "<no@example.net>" },
		    { { "Precedence", "bulk" }, { "List-Id", "<news.example.com>" } })
		T.accepted(conn, "end of message")
		T.log_has("E15: list=news.example.com rcpt=<yes@example.net> verdict=allow")
		T.deleted(conn, "<no@example.net>", true)
	end)

	T.case("two list headers: the first counts, both go", function(conn)
		send(conn, "E16", { "<fan@example.net>", "<yes@example.net>" },
		    { { "X-Consent-List", "promo" }, { "X-Consent-List", "news" } })
		T.accepted(conn, "end of message")
		T.deleted(conn, "<fan@example.net>", false, "on promo: ")
		T.deleted(conn, "<yes@example.net>", true, "not on promo: ")
		T.ok(mt.eom_check(conn, MT_HDRDELETE, "X-Consent-List", 1) and
		    mt.eom_check(conn, MT_HDRDELETE, "X-Consent-List", 2),
		    "removes both list headers")
	end)

	T.case("an invalid list name fails closed", function(conn)
		send(conn, "E17", { "<yes@example.net>", "<fan@example.net>" },
		    { { "X-Consent-List", "no such list!" } })
		T.reply(conn, SMFIR_REPLYCODE, "end of message")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
		    "No recipient may receive bulk mail on list (invalid) (unknown_list)"),
		    "550 5.7.1 for an invalid list")
		T.log_has("E17: list=- rcpt=<yes@example.net> verdict=deny " ..
		    "reason=unknown_list action=reject stage=eom outcome=rejected")
	end)

	T.case("an invalid List-Id fails closed", function(conn)
		send(conn, "E17b", { "<yes@example.net>", "<gone@example.net>" },
		    { { "List-Id", "Odd <" .. string.rep("x", 300) .. ".example.com>" } })
		T.reply(conn, SMFIR_REPLYCODE, "end of message")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
		    "No recipient may receive bulk mail on list (invalid) (unknown_list)"),
		    "550 5.7.1 for a List-Id too long to store")
	end)

	T.case("transactional: no marker at all", function(conn)
		send(conn, "E18", { "<no@example.net>", "<gone@example.net>",
		    "<bounce@example.net>", "<held@example.net>" },
		    { { "Precedence", "first-class" }, { "List-Unsubscribe", "<mailto:u@x>" } })
		T.accepted(conn, "end of message")
		T.no_edits(conn, "transactional", { "<no@example.net>", "<gone@example.net>",
		    "<bounce@example.net>", "<held@example.net>" })
	end)
end)
