/*
 * ctl_subject.c - consentctl subject: a data subject's rights.
 *
 *   subject export ADDRESS [--audit FILE]...   (GDPR Art. 15) everything
 *       held about the person, as one JSON document: the store's records
 *       with all their evidence, the suppressions that cover them, whether
 *       they were erased, and every audit decision about them, found
 *       through the keyed pseudonym.
 *   subject erase ADDRESS                      (Art. 17) the records go,
 *       with their evidence and notes; the address is kept only as a
 *       keyed hash (store.h), so that the person stays unmailable and no
 *       import brings them back; the review queue's reports that name
 *       them go too.  The audit trail keeps its pseudonymised lines: the
 *       proof of past decisions (Art. 17(3)(b) and (e)).
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/audit.h"
#include "core/audit_scan.h"
#include "ctl/ctl.h"
#include "ctl/fbqueue.h"
#include "util/enc.h"
#include "util/time.h"
#include "util/util.h"

/* subject_usage - both subcommands' usage; CTL_ERR. */
static int
subject_usage(struct ctl *c)
{
	ctl_err(c, "usage: consentctl subject export ADDRESS [--audit FILE]...\n"
	    "       consentctl subject erase ADDRESS");
	return CTL_ERR;
}

/* --- export ------------------------------------------------------------- */

/* The keys export looks at, as show does: the address, untagged, domains. */
struct skey {
	const char *key;
	const char *what;
};

/* export_records - each record under keys, as JSON; their count or -1. */
static int
export_records(struct ctl *c, struct store *st, const struct skey *keys,
    size_t n, int domains)
{
	struct subject s;
	char err[512];
	int found = 0, rc;

	subject_init(&s);
	for (size_t i = 0; i < n; i++) {
		if (store_is_domain_key(keys[i].key) != domains)
			continue;
		if ((rc = store_get(st, keys[i].key, &s, err, sizeof(err))) == -1) {
			ctl_err(c, "subject export: %s", err);
			subject_clear(&s);
			return -1;
		}
		if (rc == 0)
			continue;
		printf("%s{\"match\":\"%s\",\"record\":", found ? "," : "",
		    keys[i].what);
		ctl_print_subject_json(keys[i].key, &s);
		printf("}");
		found++;
		subject_clear(&s);
	}
	subject_clear(&s);
	return found;
}

/* export_erased - the erasure of the address or its untagged form. */
static int
export_erased(struct ctl *c, struct store *st, const struct addr *a)
{
	const char *which[2] = { a->key, a->base };
	char err[512], tb[32];
	int64_t when;

	for (int i = 0; i < 2; i++) {
		int rc = store_erased(st, which[i], &when, err, sizeof(err));

		if (rc == -1) {
			ctl_err(c, "subject export: %s", err);
			return -1;
		}
		if (rc == 1) {
			printf("{\"at\":\"%s\",\"match\":\"%s\",\"kept\":\"a keyed "
			    "hash of the address, so that it stays unmailable\"}",
			    time_format(when, tb, sizeof(tb)), i == 0 ?
			    "address" : "untagged");
			return 1;
		}
	}
	printf("null");
	return 0;
}

/* export_soft - the soft-bounce counts of the address and its untagged form. */
static int
export_soft(struct ctl *c, struct store *st, const struct addr *a)
{
	const char *which[2] = { a->key, a->base };
	struct store_soft ss;
	char err[512], tf[32], tl[32];
	int n = 0, rc;

	for (int i = 0; i < 2; i++) {
		if (i == 1 && strcmp(a->base, a->key) == 0)
			break;
		if ((rc = store_soft_get(st, which[i], &ss, err,
		    sizeof(err))) == -1) {
			ctl_err(c, "subject export: %s", err);
			return -1;
		}
		if (rc == 0)
			continue;
		printf("%s{\"match\":\"%s\",\"count\":%u,\"first\":\"%s\","
		    "\"last\":\"%s\"}", n++ ? "," : "", i == 0 ? "address" :
		    "untagged", ss.count, time_format(ss.first, tf, sizeof(tf)),
		    time_format(ss.last, tl, sizeof(tl)));
	}
	return n;
}

/* export_line - one audit line as a JSON value: itself when it scans as ours. */
static void
export_line(const char *line, size_t n, char *scratch)
{
	struct audit_fields f;
	char err[128];

	if (audit_scan(line, n, scratch, n + 1, &f, err, sizeof(err)) == 0 &&
	    n > 1 && line[0] == '{' && line[n - 1] == '}')
		fwrite(line, 1, n, stdout);
	else {
		char *text = strndup(line, n);

		enc_json_puts(stdout, text != NULL ? text : "");
		free(text);
	}
}

/* export_audit - the decisions about the person in the files; count or -1. */
static int
export_audit(struct ctl *c, const struct ctl_opts *o, const char *plain,
    const char *needle, int *found)
{
	char *line = NULL, *scratch = NULL;
	size_t cap = 0;
	ssize_t n;

	for (size_t i = 0; i < o->nfiles; i++) {
		FILE *fp = fopen(o->files[i].path, "r");

		if (fp == NULL) {
			ctl_err(c, "subject export: %s: %s", o->files[i].path,
			    strerror(errno));
			free(line);
			free(scratch);
			return -1;
		}
		while ((n = getline(&line, &cap, fp)) != -1) {
			char *ns;

			if ((needle[0] == '\0' || strstr(line, needle) == NULL) &&
			    strstr(line, plain) == NULL)
				continue;
			while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				n--;
			if ((ns = realloc(scratch, (size_t)n + 1)) == NULL)
				break;
			scratch = ns;
			printf("%s", (*found)++ ? ",\n    " : "\n    ");
			export_line(line, (size_t)n, scratch);
		}
		fclose(fp);
	}
	free(line);
	free(scratch);
	return 0;
}

/* export_files - the audit files: --audit, else the configured one. */
static void
export_files(struct ctl *c, struct ctl_opts *o)
{
	if (o->nfiles == 0 && c->cf.audit_file[0] != '\0')
		o->files[o->nfiles++].path = c->cf.audit_file;
	printf("[");
	for (size_t i = 0; i < o->nfiles; i++) {
		printf("%s", i ? "," : "");
		enc_json_puts(stdout, o->files[i].path);
	}
	printf("]");
}

/* The person a command is about, as the review queue's test needs them. */
struct person {
	const struct addr *a;
	const char *delims;		/* config: the tag delimiters */
};

/* local_char - 1 if ch may be in a local part as reports write them. */
static int
local_char(unsigned char ch)
{
	return ch >= 0x80 || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= 'A' && ch <= 'Z') || strchr("!#$%&'*+/=?^_`{|}~.-", ch) != NULL;
}

/*
 * names_person - the review queue's test, for export and erase: 1 if text
 * names the person's address, in any case, or any tagged form of it
 * (LOCAL<delim>anything@DOMAIN), as a whole address: malice@ is not alice@.
 */
static int
names_person(const char *text, size_t len, void *arg)
{
	const struct person *e = arg;
	const char *base = e->a->base, *at = strrchr(base, '@');
	size_t llen, dlen;

	if (at == NULL)
		return 0;
	llen = (size_t)(at - base);
	dlen = strlen(at);			/* "@domain" */
	for (size_t i = llen; i + dlen <= len; i++) {
		size_t end = i + dlen, j = i;

		if (strncasecmp(text + i, at, dlen) != 0)
			continue;
		/* The domain ends there: "alice@example.com." ends a sentence. */
		if (end < len && (isalnum((unsigned char)text[end]) ||
		    text[end] == '-' || (text[end] == '.' && end + 1 < len &&
		    isalnum((unsigned char)text[end + 1]))))
			continue;
		while (j > 0 && local_char((unsigned char)text[j - 1]))
			j--;
		if (i - j < llen || strncasecmp(text + j, base, llen) != 0)
			continue;
		if (i - j == llen || strchr(e->delims, text[j + llen]) != NULL)
			return 1;
	}
	return 0;
}

/* The state of export_queue through fbq_naming. */
struct qexport {
	struct ctl *c;
	int	n;
	char	err[512];
};

/* queue_one - one report of the review queue that names the person, as JSON. */
static int
queue_one(const char *id, void *arg)
{
	struct qexport *q = arg;
	struct fbq_meta m;
	char *raw = NULL, tb[32];
	size_t len = 0;
	int rc;

	rc = fbq_get(q->c->cf.fb_queue_dir, id, &m, &raw, &len, q->err,
	    sizeof(q->err));
	if (rc == -1)
		return -1;
	printf("%s{\"id\":", q->n++ ? "," : "");
	enc_json_puts(stdout, id);
	if (rc == 0) {
		/* Cut off by a crash before its meta file: named all the same. */
		printf(",\"incomplete\":true}");
		return 0;
	}
	printf(",\"received\":\"%s\",\"kind\":", time_format(m.time, tb,
	    sizeof(tb)));
	enc_json_puts(stdout, m.kind);
	printf(",\"from\":");
	enc_json_puts(stdout, m.from);
	printf(",\"subject\":");
	enc_json_puts(stdout, m.subject);
	printf(",\"recipients\":");
	enc_json_puts(stdout, m.rcpts);
	printf(",\"reason\":");
	enc_json_puts(stdout, m.reason);
	printf(",\"octets\":%zu,\"truncated\":%s,\"raw\":", m.size,
	    m.truncated ? "true" : "false");
	enc_json_put(stdout, raw, len);
	printf("}");
	free(raw);
	return 0;
}

/* export_queue - the review queue's reports naming the person; count or -1. */
static int
export_queue(struct ctl *c, const struct addr *a)
{
	struct person who = { a, c->cf.delims };
	struct qexport q = { c, 0, "" };

	if (fbq_naming(c->cf.fb_queue_dir, names_person, &who, queue_one, &q,
	    q.err, sizeof(q.err)) == -1) {
		ctl_err(c, "subject export: the review queue: %s", q.err);
		return -1;
	}
	return q.n;
}

/* export - everything held about one person, as one JSON document. */
static int
subject_export(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	struct store *st = NULL;
	struct addr a;
	struct skey keys[2 + ADDR_KEYS_MAX];
	char buf[ADDR_DOMAIN_MAX + 2], tb[32], pseudo[AUDIT_PSEUDO_MAX];
	char plain[ADDR_MAX + 16], needle[AUDIT_PSEUDO_MAX + 16];
	const char *dkeys[ADDR_KEYS_MAX];
	size_t nkeys = 0, nd;
	int rc = CTL_ERR, nrec, ndom, nsoft, nq, erased, decisions = 0;

	if (ctl_options(c, argc, argv, O_AUDIT, 1, 1, &o) == -1)
		return CTL_ERR;
	if (ctl_addr(c, o.arg, &a) == -1 ||
	    ctl_audit_needles(c, &a, plain, sizeof(plain), needle,
	    sizeof(needle), pseudo) == -1 ||
	    ctl_open_store(c, STORE_RDONLY, &st) == -1)
		goto out;
	keys[nkeys++] = (struct skey){ a.key, "address" };
	if (strcmp(a.base, a.key) != 0)
		keys[nkeys++] = (struct skey){ a.base, "untagged" };
	nd = addr_domain_keys(&a, buf, sizeof(buf), dkeys, ADDR_KEYS_MAX);
	for (size_t i = 0; i < nd; i++)
		keys[nkeys++] = (struct skey){ dkeys[i], "domain" };
	printf("{\"subject\":");
	enc_json_puts(stdout, a.key);
	printf(",\"generated\":\"%s\",\"store\":", time_format(c->now, tb,
	    sizeof(tb)));
	enc_json_puts(stdout, c->storedir);
	printf(",\n  \"erased\":");
	if ((erased = export_erased(c, st, &a)) == -1)
		goto out;
	printf(",\n  \"records\":[");
	if ((nrec = export_records(c, st, keys, nkeys, 0)) == -1)
		goto out;
	printf("],\n  \"soft_bounces\":[");
	if ((nsoft = export_soft(c, st, &a)) == -1)
		goto out;
	printf("],\n  \"review_queue\":[");
	if ((nq = export_queue(c, &a)) == -1)
		goto out;
	printf("],\n  \"domain_suppressions\":[");
	if ((ndom = export_records(c, st, keys, nkeys, 1)) == -1)
		goto out;
	printf("],\n  \"audit\":{\"files\":");
	export_files(c, &o);
	printf(",\"pseudonym\":");
	if (pseudo[0] != '\0')
		enc_json_puts(stdout, pseudo);
	else
		printf("null");
	printf(",\"decisions\":[");
	if (export_audit(c, &o, plain, needle, &decisions) == -1)
		goto out;
	printf("]}}\n");
	fprintf(stderr, "subject export: %s: %d record%s, %d covering domain "
	    "suppression%s, %d report%s in the review queue, %d audit "
	    "decision%s%s\n", a.key, nrec, nrec == 1 ? "" : "s", ndom,
	    ndom == 1 ? "" : "s", nq, nq == 1 ? "" : "s", decisions,
	    decisions == 1 ? "" : "s", erased ? "; erased" : "");
	if (fflush(stdout) != 0) {
		ctl_err(c, "subject export: write error");
		goto out;
	}
	rc = nrec + nsoft + nq + ndom + decisions + erased > 0 ? CTL_OK : CTL_NO;
out:
	store_close(st);
	ctl_opts_free(&o);
	return rc;
}

/* --- erase -------------------------------------------------------------- */

#define ERASE_KEYS_MAX	256	/* tagged forms of one address erased at once */

struct erase {
	const struct addr *a;
	const char *delims;
	int64_t	now;
	char	(*keys)[ADDR_MAX + 1];	/* the address's keys: exact, untagged, tagged */
	size_t	nkeys;
	/* What went. */
	unsigned records, lists, events, supps, softs;
	int	already;		/* erased before */
	int	full;			/* more tagged forms than ERASE_KEYS_MAX */
};

/* add_key - one more key of the address, once. */
static void
add_key(struct erase *e, const char *key)
{
	for (size_t i = 0; i < e->nkeys; i++)
		if (strcmp(e->keys[i], key) == 0)
			return;
	if (e->nkeys == ERASE_KEYS_MAX) {
		e->full = 1;
		return;
	}
	util_strlcpy(e->keys[e->nkeys++], key, ADDR_MAX + 1);
}

/* tagged - store_txn_keys_from: a tagged form of the untagged address. */
static int
tagged(const char *key, void *arg)
{
	struct erase *e = arg;
	const char *at = strrchr(e->a->base, '@'), *kat = strrchr(key, '@');

	if (at != NULL && kat != NULL && strcmp(at, kat) == 0)
		add_key(e, key);
	return 0;
}

/* erase_fn - in one transaction: every record of the address, then its hashes. */
static int
erase_fn(struct store_txn *t, void *arg)
{
	struct erase *e = arg;
	struct subject s;
	char prefix[ADDR_MAX + 2];
	const char *at = strrchr(e->a->base, '@');
	int rc;

	e->nkeys = 0;
	e->records = e->lists = e->events = e->supps = e->softs = 0;
	e->already = 0;
	add_key(e, e->a->key);
	add_key(e, e->a->base);
	/* user+anything@domain, for each recipient delimiter. */
	for (const char *d = e->delims; at != NULL && *d != '\0'; d++) {
		snprintf(prefix, sizeof(prefix), "%.*s%c",
		    (int)(at - e->a->base), e->a->base, *d);
		if (store_txn_keys_from(t, prefix, tagged, e) == -1)
			return -1;
	}
	if ((rc = store_txn_erased(t, e->a->key, NULL)) == -1)
		return -1;
	e->already = rc;
	subject_init(&s);
	for (size_t i = 0; i < e->nkeys; i++) {
		if ((rc = store_txn_get(t, e->keys[i], &s)) == -1)
			return -1;
		if (rc == 1) {
			e->records++;
			e->supps += s.has_supp;
			e->lists += s.nlists;
			for (unsigned k = 0; k < s.nlists; k++)
				e->events += s.lists[k].nev;
			subject_clear(&s);
			if (store_txn_del(t, e->keys[i]) == -1)
				return -1;
		}
		if ((rc = store_txn_soft_reset(t, e->keys[i])) == -1)
			return -1;
		e->softs += (unsigned)rc;
		if (store_txn_erase_mark(t, e->keys[i], e->now) == -1)
			return -1;
	}
	return 0;
}

/* erase - the person's records go; a keyed hash keeps them unmailable. */
static int
subject_erase(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	struct store *st;
	struct addr a;
	struct erase e;
	struct person who = { &a, NULL };
	char err[512];
	unsigned purged = 0;
	int rc;

	if (ctl_options(c, argc, argv, 0, 1, 1, &o) == -1)
		return CTL_ERR;
	if (ctl_addr(c, o.arg, &a) == -1)
		return CTL_ERR;
	if (c->cf.sync.enabled) {
		ctl_err(c, "subject erase: in a fleet the journal in PostgreSQL "
		    "holds this person's changes too, and every replica their "
		    "records: erasure through the fleet is not there yet; "
		    "nothing was changed");
		return CTL_ERR;
	}
	memset(&e, 0, sizeof(e));
	e.a = &a;
	e.delims = c->cf.delims;
	who.delims = c->cf.delims;
	e.now = c->now;
	if ((e.keys = calloc(ERASE_KEYS_MAX, sizeof(*e.keys))) == NULL) {
		ctl_err(c, "subject erase: out of memory");
		return CTL_ERR;
	}
	if (ctl_open_store(c, 0, &st) == -1) {
		free(e.keys);
		return CTL_ERR;
	}
	rc = store_write(st, erase_fn, &e, err, sizeof(err));
	store_close(st);
	if (rc != 0) {
		free(e.keys);
		ctl_err(c, "subject erase: nothing erased: %s", err);
		return CTL_ERR;
	}
	/* The review queue keeps raw reports, read or not: theirs go too. */
	rc = fbq_purge(c->cf.fb_queue_dir, names_person, &who, &purged, err,
	    sizeof(err));
	printf("%s erased%s: %u record%s removed (%u list%s, %u change%s of "
	    "consent with their evidence, %u suppression%s, %u soft-bounce "
	    "count%s); kept: a keyed hash of the address, so that it stays "
	    "unmailable\n", a.key, e.already ? " (again)" : "", e.records,
	    e.records == 1 ? "" : "s", e.lists, e.lists == 1 ? "" : "s",
	    e.events, e.events == 1 ? "" : "s", e.supps, e.supps == 1 ? "" : "s",
	    e.softs, e.softs == 1 ? "" : "s");
	printf("%u report%s naming the address removed from the review queue\n",
	    purged, purged == 1 ? "" : "s");
	if (rc == -1) {
		free(e.keys);
		ctl_err(c, "subject erase: the records are erased, but the review "
		    "queue may still name the address: %s; run it again", err);
		return CTL_ERR;
	}
	free(e.keys);
	if (e.full)
		fprintf(stderr, "subject erase: more than %d tagged forms of %s: "
		    "run it again for the rest\n", ERASE_KEYS_MAX, a.base);
	/* Say what the trail holds as it is configured, not as it should be. */
	if (c->cf.audit_pseudonymize)
		fprintf(stderr, "subject erase: the audit trail keeps its lines, "
		    "with the address as a keyed pseudonym: the proof of past "
		    "decisions (README: \"A data subject's rights\")\n");
	else
		fprintf(stderr, "subject erase: warning: audit.pseudonymize is "
		    "off: the audit trail names the address in clear, and "
		    "erasure does not reach it (nor feedback.audit_file)\n");
	return CTL_OK;
}

int
ctl_subject(struct ctl *c, int argc, char **argv)
{
	char *sub;
	int export, rc;

	if (argc < 2)
		return subject_usage(c);
	if (strcmp(argv[1], "export") != 0 && strcmp(argv[1], "erase") != 0) {
		ctl_err(c, "subject: unknown subcommand \"%s\"", argv[1]);
		return subject_usage(c);
	}
	/* Their messages and usage name the subcommand. */
	export = strcmp(argv[1], "export") == 0;
	sub = argv[1];
	argv[1] = (char *)(uintptr_t)(export ? "subject" : "subject erase");
	rc = export ? subject_export(c, argc - 1, argv + 1) :
	    subject_erase(c, argc - 1, argv + 1);
	argv[1] = sub;
	return rc;
}
