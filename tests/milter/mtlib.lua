-- mtlib.lua - helpers shared by the miltertest scripts (not a test itself).
--
-- A script loads it under pcall and runs its whole body through T.main:
--     local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
--     if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end
--     T.main(function()
--         T.case("what it shows", function(conn) ... end)
--     end)
-- Each case runs on its own connection, inside pcall; T.main runs the body
-- inside pcall too, then prints "N passed, M failed" and exits non-zero on
-- any failure.  (An uncaught Lua error makes miltertest exit 1 without a
-- word: here a Lua error counts as a failure, with its message printed.)
--
-- The runner (test_miltertest.sh) passes, in the environment:
--   MT_SOCK  the milter's socket ("unix:/path")
--   MT_LOG   the file that holds the milter's stderr (its log)
--   MT_AUDIT the milter's audit trail (plain addresses)
--   MT_CTL   a consentctl command line on the milter's store ("consentctl -c F")
--   MT_PID   the milter's process id
--   MT_CONF  the milter's configuration file
-- plus whatever a script documents at its top.
--
-- The filter negotiates away connect, HELO, DATA, end of headers, body and
-- unknown commands, and asks for no reply to MAIL and to headers: the
-- helpers test each option before taking a step and read a reply only
-- where one is due.

local T = { pass = 0, fail = 0, prefix = "" }

SMFIC_BODYEOB = string.byte("E")	-- macros sent with end of message

local names = {}
for _, n in ipairs({ "CONTINUE", "ACCEPT", "REJECT", "TEMPFAIL", "DISCARD",
    "REPLYCODE" }) do
	names[_G["SMFIR_" .. n]] = n
end
if SMFIR_SKIP ~= nil then names[SMFIR_SKIP] = "SKIP" end

-- T.rname(code): a reply code's name, for messages.
function T.rname(r)
	if r == nil then return "nil" end
	if names[r] ~= nil then return names[r] end
	r = math.floor(r)
	if r > 32 and r < 127 then return "'" .. string.char(r) .. "'" end
	return tostring(r)
end

-- T.ok(cond, what[, detail]): one assertion.
function T.ok(cond, what, detail)
	if cond then
		T.pass = T.pass + 1
		print("ok - " .. T.prefix .. what)
	else
		T.fail = T.fail + 1
		print("FAIL - " .. T.prefix .. what ..
		    (detail ~= nil and (": " .. detail) or ""))
	end
	return cond
end

-- T.xfail(cond, what, bug): an assertion that fails because of a known
-- bug in the filter (described in bug).  While the bug is there it counts
-- as passed and prints "xfail"; once fixed it prints "XPASS" so that the
-- mark gets removed (and still counts as passed).
function T.xfail(cond, what, bug)
	T.pass = T.pass + 1
	if cond then
		print("XPASS - " .. T.prefix .. what .. " (fixed? remove the xfail mark: " ..
		    bug .. ")")
	else
		print("xfail - " .. T.prefix .. what .. " (known bug: " .. bug .. ")")
	end
	return cond
end

-- T.log_xfail(text, what, bug): T.xfail on the log holding text.
function T.log_xfail(text, what, bug)
	return T.xfail(T.read_log():find(text, 1, true) ~= nil, what or
	    ("log: " .. text), bug)
end

-- T.eq(got, want, what): got == want.
function T.eq(got, want, what)
	return T.ok(got == want, what, "got " .. tostring(got) .. ", wanted " ..
	    tostring(want))
end

-- T.reply(conn, want, what): the last reply is want.
function T.reply(conn, want, what)
	local got = mt.getreply(conn)
	T.ok(got == want, what .. " -> " .. T.rname(want), "got " .. T.rname(got))
	return got
end

-- T.call(rc, what): an mt.* step returned nil (success), or stop the case.
function T.call(rc, what)
	if rc ~= nil then error(what .. " failed: " .. tostring(rc), 2) end
end

-- T.env(name): a variable the runner must have set.
function T.env(name)
	local v = os.getenv(name)
	if v == nil or v == "" then
		error("environment variable " .. name .. " is not set", 2)
	end
	return v
end

-- T.connect(): a new connection, through the steps the filter kept.
function T.connect(sock)
	local conn = mt.connect(sock or T.env("MT_SOCK"))
	if conn == nil then error("mt.connect failed") end
	if not mt.test_option(conn, SMFIP_NOCONNECT) then
		T.call(mt.conninfo(conn, "client.example.org", "192.0.2.25"),
		    "mt.conninfo")
		if not mt.test_option(conn, SMFIP_NR_CONN) then
			T.reply(conn, SMFIR_CONTINUE, "connect")
		end
	end
	if not mt.test_option(conn, SMFIP_NOHELO) then
		T.call(mt.helo(conn, "client.example.org"), "mt.helo")
		if not mt.test_option(conn, SMFIP_NR_HELO) then
			T.reply(conn, SMFIR_CONTINUE, "HELO")
		end
	end
	return conn
end

-- T.MTA: the {v} the MTA names itself with at MAIL (the filter removes
-- recipients by that MTA's rules); a script sets it to Sendmail's
-- ("8.17.1.9"), or to false for an MTA that sends none.
T.MTA = "Postfix 3.7.11"

-- T.mail(conn, sender[, macros]): MAIL FROM with its macros, as a flat
-- list { name, value, ... }.  Like Postfix, a set of MAIL macros is always
-- sent ({mail_addr} at least, and v as T.MTA says), which replaces the
-- previous message's.
function T.mail(conn, sender, macros)
	local m = { "{mail_addr}", sender }
	if T.MTA then
		m[#m + 1] = "v"
		m[#m + 1] = T.MTA
	end
	for _, v in ipairs(macros or {}) do m[#m + 1] = v end
	T.call(mt.macro(conn, SMFIC_MAIL, table.unpack(m)), "mt.macro MAIL")
	T.call(mt.mailfrom(conn, sender), "mt.mailfrom " .. sender)
	if not mt.test_option(conn, SMFIP_NR_MAIL) then
		T.reply(conn, SMFIR_CONTINUE, "MAIL FROM " .. sender)
	end
end

-- T.rcpt(conn, addr, want[, what]): RCPT TO, whose reply must be want.
function T.rcpt(conn, addr, want, what)
	T.call(mt.rcptto(conn, addr), "mt.rcptto " .. addr)
	return T.reply(conn, want, what or ("RCPT " .. addr))
end

-- T.rcpt_quiet(conn, addr): RCPT TO; the reply, unchecked (for loops that
-- check replies in bulk).
function T.rcpt_quiet(conn, addr)
	T.call(mt.rcptto(conn, addr), "mt.rcptto " .. addr)
	return mt.getreply(conn)
end

-- T.headers(conn, list): DATA (unless negotiated away), then the headers
-- { {name, value}, ... } and a From, Subject and Message-ID of our own.
function T.headers(conn, list, msgid)
	if not mt.test_option(conn, SMFIP_NODATA) then
		T.call(mt.data(conn), "mt.data")
		if not mt.test_option(conn, SMFIP_NR_DATA) then
			T.reply(conn, SMFIR_CONTINUE, "DATA")
		end
	end
	if mt.test_option(conn, SMFIP_NOHDRS) then
		error("the filter negotiated away the headers it classifies on")
	end
	local all = { { "From", "Sender <sender@example.com>" },
	    { "Subject", "miltertest" },
	    { "Message-ID", "<" .. (msgid or "mt") .. "@test.example>" } }
	for _, h in ipairs(list or {}) do all[#all + 1] = h end
	for _, h in ipairs(all) do
		T.call(mt.header(conn, h[1], h[2]), "mt.header " .. h[1])
		if not mt.test_option(conn, SMFIP_NR_HDR) then
			T.reply(conn, SMFIR_CONTINUE, "header " .. h[1])
		end
	end
end

-- T.eom(conn[, qid]): end of headers and body (unless negotiated away),
-- the {i} macro (when qid is given) and end of message; returns the reply.
function T.eom(conn, qid)
	if not mt.test_option(conn, SMFIP_NOEOH) then
		T.call(mt.eoh(conn), "mt.eoh")
		if not mt.test_option(conn, SMFIP_NR_EOH) then
			T.reply(conn, SMFIR_CONTINUE, "end of headers")
		end
	end
	if not mt.test_option(conn, SMFIP_NOBODY) then
		T.call(mt.bodystring(conn, "Hello.\r\n"), "mt.bodystring")
		if not mt.test_option(conn, SMFIP_NR_BODY) then
			T.reply(conn, SMFIR_CONTINUE, "body")
		end
	end
	if qid ~= nil then
		T.call(mt.macro(conn, SMFIC_BODYEOB, "i", qid), "mt.macro EOM")
	end
	T.call(mt.eom(conn), "mt.eom")
	return mt.getreply(conn)
end

-- T.eom_reply(conn, qid, want, what): T.eom, whose reply must be want.
function T.eom_reply(conn, qid, want, what)
	T.eom(conn, qid)
	return T.reply(conn, want, (what or "end of message") ..
	    (qid and (" " .. qid) or ""))
end

-- T.accepted(conn, what): end-of-message reply that lets the message go.
function T.accepted(conn, what)
	local r = mt.getreply(conn)
	return T.ok(r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, what ..
	    " -> CONTINUE or ACCEPT", "got " .. T.rname(r))
end

-- T.deleted(conn, raw, want, what): MT_RCPTDELETE of exactly raw, or not.
function T.deleted(conn, raw, want, what)
	local got = mt.eom_check(conn, MT_RCPTDELETE, raw)
	return T.ok(got == want, (what or "") .. (want and "removed " or
	    "kept ") .. raw)
end

-- T.no_edits(conn, what, rcpts): end of message asked for no change at all
-- (the recipients given were not removed, nothing added or held) and its
-- reply lets the message go.  The reply is read from mt.getreply: with
-- MT_SMTPREPLY miltertest matches only a whole reply, code, enhanced code
-- and text, so a check for "550" alone could never find one.
function T.no_edits(conn, what, rcpts)
	local found = {}
	local r = mt.getreply(conn)
	if r ~= SMFIR_CONTINUE and r ~= SMFIR_ACCEPT then
		found[#found + 1] = "reply " .. T.rname(r)
	end
	if mt.eom_check(conn, MT_HDRADD) then found[#found + 1] = "header added" end
	if mt.eom_check(conn, MT_HDRINSERT) then found[#found + 1] = "header inserted" end
	if mt.eom_check(conn, MT_HDRCHANGE) then found[#found + 1] = "header changed" end
	if mt.eom_check(conn, MT_HDRDELETE) then found[#found + 1] = "header removed" end
	if mt.eom_check(conn, MT_BODYCHANGE) then found[#found + 1] = "body changed" end
	if mt.eom_check(conn, MT_QUARANTINE) then found[#found + 1] = "quarantined" end
	if mt.eom_check(conn, MT_RCPTADD, T.hold or "hold@example.org") then
		found[#found + 1] = "recipient added"
	end
	for _, r in ipairs(rcpts or {}) do
		if mt.eom_check(conn, MT_RCPTDELETE, r) then
			found[#found + 1] = "removed " .. r
		end
	end
	return T.ok(#found == 0, what .. ": message untouched",
	    table.concat(found, ", "))
end

-- T.header_is(conn, name, value, what): the first added header name has
-- exactly this value (mt.getheader), and was added (MT_HDRADD).
function T.header_is(conn, name, value, what)
	local got = mt.getheader(conn, name, 0)
	T.ok(got == value and mt.eom_check(conn, MT_HDRADD, name, value),
	    (what or "") .. "adds " .. name .. ": " .. value,
	    "got " .. tostring(got))
end

-- T.read_file(var): the file named by environment variable var ("" if none).
function T.read_file(var)
	local f = io.open(T.env(var), "r")
	if f == nil then return "" end
	local s = f:read("a")
	f:close()
	return s or ""
end

-- T.read_log(): the milter's log so far.
function T.read_log()
	return T.read_file("MT_LOG")
end

-- T.log_has(text, what): the milter logged text (a plain string).
function T.log_has(text, what)
	local found = T.read_log():find(text, 1, true) ~= nil
	return T.ok(found, what or ("log: " .. text), "not in " .. T.env("MT_LOG"))
end

-- T.audit_has(text, what): the audit trail holds text (a plain string).
function T.audit_has(text, what)
	local found = T.read_file("MT_AUDIT"):find(text, 1, true) ~= nil
	return T.ok(found, what or ("audit: " .. text), "not in " .. T.env("MT_AUDIT"))
end

-- T.wait_log(text, seconds): wait until the log holds text; true if it did.
function T.wait_log(text, seconds)
	local tries = math.floor((seconds or 5) * 10)
	for _ = 1, tries do
		if T.read_log():find(text, 1, true) then return true end
		mt.sleep(0.1)
	end
	return false
end

-- T.sh(cmd, what): run a shell command, which must succeed.
function T.sh(cmd, what)
	local ok, how, code = os.execute("( " .. cmd .. " ) >/dev/null 2>&1")
	return T.ok(ok == true, what or cmd, tostring(how) .. " " .. tostring(code))
end

-- T.sh_out(cmd): the standard output of a shell command, without its
-- last newline ("" if it printed nothing).
function T.sh_out(cmd)
	local p = io.popen(cmd .. " 2>/dev/null")
	if p == nil then return "" end
	local s = p:read("a") or ""
	p:close()
	return (s:gsub("\n$", ""))
end

-- T.ctl(args, what): consentctl on the milter's store.
function T.ctl(args, what)
	return T.sh(T.env("MT_CTL") .. " " .. args, what or ("consentctl " .. args))
end

-- T.case(name, fn): fn(conn) on a new connection, under pcall.
function T.case(name, fn)
	local conn
	T.prefix = name .. ": "
	local ok, err = pcall(function()
		conn = T.connect()
		fn(conn)
	end)
	if not ok then
		T.fail = T.fail + 1
		print("FAIL - " .. T.prefix .. "Lua error: " .. tostring(err))
	end
	if conn ~= nil then pcall(mt.disconnect, conn) end
	T.prefix = ""
end

-- T.done(): the counts, then exit (non-zero on any failure).
function T.done()
	print(string.format("%d passed, %d failed", T.pass, T.fail))
	os.exit(T.fail == 0 and 0 or 1)
end

-- T.main(body): run the script's body under pcall, then T.done().
function T.main(body)
	local ok, err = pcall(body)
	if not ok then
		T.fail = T.fail + 1
		print("FAIL - " .. T.prefix .. "Lua error: " .. tostring(err))
	end
	T.done()
end

return T
