-- moved.lua - FAIL CLOSED: the store the daemon has open is moved away and
-- another is put at its path while it runs (a bootstrap or a restore, the
-- daemon not stopped).  Nothing writes to the old one any more: an opt-out
-- recorded in the new one would never be seen.  So within about a second
-- bulk mail is tempfailed (451 4.3.0), and the log says to restart;
-- transactional mail passes.  MOVED_STORE and MOVED_CTL name the store and
-- consentctl on its configuration.
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local NEWS = "<news@news.example.com>"
	local store = T.env("MOVED_STORE")
	local ctl = T.env("MOVED_CTL")

	T.case("the store open: decided", function(conn)
		T.mail(conn, NEWS)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE, "subscribed: accepted")
		T.rcpt(conn, "<no@example.net>", SMFIR_REPLYCODE, "never opted in: refused")
	end)

	T.case("moved away, a new store in its place: tempfailed", function(conn)
		-- yes@ unsubscribes in the new store: the old one never learns it.
		T.sh("mv " .. store .. " " .. store .. ".old && " .. ctl .. " init && " ..
		    ctl .. " unsubscribe yes@example.net --list news", "the store replaced")
		os.execute("sleep 1.2")
		T.mail(conn, NEWS)
		T.rcpt(conn, "<yes@example.net>", SMFIR_REPLYCODE, "451 4.3.0, not the old yes")
		T.headers(conn, {}, "moved2")
		T.eom(conn, "MOVED2")
		T.accepted(conn, "end of message (nobody left in it)")
		T.log_has("MOVED2: list=news rcpt=<yes@example.net> verdict=tempfail " ..
		    "reason=store_error")
		T.log_has("is not the one open any more", "says why")
	end)

	T.case("transactional mail still passes", function(conn)
		T.mail(conn, "<receipts@news.example.com>")
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE, "transactional")
	end)
end)
