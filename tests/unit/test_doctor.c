/*
 * test_doctor.c - the doctor's parsers of MTA settings: milter lists with
 * groups and per-milter default actions, socket names in Postfix's and
 * libmilter's spellings, and what looks like a DKIM or ARC signer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctl/doctor.h"

static void
test_milter_list(void **state)
{
	struct doc_milter m[DOC_MILTERS_MAX];

	(void)state;
	assert_int_equal(doctor_milter_list("", m, DOC_MILTERS_MAX), 0);
	assert_int_equal(doctor_milter_list("unix:/a.sock, inet:127.0.0.1:8891",
	    m, DOC_MILTERS_MAX), 2);
	assert_string_equal(m[0].spec, "unix:/a.sock");
	assert_string_equal(m[1].spec, "inet:127.0.0.1:8891");
	assert_int_equal(doctor_milter_list("  { unix:/a.sock, default_action = "
	    "accept , command_timeout=10s } inet:x:1\n", m, DOC_MILTERS_MAX), 2);
	assert_string_equal(m[0].spec, "unix:/a.sock");
	assert_string_equal(m[0].default_action, "accept");
	assert_string_equal(m[1].default_action, "");
	assert_int_equal(doctor_milter_list("{ unix:/a.sock", m, DOC_MILTERS_MAX), -1);
	assert_int_equal(doctor_milter_list("{ unix:/a, bad }", m, DOC_MILTERS_MAX), -1);
	assert_int_equal(doctor_milter_list("a b c", m, 2), -1);
}

static void
test_same_socket(void **state)
{
	(void)state;
	assert_true(doctor_same_socket("unix:/run/c.sock", "unix:/run/c.sock", "/q"));
	assert_true(doctor_same_socket("unix:/run/c.sock", "local:/run/c.sock", "/q"));
	assert_true(doctor_same_socket("unix:/run/c.sock", "/run/c.sock", "/q"));
	/* Relative: from the queue directory. */
	assert_true(doctor_same_socket("unix:cm/c.sock",
	    "unix:/var/spool/postfix/cm/c.sock", "/var/spool/postfix"));
	assert_false(doctor_same_socket("unix:/run/c.sock", "unix:/run/d.sock", "/q"));
	assert_true(doctor_same_socket("inet:127.0.0.1:8899", "inet:8899@127.0.0.1", "/q"));
	assert_true(doctor_same_socket("inet:localhost:8899", "inet:8899@127.0.0.1", "/q"));
	assert_false(doctor_same_socket("inet:127.0.0.1:8899", "inet:8898@127.0.0.1", "/q"));
	assert_false(doctor_same_socket("inet:127.0.0.1:8899", "unix:/run/c.sock", "/q"));
}

static void
test_signer(void **state)
{
	(void)state;
	assert_true(doctor_signer("inet:127.0.0.1:8891"));
	assert_true(doctor_signer("inet:8891@localhost"));
	assert_true(doctor_signer("unix:/run/opendkim/opendkim.sock"));
	assert_true(doctor_signer("unix:/run/openarc/openarc.sock"));
	assert_true(doctor_signer("inet:127.0.0.1:11332"));
	assert_false(doctor_signer("unix:/run/search/x.sock"));
	assert_false(doctor_signer("unix:/run/consent-milter/consent-milter.sock"));
	assert_false(doctor_signer("inet:127.0.0.1:8893"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_milter_list),
		cmocka_unit_test(test_same_socket),
		cmocka_unit_test(test_signer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
