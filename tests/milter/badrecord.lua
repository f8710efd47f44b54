-- badrecord.lua - FAIL CLOSED on a lookup that fails: the store opens,
-- but the record of bad@example.net is of a newer format than this build
-- reads, and that of tail@example.net shows "news" subscribed and then
-- an octet too many (both written raw with mdb_load by the runner).  Such
-- a recipient is tempfailed (451 4.3.0), at RCPT and at end of message,
-- while the others of the same message are decided as usual;
-- transactional mail to it passes.  (corrupt.lua and late.lua cover a
-- store that does not open.)
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local NEWS = "<news@news.example.com>"
	local BAD = "<bad@example.net>"

	T.case("a record that cannot be read, at RCPT", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, BAD, SMFIR_REPLYCODE, "451 4.3.0 for the unreadable record")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE, "an opted-in neighbour")
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE, "a refused neighbour")
		T.headers(conn, {}, "bad1")
		T.eom(conn, "BAD1")
		T.accepted(conn, "end of message (bad@ is not in it)")
		T.log_has("store lookup failed, bulk mail is tempfailed: ")
		T.log_has("corrupt record under key bad@example.net")
		T.log_has("BAD1: list=news rcpt=<bad@example.net> verdict=tempfail " ..
		    "reason=store_error")
		T.log_has("BAD1: list=news rcpt=<yes@example.net> verdict=allow")
	end)

	T.case("a record that cannot be read, at end of message", function(conn)
		T.mail(conn, "<mailer@elsewhere.example>")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.rcpt(conn, BAD, SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" } }, "bad2")
		T.eom_reply(conn, "BAD2", SMFIR_REPLYCODE, "end of message")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0",
		    "Consent store unavailable, try again later"), "451 4.3.0, whole message")
		T.ok(not mt.eom_check(conn, MT_RCPTDELETE, BAD) and
		    not mt.eom_check(conn, MT_RCPTDELETE, "<yes@example.net>"),
		    "and no recipient removed")
		T.log_has("BAD2: list=news rcpt=<bad@example.net> verdict=tempfail " ..
		    "reason=store_error")
	end)

	T.case("a record damaged past the list asked for, at RCPT", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<tail@example.net>", SMFIR_REPLYCODE,
		    "451 4.3.0, not the subscription before the damage")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE, "an opted-in neighbour")
		T.headers(conn, {}, "bad4")
		T.eom(conn, "BAD4")
		T.accepted(conn, "end of message (tail@ is not in it)")
		T.log_has("corrupt record under key tail@example.net")
	end)

	T.case("transactional mail to it passes", function(conn)
		T.mail(conn, "<receipts@news.example.com>")
		T.rcpt(conn, BAD, SMFIR_CONTINUE)
		T.headers(conn, {}, "bad3")
		T.eom(conn, "BAD3")
		T.accepted(conn, "transactional by rule")
		T.no_edits(conn, "transactional by rule", { BAD })
	end)
end)
