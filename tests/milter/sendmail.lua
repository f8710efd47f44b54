-- sendmail.lua - the filter in front of Sendmail, as Sendmail 8.17 talks:
-- it names itself by its version in v, sends its queue id i with MAIL
-- (and, because of the way it reads a filter's macro lists, never at the
-- end of the message), and {rcpt_addr} with each RCPT: the user part its
-- rulesets resolved the recipient to.  Sendmail removes a recipient by
-- the RCPT argument exactly as the client gave it (its q_paddr), so that
-- is what the filter hands back; it decides on the mailbox in it, and only
-- when {rcpt_addr} is that mailbox.  The store is described in
-- rcpt_stage.lua.
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.MTA = "8.17.1.9"

T.main(function()
	local NEWS = "<news@news.example.com>"
	local FROM = "<mailer@elsewhere.example>"

	-- mail(conn, sender, qid[, macros]): MAIL as Sendmail sends it, i included.
	local function mail(conn, sender, qid, macros)
		local m = { "i", qid, "{client_addr}", "127.0.0.1",
		    "{client_port}", "40022", "{daemon_name}", "MTA" }
		for _, v in ipairs(macros or {}) do m[#m + 1] = v end
		T.mail(conn, sender, m)
	end

	-- rcpt(conn, raw, rcpt_addr, want[, what]): RCPT with its {rcpt_addr}.
	local function rcpt(conn, raw, rcpt_addr, want, what)
		T.call(mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", "relay",
		    "{rcpt_host}", "[127.0.0.1]", "{rcpt_addr}", rcpt_addr),
		    "mt.macro RCPT")
		return T.rcpt(conn, raw, want, what)
	end

	T.case("queue id from MAIL, removal by the argument as given", function(conn)
		mail(conn, FROM, "6B1Nttqa029270")
		rcpt(conn, "<yes@example.net>", "yes@example.net", SMFIR_CONTINUE)
		rcpt(conn, "<@relay.example:gone@example.net>", "gone@example.net",
		    SMFIR_CONTINUE)
		rcpt(conn, "no@example.net", "no@example.net", SMFIR_CONTINUE)
		rcpt(conn, "<\"Gone\"@Example.NET>", "\"Gone\"@Example.NET",
		    SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" } })
		-- No i at the end of the message: Sendmail does not send it there.
		T.eom(conn, nil)
		T.accepted(conn, "end of message")
		T.deleted(conn, "<@relay.example:gone@example.net>", true, "routed: ")
		T.deleted(conn, "<gone@example.net>", false, "not the Postfix form: ")
		T.deleted(conn, "no@example.net", true, "without brackets: ")
		T.deleted(conn, "<\"Gone\"@Example.NET>", true, "quoted, in its case: ")
		T.deleted(conn, "<yes@example.net>", false)
		T.log_has("MTA: Sendmail (8.17.1.9); recipients are removed by its rules",
		    "says once which MTA it met")
		T.log_has("6B1Nttqa029270: list=news rcpt=<gone@example.net> verdict=deny " ..
		    "reason=unsubscribed action=drop stage=eom outcome=removed",
		    "logs Sendmail's queue id")
		T.audit_has('"qid":"6B1Nttqa029270"', "audits Sendmail's queue id")
	end)

	T.case("refused at RCPT from Sendmail's localhost: no sendmail(1) path", function(conn)
		mail(conn, NEWS, "6B1Nttqa029271", { "{client_port}", "0" })
		rcpt(conn, "<no@example.net>", "no@example.net", SMFIR_REPLYCODE,
		    "never opted in: refused at RCPT")
		rcpt(conn, "<gone@example.net>", "gone@example.net", SMFIR_CONTINUE,
		    "drop: kept for its removal")
		rcpt(conn, "<yes@example.net>", "yes@example.net", SMFIR_CONTINUE)
		T.headers(conn, {})
		T.eom(conn, nil)
		T.accepted(conn, "end of message")
		T.deleted(conn, "<gone@example.net>", true)
		T.log_has("6B1Nttqa029271: list=news rcpt=<no@example.net> verdict=deny " ..
		    "reason=no_consent action=reject stage=rcpt outcome=rejected")
	end)

	T.case("{rcpt_addr} names someone else: refused, or removed", function(conn)
		-- The %-hack resolved to another mailbox than the one in the RCPT.
		mail(conn, NEWS, "6B1Nttqa029272")
		rcpt(conn, "<yes%example.net@relay.example>", "yes@example.net",
		    SMFIR_REPLYCODE, "rewritten at RCPT: refused")
		rcpt(conn, "<yes@example.net>", "yes@example.net", SMFIR_CONTINUE)
		T.headers(conn, {})
		T.eom(conn, nil)
		T.accepted(conn, "end of message")
		T.log_has("6B1Nttqa029272: rcpt=<<yes%example.net@relay.example>>: no " ..
		    "mailbox the MTA is sure to deliver to")
		-- Decided at the end: removed by the argument, which stays sure.
		mail(conn, FROM, "6B1Nttqa029273")
		rcpt(conn, "<yes%example.net@relay.example>", "yes@example.net",
		    SMFIR_CONTINUE)
		rcpt(conn, "<yes@example.net>", "yes@example.net", SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" } })
		T.eom(conn, nil)
		T.accepted(conn, "end of message")
		T.deleted(conn, "<yes%example.net@relay.example>", true, "rewritten: ")
		T.deleted(conn, "<yes@example.net>", false)
	end)

	T.case("a form Sendmail's list parse could split: refused whole", function(conn)
		mail(conn, FROM, "6B1Nttqa029274")
		rcpt(conn, "<yes@example.net>", "yes@example.net", SMFIR_CONTINUE)
		rcpt(conn, "@a.example,@b.example:gone@example.net", "gone@example.net",
		    SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" } })
		T.eom_reply(conn, nil, SMFIR_REPLYCODE, "a comma outside <>: refused")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
		    "Recipient @a.example,@b.example:gone@example.net cannot be " ..
		    "removed from this bulk message with certainty; send it without " ..
		    "a source route or unusual quoting"), "550 5.7.1 naming it")
		T.deleted(conn, "@a.example,@b.example:gone@example.net", false)
		T.log_has("6B1Nttqa029274: message refused: rcpt=@a.example,@b.example:" ..
		    "gone@example.net has no form Sendmail is sure to match")
	end)

	T.case("a form it could not take out again is not refused at RCPT", function(conn)
		-- Sendmail adds the recipient, then takes a refused one out with
		-- removefromlist: this one would stay, and be delivered.
		mail(conn, NEWS, "6B1Nttqa029275")
		rcpt(conn, "<yes@example.net>", "yes@example.net", SMFIR_CONTINUE)
		rcpt(conn, "@a.example,@b.example:no@example.net", "no@example.net",
		    SMFIR_CONTINUE, "never opted in, unsure form: not refused at RCPT")
		rcpt(conn, "<no@example.net>", "no@example.net", SMFIR_REPLYCODE,
		    "the same, in a sure form: refused at RCPT")
		T.headers(conn, {})
		T.eom_reply(conn, nil, SMFIR_REPLYCODE, "refused whole at the end")
		T.deleted(conn, "@a.example,@b.example:no@example.net", false)
		T.log_has("6B1Nttqa029275: message refused: rcpt=@a.example,@b.example:" ..
		    "no@example.net has no form Sendmail is sure to match")
	end)
end)
