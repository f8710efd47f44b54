/*
 * test_record.c - the record codec (round trip, every corruption refused,
 * newer formats named, format 1 still read and written back as format 2)
 * and the merge rules that make imports safe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/record.h"

static struct evidence
ev_make(int status, int64_t t, int source)
{
	struct evidence ev;

	memset(&ev, 0, sizeof(ev));
	ev.status = (uint8_t)status;
	ev.time = t;
	ev.source = (uint8_t)source;
	return ev;
}

static void
sample(struct subject *s)
{
	struct evidence ev = ev_make(CS_PENDING, 1000, SRC_FORM);
	struct suppression sp;

	subject_init(s);
	strcpy(ev.ip, "192.0.2.7");
	strcpy(ev.note, "signup form \"spring\"");
	assert_int_equal(record_apply_consent(s, "news", &ev), 1);
	ev = ev_make(CS_CONFIRMED, 2000, SRC_FORM);
	strcpy(ev.ip, "2001:db8::1");
	assert_int_equal(record_apply_consent(s, "news", &ev), 1);
	ev = ev_make(CS_SUBSCRIBED, 1500, SRC_IMPORT);
	assert_int_equal(record_apply_consent(s, "alpha", &ev), 1);
	memset(&sp, 0, sizeof(sp));
	sp.reason = SR_SOFT_BOUNCE;
	sp.source = SRC_BOUNCE;
	sp.created = 3000;
	sp.expires = 4000;
	strcpy(sp.ref, "<abc@example.com>");
	assert_int_equal(record_apply_supp(s, &sp, 3000), 1);
}

static void
test_roundtrip(void **state)
{
	struct subject s, d;
	unsigned char *buf, *buf2;
	size_t len, len2;
	char err[128];

	(void)state;
	sample(&s);
	assert_int_equal(record_encode(&s, &buf, &len), 0);
	subject_init(&d);
	assert_int_equal(record_decode(buf, len, &d, err, sizeof(err)), 0);
	assert_int_equal(d.nlists, 2);
	/* sorted by name */
	assert_string_equal(d.lists[0].list, "alpha");
	assert_string_equal(d.lists[1].list, "news");
	assert_int_equal(d.lists[1].status, CS_CONFIRMED);
	assert_int_equal(d.lists[1].nev, 2);
	assert_string_equal(d.lists[1].ev[0].note, "signup form \"spring\"");
	assert_string_equal(d.lists[1].ev[1].ip, "2001:db8::1");
	assert_true(d.has_supp);
	assert_int_equal(d.supp.expires, 4000);
	assert_string_equal(d.supp.ref, "<abc@example.com>");
	/* Encoding the decoded value gives the same bytes. */
	assert_int_equal(record_encode(&d, &buf2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free(buf);
	free(buf2);
	subject_clear(&s);
	subject_clear(&d);
	subject_clear(NULL);	/* a no-op */
}

static void
test_truncations_refused(void **state)
{
	struct subject s, d;
	unsigned char *buf;
	size_t len;
	char err[128];

	(void)state;
	sample(&s);
	assert_int_equal(record_encode(&s, &buf, &len), 0);
	subject_init(&d);
	for (size_t n = 0; n < len; n++) {
		assert_int_equal(record_decode(buf, n, &d, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "corrupt") != NULL ||
		    strstr(err, "format") != NULL ? err : NULL);
	}
	subject_clear(&s);
	free(buf);
}

static void
test_corruptions_refused(void **state)
{
	struct subject s, d;
	unsigned char *buf, *copy;
	size_t len;
	char err[128];
	struct supp_view sv;
	struct consent_view cv;
	int hs, hc;

	(void)state;
	sample(&s);
	assert_int_equal(record_encode(&s, &buf, &len), 0);
	subject_init(&d);
	/* Trailing data. */
	copy = malloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = 0;
	assert_int_equal(record_decode(copy, len + 1, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "trailing"));
	/* Every single-byte change decodes cleanly or is refused; never a crash. */
	for (size_t i = 0; i < len; i++) {
		for (int v = 0; v < 256; v += 17) {
			memcpy(copy, buf, len);
			copy[i] = (unsigned char)v;
			(void)record_decode(copy, len, &d, err, sizeof(err));
			subject_clear(&d);
			(void)record_peek(copy, len, "news", &hs, &sv, &hc, &cv);
		}
	}
	/* Bad enum. */
	memcpy(copy, buf, len);
	copy[3] = SR_MAX_;	/* suppression reason, after a 1-octet list count */
	assert_int_equal(record_decode(copy, len, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "suppression reason"));
	free(copy);
	free(buf);
	subject_clear(&s);
}

static void
test_newer_format_named(void **state)
{
	unsigned char v[] = { REC_FORMAT + 1, 0, 0, 0 };
	struct subject d;
	char err[128];

	(void)state;
	subject_init(&d);
	assert_int_equal(record_decode(v, sizeof(v), &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "newer"));
	v[0] = 0;
	assert_int_equal(record_decode(v, sizeof(v), &d, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown record format 0");
}

static void
test_peek(void **state)
{
	struct subject s;
	unsigned char *buf;
	size_t len;
	struct supp_view sv;
	struct consent_view cv;
	int hs, hc;

	(void)state;
	sample(&s);
	assert_int_equal(record_encode(&s, &buf, &len), 0);
	assert_int_equal(record_peek(buf, len, "news", &hs, &sv, &hc, &cv), 0);
	assert_true(hs);
	assert_int_equal(sv.reason, SR_SOFT_BOUNCE);
	assert_true(hc);
	assert_int_equal(cv.status, CS_CONFIRMED);
	assert_int_equal(cv.changed, 2000);
	assert_int_equal(cv.source, SRC_FORM);
	assert_int_equal(record_peek(buf, len, "alpha", &hs, &sv, &hc, &cv), 0);
	assert_true(hc);
	assert_int_equal(cv.source, SRC_IMPORT);
	assert_int_equal(record_peek(buf, len, "nope", &hs, &sv, &hc, &cv), 0);
	assert_false(hc);
	assert_int_equal(record_peek(buf, len, "aaa", &hs, &sv, &hc, &cv), 0);
	assert_false(hc);
	assert_int_equal(record_peek(buf, len, "zzz", &hs, &sv, &hc, &cv), 0);
	assert_false(hc);
	free(buf);
	subject_clear(&s);
}

/*
 * The sample() subject, hand-made in format 1 (u16 list count, every time
 * an i64), as stores made before format 2 hold it.
 */
static const unsigned char fmt1[] = {
	1, 1, 0, 2,				/* format 1, suppression, 2 lists */
	SR_SOFT_BOUNCE, SRC_BOUNCE, 0,
	0, 0, 0, 0, 0, 0, 0x0b, 0xb8,		/* created 3000 */
	0, 0, 0, 0, 0, 0, 0x0f, 0xa0,		/* expires 4000 */
	17, '<', 'a', 'b', 'c', '@', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.',
	'c', 'o', 'm', '>',
	0,					/* no note */
	5, 'a', 'l', 'p', 'h', 'a', CS_SUBSCRIBED,
	0, 0, 0, 0, 0, 0, 0x05, 0xdc, 1,	/* changed 1500, 1 event */
	CS_SUBSCRIBED, SRC_IMPORT, 0, 0, 0, 0, 0, 0, 0, 0x05, 0xdc, 0, 0,
	4, 'n', 'e', 'w', 's', CS_CONFIRMED,
	0, 0, 0, 0, 0, 0, 0x07, 0xd0, 2,	/* changed 2000, 2 events */
	CS_PENDING, SRC_FORM, 0, 0, 0, 0, 0, 0, 0, 0x03, 0xe8,
	9, '1', '9', '2', '.', '0', '.', '2', '.', '7',
	20, 's', 'i', 'g', 'n', 'u', 'p', ' ', 'f', 'o', 'r', 'm', ' ', '"',
	's', 'p', 'r', 'i', 'n', 'g', '"',
	CS_CONFIRMED, SRC_FORM, 0, 0, 0, 0, 0, 0, 0, 0x07, 0xd0,
	11, '2', '0', '0', '1', ':', 'd', 'b', '8', ':', ':', '1', 0,
};

/* The same subject in format 2: varint counts and times, event times from changed. */
static const unsigned char fmt2[] = {
	2, 1, 2,				/* format 2, suppression, 2 lists */
	SR_SOFT_BOUNCE, SRC_BOUNCE, 0,
	0xf0, 0x2e,				/* created 3000 (zigzag 6000) */
	0xc0, 0x3e,				/* expires 4000 */
	17, '<', 'a', 'b', 'c', '@', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.',
	'c', 'o', 'm', '>',
	0,
	5, 'a', 'l', 'p', 'h', 'a', CS_SUBSCRIBED,
	0xb8, 0x17, 1,				/* changed 1500, 1 event */
	CS_SUBSCRIBED, SRC_IMPORT, 0, 0, 0, 0,	/* at changed */
	4, 'n', 'e', 'w', 's', CS_CONFIRMED,
	0xa0, 0x1f, 2,				/* changed 2000, 2 events */
	CS_PENDING, SRC_FORM, 0, 0xcf, 0x0f,	/* 1000 before changed */
	9, '1', '9', '2', '.', '0', '.', '2', '.', '7',
	20, 's', 'i', 'g', 'n', 'u', 'p', ' ', 'f', 'o', 'r', 'm', ' ', '"',
	's', 'p', 'r', 'i', 'n', 'g', '"',
	CS_CONFIRMED, SRC_FORM, 0, 0,
	11, '2', '0', '0', '1', ':', 'd', 'b', '8', ':', ':', '1', 0,
};

/* is_sample - d holds what sample() made. */
static void
is_sample(const struct subject *d)
{
	assert_true(d->has_supp);
	assert_int_equal(d->supp.reason, SR_SOFT_BOUNCE);
	assert_int_equal(d->supp.source, SRC_BOUNCE);
	assert_true(d->supp.created == 3000);
	assert_true(d->supp.expires == 4000);
	assert_string_equal(d->supp.ref, "<abc@example.com>");
	assert_string_equal(d->supp.note, "");
	assert_int_equal(d->nlists, 2);
	assert_string_equal(d->lists[0].list, "alpha");
	assert_int_equal(d->lists[0].status, CS_SUBSCRIBED);
	assert_true(d->lists[0].changed == 1500);
	assert_int_equal(d->lists[0].nev, 1);
	assert_true(d->lists[0].ev[0].time == 1500);
	assert_int_equal(d->lists[0].ev[0].source, SRC_IMPORT);
	assert_string_equal(d->lists[1].list, "news");
	assert_int_equal(d->lists[1].status, CS_CONFIRMED);
	assert_true(d->lists[1].changed == 2000);
	assert_int_equal(d->lists[1].nev, 2);
	assert_int_equal(d->lists[1].ev[0].status, CS_PENDING);
	assert_true(d->lists[1].ev[0].time == 1000);
	assert_string_equal(d->lists[1].ev[0].ip, "192.0.2.7");
	assert_string_equal(d->lists[1].ev[0].note, "signup form \"spring\"");
	assert_int_equal(d->lists[1].ev[1].status, CS_CONFIRMED);
	assert_true(d->lists[1].ev[1].time == 2000);
	assert_string_equal(d->lists[1].ev[1].ip, "2001:db8::1");
}

static void
test_format2_layout(void **state)
{
	struct subject s, d;
	unsigned char *buf;
	size_t len;
	char err[128];

	(void)state;
	/* What this build writes, octet for octet. */
	sample(&s);
	assert_int_equal(record_encode(&s, &buf, &len), 0);
	assert_int_equal(len, sizeof(fmt2));
	assert_memory_equal(buf, fmt2, len);
	free(buf);
	subject_clear(&s);
	subject_init(&d);
	assert_int_equal(record_decode(fmt2, sizeof(fmt2), &d, err,
	    sizeof(err)), 0);
	is_sample(&d);
	subject_clear(&d);
}

static void
test_format1_read(void **state)
{
	struct subject d, d2;
	unsigned char *buf, *buf2;
	size_t len, len2;
	char err[128];

	(void)state;
	subject_init(&d);
	assert_int_equal(record_decode(fmt1, sizeof(fmt1), &d, err,
	    sizeof(err)), 0);
	is_sample(&d);
	/* Written back, it is format 2, and reads the same. */
	assert_int_equal(record_encode(&d, &buf, &len), 0);
	assert_int_equal(buf[0], 2);
	assert_int_equal(len, sizeof(fmt2));
	assert_memory_equal(buf, fmt2, len);
	subject_init(&d2);
	assert_int_equal(record_decode(buf, len, &d2, err, sizeof(err)), 0);
	is_sample(&d2);
	assert_int_equal(record_encode(&d2, &buf2, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(buf2, buf, len);
	free(buf);
	free(buf2);
	subject_clear(&d);
	subject_clear(&d2);
	/* Cut short anywhere, format 1 is refused as before. */
	for (size_t n = 0; n < sizeof(fmt1); n++)
		assert_int_equal(record_decode(fmt1, n, &d, err, sizeof(err)), -1);
}

/* peek_sample - record_peek of v finds in it what sample() made. */
static void
peek_sample(const unsigned char *v, size_t len)
{
	struct supp_view sv;
	struct consent_view cv;
	int hs, hc;

	assert_int_equal(record_peek(v, len, "news", &hs, &sv, &hc, &cv), 0);
	assert_true(hs);
	assert_int_equal(sv.reason, SR_SOFT_BOUNCE);
	assert_int_equal(sv.source, SRC_BOUNCE);
	assert_true(sv.created == 3000);
	assert_true(sv.expires == 4000);
	assert_true(hc);
	assert_int_equal(cv.status, CS_CONFIRMED);
	assert_true(cv.changed == 2000);
	assert_int_equal(cv.source, SRC_FORM);
	assert_int_equal(record_peek(v, len, "alpha", &hs, &sv, &hc, &cv), 0);
	assert_true(hc);
	assert_true(cv.changed == 1500);
	assert_int_equal(cv.source, SRC_IMPORT);
	assert_int_equal(record_peek(v, len, "aaa", &hs, &sv, &hc, &cv), 0);
	assert_false(hc);
	assert_int_equal(record_peek(v, len, "nope", &hs, &sv, &hc, &cv), 0);
	assert_false(hc);
	assert_int_equal(record_peek(v, len, "zzz", &hs, &sv, &hc, &cv), 0);
	assert_false(hc);
	/* Cut short, past the suppression: refused, whichever list is asked. */
	assert_int_equal(record_peek(v, len - 1, "news", &hs, &sv, &hc, &cv), -1);
	assert_int_equal(record_peek(v, len - 30, "zzz", &hs, &sv, &hc, &cv), -1);
}

static void
test_peek_both_formats(void **state)
{
	(void)state;
	peek_sample(fmt1, sizeof(fmt1));
	peek_sample(fmt2, sizeof(fmt2));
}

/* bad - v is refused by decode with "corrupt record: bad " what, and by peek. */
static void
bad(const unsigned char *v, size_t len, const char *what)
{
	struct subject d;
	struct supp_view sv;
	struct consent_view cv;
	char err[128], want[128];
	int hs, hc;

	subject_init(&d);
	assert_int_equal(record_decode(v, len, &d, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "corrupt record: bad %s", what);
	assert_string_equal(err, want);
	assert_int_equal(record_peek(v, len, "m", &hs, &sv, &hc, &cv), -1);
}

static void
test_varints_refused(void **state)
{
	/* list count: overlong, over REC_LISTS_MAX (257), cut short */
	static const unsigned char n_over[] = { 2, 0, 0x80, 0x00 };
	static const unsigned char n_big[] = { 2, 0, 0x81, 0x02 };
	static const unsigned char n_cut[] = { 2, 0, 0x81 };
	/* suppression times: overlong, past 64 bits */
	static const unsigned char c_over[] = {
		2, 1, 0, SR_MANUAL, SRC_ADMIN, 0, 0x80, 0x00, 0, 0, 0
	};
	static const unsigned char e_big[] = {
		2, 1, 0, SR_MANUAL, SRC_ADMIN, 0, 0x02,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0
	};
	/* list times: overlong consent time, cut-short event time */
	static const unsigned char t_over[] = {
		2, 0, 1, 1, 'l', CS_SUBSCRIBED, 0x82, 0x80, 0x00, 1,
		CS_SUBSCRIBED, SRC_IMPORT, 0, 0, 0, 0
	};
	static const unsigned char ev_cut[] = {
		2, 0, 1, 1, 'l', CS_SUBSCRIBED, 0x02, 1,
		CS_SUBSCRIBED, SRC_IMPORT, 0, 0x81
	};
	static const unsigned char ev_over[] = {
		2, 0, 1, 1, 'l', CS_SUBSCRIBED, 0x02, 1,
		CS_SUBSCRIBED, SRC_IMPORT, 0, 0x80, 0x00, 0, 0
	};
	static const unsigned char good[] = {
		2, 0, 1, 1, 'l', CS_SUBSCRIBED, 0x02, 1,
		CS_SUBSCRIBED, SRC_IMPORT, 0, 0x01, 0, 0
	};
	struct subject d;
	char err[128];

	(void)state;
	bad(n_over, sizeof(n_over), "list count");
	bad(n_big, sizeof(n_big), "list count");
	bad(n_cut, sizeof(n_cut), "list count");
	bad(c_over, sizeof(c_over), "suppression time");
	bad(e_big, sizeof(e_big), "suppression expiry");
	bad(t_over, sizeof(t_over), "consent time");
	bad(ev_cut, sizeof(ev_cut), "event time");
	bad(ev_over, sizeof(ev_over), "event time");
	/* The same value with its varints right: changed 1, the event at 0. */
	subject_init(&d);
	assert_int_equal(record_decode(good, sizeof(good), &d, err,
	    sizeof(err)), 0);
	assert_true(d.lists[0].changed == 1);
	assert_true(d.lists[0].ev[0].time == 0);
	subject_clear(&d);
}

/* peek_agrees - peek refuses v, for every list asked, iff decode does. */
static void
peek_agrees(const unsigned char *v, size_t len)
{
	static const char *lists[] = { "news", "alpha", "m", "zzz", "" };
	struct subject d;
	struct supp_view sv;
	struct consent_view cv;
	char err[128];
	int hs, hc, rc;

	subject_init(&d);
	rc = record_decode(v, len, &d, err, sizeof(err));
	subject_clear(&d);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (record_peek(v, len, lists[i], &hs, &sv, &hc, &cv) != rc)
			fail_msg("decode %d, peek of \"%s\" not", rc, lists[i]);
		if (rc == -1 && hc)
			fail_msg("a refused value read as a consent");
	}
}

static void
test_peek_refuses_damage(void **state)
{
	/* No suppression, "news" subscribed, then damage decode refuses. */
#define NEWS2	4, 'n', 'e', 'w', 's', CS_SUBSCRIBED, 0, 1, \
		CS_SUBSCRIBED, SRC_ADMIN, 0, 0, 0, 0
	static const unsigned char trailing[] = { 2, 0, 1, NEWS2, 0x55 };
	static const unsigned char dup[] = {
		2, 0, 2, NEWS2, 4, 'n', 'e', 'w', 's', CS_UNSUBSCRIBED, 0, 1,
		CS_UNSUBSCRIBED, SRC_ADMIN, 0, 0, 0, 0
	};
	static const unsigned char later_bad[] = {
		2, 0, 2, NEWS2, 3, 'Z', 'Z', 'Z', CS_SUBSCRIBED, 0, 1,
		CS_SUBSCRIBED, SRC_ADMIN, 0, 0, 0, 0
	};
	static const unsigned char ev_status[] = {
		2, 0, 1, 4, 'n', 'e', 'w', 's', CS_SUBSCRIBED, 0, 1,
		CS_NONE, SRC_ADMIN, 0, 0, 0, 0
	};
	static const unsigned char earlier_nev0[] = {
		2, 0, 2, 1, 'a', CS_UNSUBSCRIBED, 0, 0, NEWS2
	};
	static const unsigned char earlier_name[] = {
		2, 0, 2, 0, CS_UNSUBSCRIBED, 0, 1, CS_UNSUBSCRIBED, SRC_ADMIN,
		0, 0, 0, 0, NEWS2
	};
	unsigned char nev9[11 + 6 * 9] = {
		2, 0, 1, 4, 'n', 'e', 'w', 's', CS_SUBSCRIBED, 0, 9
	};
	unsigned char *copy;

	(void)state;
#undef NEWS2
	for (int k = 0; k < 9; k++) {
		nev9[11 + 6 * k] = CS_SUBSCRIBED;
		nev9[12 + 6 * k] = SRC_ADMIN;
	}
	bad(trailing, sizeof(trailing), "trailing data");
	bad(dup, sizeof(dup), "list order");
	bad(later_bad, sizeof(later_bad), "list name");
	bad(ev_status, sizeof(ev_status), "event status");
	bad(earlier_nev0, sizeof(earlier_nev0), "event count");
	bad(earlier_name, sizeof(earlier_name), "list name");
	bad(nev9, sizeof(nev9), "event count");
	peek_agrees(trailing, sizeof(trailing));
	peek_agrees(dup, sizeof(dup));
	peek_agrees(nev9, sizeof(nev9));
	/* Every one-octet change and every cut of both samples. */
	copy = malloc(sizeof(fmt1) > sizeof(fmt2) ? sizeof(fmt1) : sizeof(fmt2));
	assert_non_null(copy);
	for (int f = 1; f <= 2; f++) {
		const unsigned char *v = f == 1 ? fmt1 : fmt2;
		size_t len = f == 1 ? sizeof(fmt1) : sizeof(fmt2);

		for (size_t i = 0; i < len; i++) {
			peek_agrees(v, i);
			for (int b = 0; b < 256; b++) {
				memcpy(copy, v, len);
				copy[i] = (unsigned char)b;
				peek_agrees(copy, len);
			}
		}
	}
	free(copy);
}

static void
test_extreme_times(void **state)
{
	static const int64_t times[] = { INT64_MIN, -1, 0, 1, INT64_MAX };
	struct subject s, d;
	unsigned char *buf, *buf2;
	size_t len, len2;
	char err[128];

	(void)state;
	/* Every time, and every distance between two (wrapping), round-trips. */
	for (size_t i = 0; i < 5; i++) {
		for (size_t j = 0; j < 5; j++) {
			subject_init(&s);
			s.lists = calloc(1, sizeof(*s.lists));
			assert_non_null(s.lists);
			s.nlists = 1;
			strcpy(s.lists[0].list, "l");
			s.lists[0].status = CS_SUBSCRIBED;
			s.lists[0].changed = times[i];
			s.lists[0].nev = 1;
			s.lists[0].ev[0].status = CS_SUBSCRIBED;
			s.lists[0].ev[0].time = times[j];
			s.has_supp = 1;
			s.supp.reason = SR_MANUAL;
			s.supp.created = times[j];
			s.supp.expires = times[i];
			assert_int_equal(record_encode(&s, &buf, &len), 0);
			subject_init(&d);
			assert_int_equal(record_decode(buf, len, &d, err,
			    sizeof(err)), 0);
			assert_true(d.lists[0].changed == times[i]);
			assert_true(d.lists[0].ev[0].time == times[j]);
			assert_true(d.supp.created == times[j]);
			assert_true(d.supp.expires == times[i]);
			assert_int_equal(record_encode(&d, &buf2, &len2), 0);
			assert_int_equal(len2, len);
			assert_memory_equal(buf2, buf, len);
			free(buf);
			free(buf2);
			subject_clear(&s);
			subject_clear(&d);
		}
	}
}

static void
test_imported_size(void **state)
{
	struct evidence ev = ev_make(CS_SUBSCRIBED, 1704067200, SRC_IMPORT);
	struct subject s;
	unsigned char *buf;
	size_t len;

	(void)state;
	/* What an import of one dated row makes: 24 octets (35 in format 1). */
	subject_init(&s);
	assert_int_equal(record_apply_consent(&s, REC_DEFAULT_LIST, &ev), 1);
	assert_int_equal(record_encode(&s, &buf, &len), 0);
	assert_int_equal(len, 24);
	free(buf);
	subject_clear(&s);
}

static void
test_merge_newer_wins(void **state)
{
	struct subject s;
	struct evidence ev;

	(void)state;
	subject_init(&s);
	ev = ev_make(CS_SUBSCRIBED, 100, SRC_FORM);
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	ev = ev_make(CS_UNSUBSCRIBED, 200, SRC_ONECLICK);
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	/* An older subscribe never undoes the unsubscribe: kept as evidence. */
	ev = ev_make(CS_SUBSCRIBED, 150, SRC_IMPORT);
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	assert_int_equal(s.lists[0].status, CS_UNSUBSCRIBED);
	assert_int_equal(s.lists[0].changed, 200);
	/* At the same time, the unsubscribe wins; a subscribe does not. */
	ev = ev_make(CS_SUBSCRIBED, 200, SRC_IMPORT);
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	assert_int_equal(s.lists[0].status, CS_UNSUBSCRIBED);
	/* A newer subscribe does (a real re-opt-in). */
	ev = ev_make(CS_SUBSCRIBED, 300, SRC_FORM);
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	assert_int_equal(s.lists[0].status, CS_SUBSCRIBED);
	/* Applying the same change again changes nothing. */
	assert_int_equal(record_apply_consent(&s, "l", &ev), 0);
	assert_int_equal(s.lists[0].nev, 5);
	subject_clear(&s);
}

static void
test_merge_tie_unsubscribe_wins(void **state)
{
	struct subject s;
	struct evidence ev;

	(void)state;
	subject_init(&s);
	ev = ev_make(CS_SUBSCRIBED, 100, SRC_FORM);
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	ev = ev_make(CS_UNSUBSCRIBED, 100, SRC_MAILTO);
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	assert_int_equal(s.lists[0].status, CS_UNSUBSCRIBED);
	subject_clear(&s);
}

static void
test_merge_confirmed_not_downgraded(void **state)
{
	struct subject s;
	struct evidence ev;

	(void)state;
	subject_init(&s);
	ev = ev_make(CS_CONFIRMED, 100, SRC_FORM);
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	/* Asking again does not undo it (kept as evidence). */
	ev = ev_make(CS_PENDING, 200, SRC_FORM);
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	assert_int_equal(s.lists[0].status, CS_CONFIRMED);
	/* A newer single opt-in renews it: still confirmed, newer time. */
	ev = ev_make(CS_SUBSCRIBED, 300, SRC_API);
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	assert_int_equal(s.lists[0].status, CS_CONFIRMED);
	assert_int_equal(s.lists[0].changed, 300);
	assert_int_equal(record_apply_consent(&s, "l", &ev), 0);
	subject_clear(&s);
}

static void
test_merge_time_unknown(void **state)
{
	struct subject s;
	struct evidence ev;

	(void)state;
	subject_init(&s);
	/* Fills a gap... */
	ev = ev_make(CS_SUBSCRIBED, 5000, SRC_IMPORT);
	ev.flags = REC_F_TIME_UNKNOWN;
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	/* ...but a second undated import changes nothing... */
	ev.time = 6000;
	assert_int_equal(record_apply_consent(&s, "l", &ev), 0);
	/* ...and any dated change beats it, even one dated earlier. */
	ev = ev_make(CS_UNSUBSCRIBED, 10, SRC_IMPORT);
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	assert_int_equal(s.lists[0].status, CS_UNSUBSCRIBED);
	/* An undated subscribe never undoes an unsubscribe. */
	ev = ev_make(CS_SUBSCRIBED, 7000, SRC_IMPORT);
	ev.flags = REC_F_TIME_UNKNOWN;
	assert_int_equal(record_apply_consent(&s, "l", &ev), 0);
	subject_clear(&s);

	/* An undated unsubscribe is never dropped, and holds as of its time. */
	ev = ev_make(CS_SUBSCRIBED, 100, SRC_FORM);
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	ev = ev_make(CS_UNSUBSCRIBED, 9000, SRC_IMPORT);
	ev.flags = REC_F_TIME_UNKNOWN;
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	assert_int_equal(s.lists[0].status, CS_UNSUBSCRIBED);
	assert_int_equal(record_apply_consent(&s, "l", &ev), 0);	/* again */
	ev = ev_make(CS_SUBSCRIBED, 5000, SRC_IMPORT);	/* older, dated */
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	assert_int_equal(s.lists[0].status, CS_UNSUBSCRIBED);
	ev = ev_make(CS_SUBSCRIBED, 9500, SRC_FORM);	/* newer: a re-opt-in */
	assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	subject_clear(&s);
}

static void
test_merge_history_bounded(void **state)
{
	struct subject s;
	struct evidence ev;

	(void)state;
	subject_init(&s);
	for (int i = 0; i < 20; i++) {
		ev = ev_make(i % 2 ? CS_UNSUBSCRIBED : CS_SUBSCRIBED, 100 + i,
		    SRC_FORM);
		assert_int_equal(record_apply_consent(&s, "l", &ev), 1);
	}
	assert_int_equal(s.lists[0].nev, REC_EVENTS_MAX);
	/* The origin is kept, and the newest. */
	assert_int_equal(s.lists[0].ev[0].time, 100);
	assert_int_equal(s.lists[0].ev[REC_EVENTS_MAX - 1].time, 119);
	assert_int_equal(s.lists[0].status, CS_UNSUBSCRIBED);
	subject_clear(&s);
}

static struct suppression
sp_make(int reason, int64_t created, int64_t expires)
{
	struct suppression sp;

	memset(&sp, 0, sizeof(sp));
	sp.reason = (uint8_t)reason;
	sp.created = created;
	sp.expires = expires;
	sp.source = SRC_ADMIN;
	return sp;
}

static void
test_merge_supp(void **state)
{
	struct subject s;
	struct suppression sp;

	(void)state;
	subject_init(&s);
	sp = sp_make(SR_HARD_BOUNCE, 100, 0);
	assert_int_equal(record_apply_supp(&s, &sp, 100), 1);
	assert_int_equal(record_apply_supp(&s, &sp, 100), 0);	/* idempotent */
	/* A weaker one never replaces a sticky one, even newer. */
	sp = sp_make(SR_SOFT_BOUNCE, 200, 300);
	assert_int_equal(record_apply_supp(&s, &sp, 200), 0);
	sp = sp_make(SR_MANUAL, 200, 0);
	assert_int_equal(record_apply_supp(&s, &sp, 200), 0);
	assert_int_equal(s.supp.reason, SR_HARD_BOUNCE);
	/* A newer sticky one does. */
	sp = sp_make(SR_COMPLAINT, 300, 0);
	assert_int_equal(record_apply_supp(&s, &sp, 300), 1);
	assert_int_equal(s.supp.reason, SR_COMPLAINT);
	subject_clear(&s);

	/* A sticky one replaces a weaker one, even older. */
	sp = sp_make(SR_SOFT_BOUNCE, 500, 600);
	assert_int_equal(record_apply_supp(&s, &sp, 500), 1);
	sp = sp_make(SR_INVALID, 400, 0);
	assert_int_equal(record_apply_supp(&s, &sp, 500), 1);
	subject_clear(&s);

	/* An expired one gives way. */
	sp = sp_make(SR_SOFT_BOUNCE, 500, 600);
	assert_int_equal(record_apply_supp(&s, &sp, 500), 1);
	sp = sp_make(SR_MANUAL, 100, 590);
	assert_int_equal(record_apply_supp(&s, &sp, 550), 0);	/* older, live */
	assert_int_equal(record_apply_supp(&s, &sp, 700), 1);	/* expired now */
	subject_clear(&s);

	/* One that ends never gives way to one that ends sooner, in either
	 * order: an unsubscribe from every list, then a soft bounce of mail
	 * sent before it (30 days), is an unsubscribe for good. */
	sp = sp_make(SR_UNSUBSCRIBED_ALL, 100, 0);
	assert_int_equal(record_apply_supp(&s, &sp, 100), 1);
	sp = sp_make(SR_SOFT_BOUNCE, 200, 200 + 30 * 86400);
	assert_int_equal(record_apply_supp(&s, &sp, 200), 0);
	assert_int_equal(s.supp.reason, SR_UNSUBSCRIBED_ALL);
	subject_clear(&s);
	sp = sp_make(SR_SOFT_BOUNCE, 200, 200 + 30 * 86400);
	assert_int_equal(record_apply_supp(&s, &sp, 200), 1);
	sp = sp_make(SR_UNSUBSCRIBED_ALL, 100, 0);
	assert_int_equal(record_apply_supp(&s, &sp, 200), 1);
	assert_int_equal(s.supp.reason, SR_UNSUBSCRIBED_ALL);
	/* A manual one for a day does not shorten it either. */
	sp = sp_make(SR_MANUAL, 300, 300 + 86400);
	assert_int_equal(record_apply_supp(&s, &sp, 300), 0);
	/* Two that end: the later end wins, whichever came first. */
	subject_clear(&s);
	sp = sp_make(SR_SOFT_BOUNCE, 100, 5000);
	assert_int_equal(record_apply_supp(&s, &sp, 100), 1);
	sp = sp_make(SR_MANUAL, 200, 4000);
	assert_int_equal(record_apply_supp(&s, &sp, 200), 0);
	assert_int_equal(s.supp.expires, 5000);
	subject_clear(&s);
}

static void
test_names(void **state)
{
	(void)state;
	for (int i = 0; i < CS_MAX_; i++)
		assert_int_equal(record_status_parse(record_status_name(i)), i);
	for (int i = 0; i < SR_MAX_; i++)
		assert_int_equal(record_reason_parse(record_reason_name(i)), i);
	for (int i = 0; i < SRC_MAX_; i++)
		assert_int_equal(record_source_parse(record_source_name(i)), i);
	assert_int_equal(record_status_parse("bogus"), -1);
	assert_string_equal(record_status_name(99), "?");
}

static void
test_list_names(void **state)
{
	char out[REC_LIST_MAX + 1], err[128];
	char longname[REC_LIST_MAX + 2];

	(void)state;
	assert_int_equal(record_list_norm("News.Example.COM", out, err,
	    sizeof(err)), 0);
	assert_string_equal(out, "news.example.com");
	assert_int_equal(record_list_check("", err, sizeof(err)), -1);
	assert_int_equal(record_list_check("a b", err, sizeof(err)), -1);
	assert_int_equal(record_list_check("a/b", err, sizeof(err)), -1);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(record_list_norm(longname, out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer"));
	longname[REC_LIST_MAX] = '\0';
	assert_int_equal(record_list_check(longname, err, sizeof(err)), 0);
}

/*
 * Changes at the same second end the same whatever order they come in:
 * unsubscribe, then confirmed, then pending, then subscribed wins.
 */
static void
test_merge_tie_order_free(void **state)
{
	static const int st[4] = { CS_SUBSCRIBED, CS_PENDING, CS_CONFIRMED,
	    CS_UNSUBSCRIBED };
	static const int perm[24][4] = {
		{0,1,2,3},{0,1,3,2},{0,2,1,3},{0,2,3,1},{0,3,1,2},{0,3,2,1},
		{1,0,2,3},{1,0,3,2},{1,2,0,3},{1,2,3,0},{1,3,0,2},{1,3,2,0},
		{2,0,1,3},{2,0,3,1},{2,1,0,3},{2,1,3,0},{2,3,0,1},{2,3,1,0},
		{3,0,1,2},{3,0,2,1},{3,1,0,2},{3,1,2,0},{3,2,0,1},{3,2,1,0},
	};

	(void)state;
	/* Every pair, both orders: the stronger wins. */
	for (int a = 0; a < 4; a++)
		for (int b = 0; b < 4; b++) {
			struct subject s;
			struct evidence ev;

			subject_init(&s);
			memset(&ev, 0, sizeof(ev));
			ev.time = 1000;
			ev.status = (uint8_t)st[a];
			ev.source = SRC_FORM;
			assert_true(record_apply_consent(&s, "news", &ev) >= 0);
			ev.status = (uint8_t)st[b];
			ev.source = SRC_DOI;
			assert_true(record_apply_consent(&s, "news", &ev) >= 0);
			assert_int_equal(record_find_list(&s, "news")->status,
			    st[a > b ? a : b]);
			subject_clear(&s);
		}
	/* All four, every order. */
	for (int p = 0; p < 24; p++) {
		struct subject s;
		struct evidence ev;

		subject_init(&s);
		for (int i = 0; i < 4; i++) {
			memset(&ev, 0, sizeof(ev));
			ev.time = 1000;
			ev.status = (uint8_t)st[perm[p][i]];
			ev.source = (uint8_t)(SRC_FORM + i);
			assert_true(record_apply_consent(&s, "news", &ev) >= 0);
		}
		assert_int_equal(record_find_list(&s, "news")->status,
		    CS_UNSUBSCRIBED);
		subject_clear(&s);
	}
}

/*
 * The same changes give the same record in any order: a fleet's replicas
 * and imports of one file in pieces agree byte for byte, past the bound
 * on kept changes too.
 */
static void
test_merge_any_order(void **state)
{
	uint64_t rng = 0x1234567;

	(void)state;
	for (int round = 0; round < 300; round++) {
		struct evidence evs[14];
		unsigned char *first = NULL, *buf;
		size_t flen = 0, len;
		int n = 4 + round % 11;

		for (int i = 0; i < n; i++) {
			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			memset(&evs[i], 0, sizeof(evs[i]));
			evs[i].status = (uint8_t)(1 + (rng >> 33) % 4);
			evs[i].time = 1000 + (int64_t)((rng >> 40) % 6);
			evs[i].source = (uint8_t)(1 + (rng >> 20) % 3);
			snprintf(evs[i].ip, sizeof(evs[i].ip), "192.0.2.%u",
			    (unsigned)((rng >> 50) % 3));
		}
		for (int perm = 0; perm < 12; perm++) {
			struct subject s;

			/* A Fisher-Yates shuffle of the changes. */
			for (int i = n - 1; i > 0; i--) {
				struct evidence t;
				int j;

				rng = rng * 6364136223846793005ULL + 1;
				j = (int)((rng >> 33) % (uint64_t)(i + 1));
				t = evs[i];
				evs[i] = evs[j];
				evs[j] = t;
			}
			subject_init(&s);
			for (int i = 0; i < n; i++) {
				assert_true(record_apply_consent(&s, "l", &evs[i]) >= 0);
				/* Twice changes nothing. */
				assert_int_equal(record_apply_consent(&s, "l", &evs[i]), 0);
			}
			assert_int_equal(record_encode(&s, &buf, &len), 0);
			if (first == NULL) {
				first = buf;
				flen = len;
			} else {
				assert_int_equal(len, flen);
				assert_memory_equal(buf, first, len);
				free(buf);
			}
			subject_clear(&s);
		}
		free(first);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_truncations_refused),
		cmocka_unit_test(test_corruptions_refused),
		cmocka_unit_test(test_newer_format_named),
		cmocka_unit_test(test_peek),
		cmocka_unit_test(test_format2_layout),
		cmocka_unit_test(test_format1_read),
		cmocka_unit_test(test_peek_both_formats),
		cmocka_unit_test(test_varints_refused),
		cmocka_unit_test(test_peek_refuses_damage),
		cmocka_unit_test(test_extreme_times),
		cmocka_unit_test(test_imported_size),
		cmocka_unit_test(test_merge_newer_wins),
		cmocka_unit_test(test_merge_tie_unsubscribe_wins),
		cmocka_unit_test(test_merge_tie_order_free),
		cmocka_unit_test(test_merge_any_order),
		cmocka_unit_test(test_merge_confirmed_not_downgraded),
		cmocka_unit_test(test_merge_time_unknown),
		cmocka_unit_test(test_merge_history_bounded),
		cmocka_unit_test(test_merge_supp),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_list_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
