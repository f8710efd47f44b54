-- negotiate.lua - what the filter asks of the MTA, and transactional mail
-- passing untouched.
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	T.case("negotiation", function(conn)
		-- Stages it does not need are negotiated away (each costs Postfix a
		-- round trip); it needs MAIL, RCPT and the headers.
		for _, o in ipairs({ "NOCONNECT", "NOHELO", "NOEOH", "NOBODY", "NODATA",
		    "NOUNKNOWN", "NR_MAIL", "NR_HDR" }) do
			T.ok(mt.test_option(conn, _G["SMFIP_" .. o]), "asks for SMFIP_" .. o)
		end
		for _, o in ipairs({ "NOMAIL", "NORCPT", "NOHDRS", "NR_RCPT" }) do
			T.ok(not mt.test_option(conn, _G["SMFIP_" .. o]),
			    "does not ask for SMFIP_" .. o)
		end
		for _, a in ipairs({ "ADDHDRS", "CHGHDRS", "ADDRCPT", "DELRCPT",
		    "QUARANTINE" }) do
			T.ok(mt.test_action(conn, _G["SMFIF_" .. a]), "asks for SMFIF_" .. a)
		end
		T.ok(not mt.test_action(conn, SMFIF_CHGBODY), "does not ask to change bodies")
	end)

	T.case("transactional by rule", function(conn)
		-- receipts@news.example.com is transactional by the first rule, before
		-- the rule that makes news.example.com bulk: first match wins.
		T.mail(conn, "<receipts@news.example.com>")
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE, "never opted in, not refused")
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE, "unsubscribed, not refused")
		-- A list header on transactional mail is left alone too.
		T.headers(conn, { { "X-Consent-List", "news" } }, "tr1")
		T.eom(conn, "NEG1")
		T.accepted(conn, "end of message")
		T.no_edits(conn, "transactional by rule", { "<no@example.net>",
		    "<gone@example.net>" })
		T.audit_has('"NEG1"', "the audit trail names the message by its queue id")
	end)

	T.case("transactional by domain rule", function(conn)
		T.mail(conn, "<orders@shop.example.com>")
		T.rcpt(conn, "<held@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<bounce@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "List-Id", "Shop <news.example.com>" },
		    { "Precedence", "bulk" } })
		T.eom(conn, "NEG2")
		T.accepted(conn, "end of message")
		T.no_edits(conn, "transactional by domain rule", { "<held@example.net>",
		    "<bounce@example.net>" })
	end)

	T.case("no bulk marker", function(conn)
		-- No rule, no list header, List-Id or Precedence: transactional.
		T.mail(conn, "<someone@elsewhere.example>")
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, "<all@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "Precedence", "junk" }, { "X-Mailer", "test" } })
		T.eom(conn, "NEG3")
		T.accepted(conn, "end of message")
		T.no_edits(conn, "no bulk marker", { "<no@example.net>", "<all@example.net>" })
	end)

	T.case("several messages on one connection", function(conn)
		for i = 1, 3 do
			T.mail(conn, "<someone@elsewhere.example>")
			T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE, "message " .. i .. " RCPT")
			T.headers(conn, {})
			T.eom(conn, "NEG4" .. i)
			T.accepted(conn, "message " .. i)
			T.no_edits(conn, "message " .. i, { "<no@example.net>" })
		end
	end)
end)
