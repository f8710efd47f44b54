-- livestore.lua - a change made with consentctl while the daemon runs is
-- seen by the very next message, with no reload and on the same
-- connection: subscribe, unsubscribe, suppress, unsuppress.  Consent
-- changes carry increasing --at times: the store keeps the newest change,
-- and two made within one second would tie.
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local NEWS = "<news@news.example.com>"
	local who = "<fresh@example.net>"

	-- one(conn, qid, want_rcpt): a bulk message to fresh@ alone and yes@;
	-- returns nothing, checks the RCPT reply.
	local function one(conn, qid, want_rcpt, what, rcpt)
		T.mail(conn, NEWS)
		T.rcpt(conn, rcpt or who, want_rcpt, what)
		T.rcpt(conn, "<yes@example.net>", SMFIR_CONTINUE)
		T.headers(conn, {}, qid)
		T.eom(conn, qid)
		T.accepted(conn, qid .. " end of message")
	end

	T.case("store changes while running", function(conn)
		one(conn, "L1", SMFIR_REPLYCODE, "never opted in: refused")

		T.ctl("subscribe fresh@example.net --list news --at 2025-01-01T00:00:01Z")
		one(conn, "L2", SMFIR_CONTINUE, "subscribed a moment ago: accepted")
		T.deleted(conn, who, false)

		T.ctl("unsubscribe fresh@example.net --list news --at 2025-01-01T00:00:02Z")
		one(conn, "L3", SMFIR_CONTINUE, "unsubscribed a moment ago: not refused (drop)")
		T.deleted(conn, who, true, "unsubscribed a moment ago: ")

		T.ctl("subscribe fresh@example.net --list news --at 2025-01-01T00:00:03Z")
		one(conn, "L4", SMFIR_CONTINUE, "subscribed again: accepted")
		T.deleted(conn, who, false)

		T.ctl("suppress fresh@example.net --reason complaint")
		one(conn, "L5", SMFIR_CONTINUE, "complained: tagged")
		T.header_is(conn, "X-Consent", "deny; reason=complaint; list=news; recipients=1")

		T.ctl("unsuppress fresh@example.net")
		one(conn, "L6", SMFIR_CONTINUE, "suppression lifted: accepted")
		T.ok(not mt.eom_check(conn, MT_HDRADD, "X-Consent"), "no longer tagged")

		local other = "<a@live.example>"
		T.ctl("subscribe a@live.example --list news")
		one(conn, "L7", SMFIR_CONTINUE, "subscribed: accepted", other)
		T.ctl("suppress live.example --reason invalid")
		one(conn, "L8", SMFIR_REPLYCODE, "whole domain suppressed: refused", other)
		T.ctl("unsuppress live.example")
		one(conn, "L9", SMFIR_CONTINUE, "domain suppression lifted: accepted", other)
	end)

	T.case("a new connection sees it too", function(conn)
		T.ctl("unsubscribe fresh@example.net --all")
		T.mail(conn, NEWS)
		T.rcpt(conn, who, SMFIR_CONTINUE)
		T.headers(conn, {}, "l10")
		T.eom_reply(conn, "L10", SMFIR_DISCARD, "unsubscribed from all: nobody left")
		T.log_has("L10: list=news rcpt=<fresh@example.net> verdict=deny " ..
		    "reason=unsubscribed_all")
	end)
end)
