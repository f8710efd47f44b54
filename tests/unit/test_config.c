/*
 * test_config.c - the configuration loader: defaults, every key set from
 * a string and from a file, and each kind of error named with its line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/addr.h"
#include "core/config.h"

static void
test_defaults(void **state)
{
	struct config c;

	(void)state;
	config_defaults(&c);
	assert_string_equal(c.store_path, "/var/lib/consent-milter/store");
	assert_int_equal(c.policy.model, POLICY_OPTIN);
	assert_int_equal(c.policy.require_confirmed, 0);
	assert_string_equal(c.default_list, "default");
	assert_string_equal(c.delims, "+");
	assert_int_equal(c.addr_flags, 0);
	assert_true(c.map_size == (uint64_t)1024 << 20);
	assert_int_equal(c.unsubd_max_conns, 1024);
	assert_int_equal(c.unsubd_max_per_client, 16);
	assert_int_equal(c.unsubd_request_timeout, 10);
}

static void
test_sync(void **state)
{
	struct config c;
	char err[512];

	(void)state;
	config_defaults(&c);
	assert_false(c.sync.enabled);
	assert_int_equal(c.sync.max_lag, 86400);
	if (config_load_string(&c, "sync: { conninfo = \"service=consent\";\n"
	    "  host_id = \"mta1\"; max_lag = \"36h\"; poll_interval = \"2s\";\n"
	    "  batch = 500; };", err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_true(c.sync.enabled);
	assert_string_equal(c.sync.conninfo, "service=consent");
	assert_string_equal(c.sync.host_id, "mta1");
	assert_int_equal(c.sync.max_lag, 36 * 3600);
	assert_int_equal(c.sync.poll, 2);
	assert_int_equal(c.sync.batch, 500);
	/* The host name is the default host id. */
	if (config_load_string(&c, "sync: { conninfo = \"host=/tmp\"; };", err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_true(c.sync.host_id[0] != '\0');
	assert_int_equal(config_load_string(&c, "sync: { host_id = \"a\"; };",
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "sync.conninfo"));
	assert_int_equal(config_load_string(&c, "sync: { conninfo = \"x\";\n"
	    "  max_lag = \"3d\"; };", err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: sync.max_lag: longer than 2d"));
	assert_int_equal(config_load_string(&c, "sync: { conninfo = \"x\";\n"
	    "  host_id = \"mta 1\"; };", err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: sync.host_id:"));
	assert_int_equal(config_load_string(&c, "sync: { conninfo = \"x\"; "
	    "password = \"x\"; };", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "sync.password: unknown key"));
	/* ...and no password inside a connection string either. */
	assert_int_equal(config_load_string(&c, "sync: { conninfo = \"host=db "
	    "password = x\"; };", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "sync.conninfo: no password"));
	assert_int_equal(config_load_string(&c, "sync: { conninfo = \"x\"; "
	    "writer_conninfo = \"postgresql://w:secret@db/consent\"; };", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no password"));
	if (config_load_string(&c, "sync: { conninfo = \"postgresql://r@db/"
	    "consent?sslmode=verify-full&passfile=/etc/pgpass\"; };", err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
}

static void
test_unsubd_limits(void **state)
{
	struct config c;
	char err[512];

	(void)state;
	if (config_load_string(&c, "unsubscribe: { max_connections = 4096;\n"
	    "  max_per_client = 0; request_timeout = 30; };", err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_equal(c.unsubd_max_conns, 4096);
	assert_int_equal(c.unsubd_max_per_client, 0);
	assert_int_equal(c.unsubd_request_timeout, 30);
	assert_int_equal(config_load_string(&c, "unsubscribe: {\n"
	    "  max_connections = 8; };", err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: unsubscribe.max_connections: 8 is "
	    "out of range (16 to 16384)"));
	assert_int_equal(config_load_string(&c, "unsubscribe: { "
	    "max_per_client = -1; };", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unsubscribe.max_per_client: -1 is out "
	    "of range"));
	assert_int_equal(config_load_string(&c, "unsubscribe: { "
	    "request_timeout = 0; };", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unsubscribe.request_timeout: 0 is out "
	    "of range (1 to 600)"));
	assert_int_equal(config_load_string(&c, "unsubscribe: { "
	    "request_timeout = \"10s\"; };", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "must be an integer"));
}

static const char full[] =
    "store: { path = \"/srv/store\"; map_size_mb = 64;\n"
    "  case_sensitive_local = true; recipient_delimiter = \"+-\"; };\n"
    "policy: { model = \"opt-out\"; double_opt_in = true;\n"
    "  default_list = \"News\"; };\n";

static void
check_full(const struct config *c)
{
	assert_string_equal(c->store_path, "/srv/store");
	assert_true(c->map_size == (uint64_t)64 << 20);
	assert_int_equal(c->addr_flags, ADDR_CASE_SENSITIVE);
	assert_string_equal(c->delims, "+-");
	assert_int_equal(c->policy.model, POLICY_OPTOUT);
	assert_int_equal(c->policy.require_confirmed, 1);
	assert_string_equal(c->default_list, "news");
}

static void
test_string(void **state)
{
	struct config c;
	char err[512];

	(void)state;
	if (config_load_string(&c, full, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	check_full(&c);
}

static void
test_file(void **state)
{
	struct config c;
	char path[] = "/tmp/test_config.XXXXXX", err[512];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, full, sizeof(full) - 1), (ssize_t)sizeof(full) - 1);
	close(fd);
	if (config_load(&c, path, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	check_full(&c);
	assert_string_equal(c.file, path);
	/* Errors name the file. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "\n\nbogus = 1;\n", 13), 13);
	close(fd);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ":3: bogus: unknown key"));
	unlink(path);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot read"));
}

static void
test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "store: { nope = 1; };", ":1: store.nope: unknown key" },
		{ "nope: { a = 1; };", ":1: nope: unknown key" },
		{ "store = 5;", "store: must be a group" },
		{ "store: { path = 5; };", "store.path: must be a string, not an integer" },
		{ "store: { path = \"\"; };", "store.path: must not be empty" },
		{ "store: { map_size_mb = 0; };", "store.map_size_mb: 0 is out of range" },
		{ "store: { map_size_mb = \"big\"; };", "must be an integer" },
		{ "store: { case_sensitive_local = 1; };", "must be true or false" },
		{ "policy: { model = \"maybe\"; };", "unknown value \"maybe\" (expected opt-in, opt-out)" },
		{ "policy: { default_list = \"a b\"; };", "policy.default_list: list name" },
		{ "\n\npolicy: { model = ; };", ":3:" },
	};
	struct config c;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(config_load_string(&c, cases[i].text, err,
		    sizeof(err)), -1);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
			    cases[i].want);
	}
}

static void
test_shipped_file(void **state)
{
	struct config c, d;
	char err[512];

	(void)state;
	/* The commented file we ship must load and say the defaults. */
	if (config_load(&c, "conf/consent-milter.conf", err, sizeof(err)) == -1)
		fail_msg("%s", err);
	config_defaults(&d);
	assert_string_equal(c.store_path, d.store_path);
	assert_string_equal(c.socket, d.socket);
	assert_int_equal(c.socket_mode, d.socket_mode);
	assert_int_equal(c.policy.model, d.policy.model);
	assert_int_equal(c.classify.nrules, 0);
	for (int i = PR_FIRST_DENY; i < PR_MAX_; i++)
		assert_int_equal(c.action[i], ACTION_REJECT);
}

static void
test_rules_and_actions(void **state)
{
	static const char text[] =
	    "classify: { rules = (\n"
	    "  { sender_domain = \".News.Example.com\"; list = \"News\"; },\n"
	    "  { sender = \"<Receipts@Example.com>\"; class = \"transactional\"; },\n"
	    "  { sasl_login = \"mailer\"; daemon_name = \"bulk\"; }\n"
	    "); list_header = \"X-List\"; };\n"
	    "actions: { default = \"drop\"; hard_bounce = \"tag\";\n"
	    "  complaint = \"redirect\"; redirect_to = \"hold@example.com\"; };\n"
	    "milter: { socket_mode = \"0600\"; one_recipient_per_message = true; };\n";
	struct config c;
	char err[512];

	(void)state;
	if (config_load_string(&c, text, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_equal(c.classify.nrules, 3);
	assert_string_equal(c.classify.rules[0].sender_domain, ".news.example.com");
	assert_string_equal(c.classify.rules[0].list, "news");
	assert_int_equal(c.classify.rules[0].line, 2);
	assert_string_equal(c.classify.rules[1].sender, "receipts@example.com");
	assert_int_equal(c.classify.rules[1].class_, CLASS_TRANSACTIONAL);
	assert_string_equal(c.classify.rules[2].sasl_login, "mailer");
	assert_string_equal(c.classify.list_header, "X-List");
	assert_int_equal(c.action[PR_NO_CONSENT], ACTION_DROP);
	assert_int_equal(c.action[PR_HARD_BOUNCE], ACTION_TAG);
	assert_int_equal(c.action[PR_COMPLAINT], ACTION_REDIRECT);
	assert_int_equal(c.socket_mode, 0600);
	assert_int_equal(c.one_rcpt_per_msg, 1);
}

static void
test_rule_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "classify: { rules = ( { list = \"x\"; } ); };", "rule 1 matches everything" },
		{ "classify: { rules = ( { sender = \"a@\"; } ); };", "classify.rules[0].sender:" },
		{ "classify: { rules = ( { sendr = \"a@b\"; } ); };", "classify.rules[0].sendr: unknown key" },
		{ "classify: { rules = ( { sender = \"a@b\"; class = \"spam\"; } ); };", "unknown class" },
		{ "classify: { rules = ( 5 ); };", "rule 1 must be a group" },
		{ "classify: { rules = 5; };", "must be a list" },
		{ "classify: { list_header = \"X List\"; };", "not a header field name" },
		{ "actions: { complaint = \"redirect\"; };", "redirect needs actions.redirect_to" },
		{ "actions: { complaint = \"bounce\"; };", "unknown value \"bounce\"" },
		{ "actions: { redirect_to = \"nobody\"; };", "actions.redirect_to: invalid address" },
		{ "milter: { socket_mode = \"0666\"; };", "world-writable" },
		{ "milter: { socket_mode = 660; };", "octal mode in quotes" },
		{ "milter: { socket_mode = \"0989\"; };", "not an octal mode" },
		{ "milter: { timeout = 0; };", "milter.timeout: 0 is out of range" },
	};
	struct config c;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(config_load_string(&c, cases[i].text, err,
		    sizeof(err)), -1);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
			    cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_unsubd_limits),
		cmocka_unit_test(test_sync),
		cmocka_unit_test(test_string),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_shipped_file),
		cmocka_unit_test(test_rules_and_actions),
		cmocka_unit_test(test_rule_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
