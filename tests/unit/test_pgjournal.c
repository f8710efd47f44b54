/*
 * test_pgjournal.c - the journal's row decoder, the pure part of
 * pgjournal.c: rows of every kind read back as written, escapes undone,
 * and every malformed row refused (a replica stops on it, never skips).
 * The database itself is tested in tests/integration/test_fleet.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/pgjournal.h"

#define NOW	1800000000

static void
same(const struct change *a, const struct change *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_string_equal(a->key, b->key);
	assert_string_equal(a->list, b->list);
	assert_int_equal(a->made, b->made);
	assert_string_equal(a->origin, b->origin);
	assert_memory_equal(a->id, b->id, CHANGE_ID_LEN);
	assert_memory_equal(&a->ev, &b->ev, sizeof(a->ev));
	assert_memory_equal(&a->supp, &b->supp, sizeof(a->supp));
}

static void
roundtrip(const struct change *c)
{
	struct pgj_pos pos = { 7777, 42 }, got;
	struct change d;
	char line[PGJ_ROW_MAX], err[256];
	size_t n = pgj_row_encode(c, &pos, line);

	if (pgj_row_decode(line, n, &d, &got, err, sizeof(err)) == -1)
		fail_msg("%s: %s", line, err);
	assert_int_equal(got.xid, 7777);
	assert_int_equal(got.id, 42);
	same(c, &d);
}

static void
test_kinds(void **state)
{
	struct change c;

	(void)state;
	change_init(&c, CHANGE_CONSENT, "a@example.com", NOW);
	strcpy(c.list, "news");
	strcpy(c.origin, "mta1");
	c.ev.status = CS_SUBSCRIBED;
	c.ev.source = SRC_FORM;
	c.ev.time = NOW - 5;
	strcpy(c.ev.ip, "192.0.2.1");
	strcpy(c.ev.note, "tab\there, newline\nthere, back\\slash, cr\r");
	change_new_id(&c);
	roundtrip(&c);
	c.ev.flags = REC_F_TIME_UNKNOWN;
	c.kind = CHANGE_CONFIRM;
	c.ev.status = CS_CONFIRMED;
	roundtrip(&c);
	change_init(&c, CHANGE_SUPPRESS, ".example.org", NOW);
	strcpy(c.origin, "mta-2.example");
	c.supp.reason = SR_HARD_BOUNCE;
	c.supp.source = SRC_BOUNCE;
	c.supp.created = NOW - 100;
	c.supp.expires = NOW + 86400;
	strcpy(c.supp.ref, "<bounce@example.org>");
	strcpy(c.supp.note, "550 5.1.1");
	change_new_id(&c);
	roundtrip(&c);
	change_init(&c, CHANGE_UNSUPPRESS, "b@example.com", NOW);
	strcpy(c.origin, "mta1");
	change_new_id(&c);
	roundtrip(&c);
}

static int
decode(const char *line)
{
	struct change c;
	struct pgj_pos pos;
	char err[256];

	return pgj_row_decode(line, strlen(line), &c, &pos, err, sizeof(err));
}

#define ID	"6f1c0b5e-1111-4222-8333-444455556666"
#define TAIL	"\t" ID

static void
test_refusals(void **state)
{
	(void)state;
	/* The good row, then one thing wrong with it at a time. */
	assert_int_equal(decode("5\t1\tconsent\ta@example.com\tnews\tsubscribed\t"
	    "1800000000\tt\tform\t\t\\x41\\101\t\t0\t1800000000\tmta1" TAIL), 0);
	assert_int_equal(decode("5\t1\tconsent\ta@example.com\tnews\tsubscribed\t"
	    "1800000000\tt\tform\t\tnote\t\t0\t1800000000\tmta1"), -1);
	assert_int_equal(decode("5\t1\tconsent\ta@example.com\tnews\tsubscribed\t"
	    "1800000000\tt\tform\t\tnote\t\t0\t1800000000\tmta1" TAIL "\textra"),
	    -1);
	assert_int_equal(decode("5\t1\tconsent\ta@example.com\tnews\tsubscribed\t"
	    "1800000000\tt\tform\t\\N\tnote\t\t0\t1800000000\tmta1" TAIL), -1);
	assert_int_equal(decode("5\t1\tconsent\ta@example.com\tnews\tsubscribed\t"
	    "1800000000\tt\tform\t\tno\\000te\t\t0\t1800000000\tmta1" TAIL), -1);
	assert_int_equal(decode("5\t1\tconsent\ta@example.com\tnews\tsubscribed\t"
	    "1800000000\tt\tform\t\tnote\\\t\t0\t1800000000\tmta1" TAIL), -1);
	assert_int_equal(decode("5\t1\tdelete\ta@example.com\tnews\tsubscribed\t"
	    "1800000000\tt\tform\t\t\t\t0\t1800000000\tmta1" TAIL), -1);
	assert_int_equal(decode("5\t1\tconsent\ta@example.com\tnews\tbogus\t"
	    "1800000000\tt\tform\t\t\t\t0\t1800000000\tmta1" TAIL), -1);
	assert_int_equal(decode("5\t1\tconsent\ta@example.com\tnews\tsubscribed\t"
	    "1800000000\tt\tsomewhere\t\t\t\t0\t1800000000\tmta1" TAIL), -1);
	assert_int_equal(decode("5\t1\tconsent\ta@example.com\tnews\tsubscribed\t"
	    "18000x\tt\tform\t\t\t\t0\t1800000000\tmta1" TAIL), -1);
	assert_int_equal(decode("5\t1\tconsent\ta@example.com\tnews\tsubscribed\t"
	    "1800000000\tyes\tform\t\t\t\t0\t1800000000\tmta1" TAIL), -1);
	assert_int_equal(decode("5\t0\tconsent\ta@example.com\tnews\tsubscribed\t"
	    "1800000000\tt\tform\t\t\t\t0\t1800000000\tmta1" TAIL), -1);
	assert_int_equal(decode("5\t1\tconsent\texample.com\tnews\tsubscribed\t"
	    "1800000000\tt\tform\t\t\t\t0\t1800000000\tmta1" TAIL), -1);
	assert_int_equal(decode("5\t1\tconsent\ta@example.com\tNews\tsubscribed\t"
	    "1800000000\tt\tform\t\t\t\t0\t1800000000\tmta1" TAIL), -1);
	assert_int_equal(decode("5\t1\tconsent\ta@example.com\tnews\tsubscribed\t"
	    "1800000000\tt\tform\t\t\t\t0\t1800000000\tmta 1" TAIL), -1);
	assert_int_equal(decode("5\t1\tconsent\ta@example.com\tnews\tsubscribed\t"
	    "1800000000\tt\tform\t\t\t\t0\t1800000000\tmta1\t6f1c0b5e"), -1);
	assert_int_equal(decode("5\t1\tunsuppress\ta@example.com\t\tmanual\t"
	    "0\tt\tunknown\t\t\t\t0\t1800000000\tmta1" TAIL), -1);
	assert_int_equal(decode("5\t1\tsuppress\ta@example.com\t\tmanual\t"
	    "0\tt\tadmin\t\t\t\t-5\t1800000000\tmta1" TAIL), -1);
	assert_int_equal(decode(""), -1);
}

static void
test_long_fields(void **state)
{
	char line[4096], note[REC_NOTE_MAX + 2];

	(void)state;
	memset(note, 'n', sizeof(note) - 1);
	note[sizeof(note) - 1] = '\0';
	snprintf(line, sizeof(line), "5\t1\tconsent\ta@example.com\tnews\t"
	    "subscribed\t1\tt\tform\t\t%s\t\t0\t1\tmta1" TAIL, note);
	assert_int_equal(decode(line), -1);	/* one octet too many */
	note[REC_NOTE_MAX] = '\0';
	snprintf(line, sizeof(line), "5\t1\tconsent\ta@example.com\tnews\t"
	    "subscribed\t1\tt\tform\t\t%s\t\t0\t1\tmta1" TAIL, note);
	assert_int_equal(decode(line), 0);
}

static void
test_pos_cmp(void **state)
{
	struct pgj_pos a = { 5, 9 }, b = { 6, 1 }, c = { 5, 10 };

	(void)state;
	assert_true(pgj_pos_cmp(&a, &b) < 0);
	assert_true(pgj_pos_cmp(&b, &a) > 0);
	assert_true(pgj_pos_cmp(&a, &c) < 0);
	assert_int_equal(pgj_pos_cmp(&a, &a), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_long_fields),
		cmocka_unit_test(test_pos_cmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
