-- limits.lua - milter.one_recipient_per_message (a second bulk recipient
-- gets 452 4.5.3, so that each bulk message carries one recipient and its
-- own unsubscribe link) and milter.max_recipients = 3 (beyond, 452 4.5.3).
-- Both apply to SMTP bulk mail classified by envelope only.
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local NEWS = "<news@news.example.com>"

	T.case("one recipient per bulk message", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE, "first: accepted")
		T.rcpt(conn, "<conf@example.net>", SMFIR_REPLYCODE, "second: 452, send it again")
		T.rcpt(conn, "<conf+x@example.net>", SMFIR_REPLYCODE, "third: 452")
		T.headers(conn, {}, "x1")
		T.eom(conn, "X1")
		T.accepted(conn, "end of message")
		T.no_edits(conn, "one recipient", { "<yes@example.net>", "<conf@example.net>" })
		-- The next message starts counting again.
		T.mail(conn, NEWS)
		T.rcpt(conn, "<conf@example.net>", SMFIR_CONTINUE, "next message, first: accepted")
		T.rcpt(conn, "<yes@example.net>", SMFIR_REPLYCODE, "next message, second: 452")
		T.headers(conn, {}, "x2")
		T.eom(conn, "X2")
		T.accepted(conn, "next message")
	end)

	T.case("a refused recipient does not count", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE, "never opted in: 550")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE, "first accepted: accepted")
		T.rcpt(conn, "<conf@example.net>", SMFIR_REPLYCODE, "second accepted: 452")
		T.headers(conn, {}, "x3")
		T.eom(conn, "X3")
		T.accepted(conn, "end of message")
	end)

	T.case("a dropped recipient counts", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<gone@example.net>", SMFIR_CONTINUE, "unsubscribed: taken, to drop")
		T.rcpt(conn, "<yes@example.net>", SMFIR_REPLYCODE, "second: 452")
		T.headers(conn, {}, "x4")
		T.eom_reply(conn, "X4", SMFIR_DISCARD, "nobody left")
	end)

	T.case("abort resets the count", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.call(mt.abort(conn), "mt.abort")
		T.mail(conn, NEWS)
		T.rcpt(conn, "<conf@example.net>", SMFIR_CONTINUE, "first after abort: accepted")
		T.headers(conn, {}, "x5")
		T.eom(conn, "X5")
		T.accepted(conn, "end of message")
	end)

	T.case("max_recipients", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<no+1@example.net>", SMFIR_REPLYCODE)
		T.rcpt(conn, "<no+2@example.net>", SMFIR_REPLYCODE)
		T.rcpt(conn, "<no+3@example.net>", SMFIR_REPLYCODE)
		T.rcpt(conn, "<yes@example.net>", SMFIR_REPLYCODE, "fourth: too many, 452")
		T.headers(conn, {}, "x6")
		T.eom(conn, "X6")
		T.accepted(conn, "end of message")
	end)

	T.case("no limit for transactional mail", function(conn)
		T.mail(conn, "<receipts@news.example.com>")
		for i = 1, 5 do
			T.rcpt(conn, "<no+" .. i .. "@example.net>", SMFIR_CONTINUE)
		end
		T.headers(conn, {}, "x7")
		T.eom(conn, "X7")
		T.accepted(conn, "end of message")
	end)

	T.case("no limit before the headers classify", function(conn)
		T.mail(conn, "<mailer@elsewhere.example>")
		for i = 1, 5 do
			T.rcpt(conn, "<yes+" .. i .. "@example.net>", SMFIR_CONTINUE)
		end
		T.headers(conn, { { "X-Consent-List", "news" } }, "x8")
		T.eom(conn, "X8")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<yes+1@example.net>", false)
	end)

	T.case("no limit for non-SMTP mail", function(conn)
		T.mail(conn, NEWS, { "{client_addr}", "127.0.0.1", "{client_port}", "0" })
		for i = 1, 5 do
			T.rcpt(conn, "<yes+" .. i .. "@example.net>", SMFIR_CONTINUE)
		end
		T.headers(conn, {}, "x9")
		T.eom(conn, "X9")
		T.accepted(conn, "end of message")
		T.deleted(conn, "<yes+5@example.net>", false)
	end)
end)
