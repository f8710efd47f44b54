-- corrupt.lua - FAIL CLOSED: the store's data.mdb is garbage (overwritten
-- before the daemon started).  Bulk mail is tempfailed at RCPT and at end
-- of message, for as long as it lasts; transactional mail passes.
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local NEWS = "<news@news.example.com>"

	local function bulk(conn, qid)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<yes@example.net>", SMFIR_REPLYCODE, qid .. ": 451 4.3.0 at RCPT")
		T.headers(conn, {}, qid)
		T.eom(conn, qid)
		T.accepted(conn, qid .. ": end of message (nobody left in it)")
		T.log_has(qid .. ": list=news rcpt=<yes@example.net> verdict=tempfail")
		T.mail(conn, "<mailer@elsewhere.example>")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "List-Id", "<news.example.com>" } }, qid .. "b")
		T.eom_reply(conn, qid .. "b", SMFIR_REPLYCODE, "end of message")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0",
		    "Consent store unavailable, try again later"), qid .. "b: 451 4.3.0 at EOM")
	end

	T.case("corrupt store", function(conn)
		T.log_has("store unavailable, bulk mail is tempfailed", "warns at start")
		bulk(conn, "C1")
		T.mail(conn, "<orders@shop.example.com>")
		T.rcpt(conn, "<no@example.net>", SMFIR_CONTINUE)
		T.headers(conn, { { "X-Consent-List", "news" } }, "c2")
		T.eom(conn, "C2")
		T.accepted(conn, "transactional")
		T.no_edits(conn, "transactional", { "<no@example.net>" })
		-- It is retried (once a second: one more warning in the log),
		-- and still refused.
		local function tries()
			local n = 0
			for _ in T.read_log():gmatch("store unavailable, bulk mail is tempfailed") do
				n = n + 1
			end
			return n
		end
		local before = tries()
		local retried = false
		for _ = 1, 100 do
			if tries() > before then retried = true break end
			mt.sleep(0.1)
		end
		T.ok(retried, "the store is tried again (within 10 s)")
		bulk(conn, "C3")
	end)
end)
