-- many.lua - 200 recipients with a mix of verdicts, in one message decided
-- at RCPT time and in one decided at end of message: every removal is
-- checked one by one, and the summary headers count right.  The +tags make
-- 200 distinct addresses out of a few store records (yes: allowed, gone:
-- drop, no: reject, bounce: redirect, angry: tag).
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end

T.main(function()
	local N = 200
	local KINDS = { "yes", "gone", "no", "bounce", "angry" }

	-- The i-th recipient: its RCPT argument and its kind.
	local function recipient(i)
		local kind = KINDS[(i * 7) % #KINDS + 1]
		local raw
		if i % 3 == 0 then
			raw = "<" .. kind:upper() .. "+" .. i .. "@Example.NET>"
		elseif i % 3 == 1 then
			raw = "<" .. kind .. "+" .. i .. "@example.net>"
		else
			raw = "<\"" .. kind .. "+" .. i .. "\"@example.net>"
		end
		return raw, kind
	end

	-- check(conn, removed, what): each recipient removed iff removed[kind];
	-- one assertion per kind, naming the first few that went wrong.
	local function check(conn, removed, what)
		local bad, count = {}, {}
		for _, k in ipairs(KINDS) do bad[k] = {}; count[k] = 0 end
		for i = 1, N do
			local raw, kind = recipient(i)
			count[kind] = count[kind] + 1
			if mt.eom_check(conn, MT_RCPTDELETE, raw) ~= removed[kind] then
				local b = bad[kind]
				b[#b + 1] = raw
			end
		end
		for _, k in ipairs(KINDS) do
			T.ok(#bad[k] == 0, string.format("%s: each of the %d %s recipients %s",
			    what, count[k], k, removed[k] and "removed" or "kept"),
			    #bad[k] .. " wrong, e.g. " .. table.concat(bad[k], " ", 1,
			    math.min(#bad[k], 5)))
		end
		return count
	end

	T.case("200 recipients decided at RCPT", function(conn)
		T.mail(conn, "<news@news.example.com>")
		local wrong = {}
		for i = 1, N do
			local raw, kind = recipient(i)
			local want = kind == "no" and SMFIR_REPLYCODE or SMFIR_CONTINUE
			local got = T.rcpt_quiet(conn, raw)
			if got ~= want then
				wrong[#wrong + 1] = raw .. " -> " .. T.rname(got)
			end
		end
		T.ok(#wrong == 0, N .. " RCPT replies: 'no' refused, the others accepted",
		    table.concat(wrong, ", ", 1, math.min(#wrong, 5)))
		T.headers(conn, {}, "many1")
		T.eom(conn, "MANY1")
		T.accepted(conn, "end of message")
		local count = check(conn, { yes = false, gone = true, no = false,
		    bounce = true, angry = false }, "at RCPT")
		T.ok(mt.eom_check(conn, MT_RCPTADD, "hold@example.org"), "adds the holding mailbox")
		T.header_is(conn, "X-Consent", "deny; reason=complaint; list=news; recipients=" ..
		    count.angry)
		T.header_is(conn, "X-Consent-Redirected", count.bounce ..
		    " recipients; see the log for queue id MANY1")
		T.ok(not mt.eom_check(conn, MT_HDRADD, "X-Consent-Redirected-For"),
		    "names nobody to the others")
	end)

	T.case("200 recipients decided at EOM", function(conn)
		T.mail(conn, "<mailer@elsewhere.example>")
		local wrong = {}
		for i = 1, N do
			local raw = recipient(i)
			local got = T.rcpt_quiet(conn, raw)
			if got ~= SMFIR_CONTINUE then
				wrong[#wrong + 1] = raw .. " -> " .. T.rname(got)
			end
		end
		T.ok(#wrong == 0, N .. " RCPT replies: all accepted (class not known yet)",
		    table.concat(wrong, ", ", 1, math.min(#wrong, 5)))
		T.headers(conn, { { "X-Consent-List", "news" } }, "many2")
		T.eom(conn, "MANY2")
		T.accepted(conn, "end of message")
		local count = check(conn, { yes = false, gone = true, no = true,
		    bounce = true, angry = false }, "at EOM")
		T.header_is(conn, "X-Consent", "deny; reason=complaint; list=news; recipients=" ..
		    count.angry)
		T.header_is(conn, "X-Consent-Redirected", count.bounce ..
		    " recipients; see the log for queue id MANY2")
		T.ok(mt.eom_check(conn, MT_HDRDELETE, "X-Consent-List"), "strips the list header")
		local log = T.read_log()
		local n = 0
		for _ in log:gmatch("MANY2: list=news rcpt=<[^>]*> verdict=") do n = n + 1 end
		T.eq(n, N, "one log line per recipient")
	end)

	T.case("200 recipients, all refused at EOM", function(conn)
		T.mail(conn, "<mailer@elsewhere.example>")
		for i = 1, N do
			T.call(mt.rcptto(conn, "<no+" .. i .. "@example.net>"), "mt.rcptto")
		end
		T.reply(conn, SMFIR_CONTINUE, "the last RCPT")
		T.headers(conn, { { "X-Consent-List", "news" } }, "many3")
		T.eom_reply(conn, "MANY3", SMFIR_REPLYCODE, "refused whole")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
		    "No recipient may receive bulk mail on list news (no_consent)"), "550 5.7.1")
	end)
end)
