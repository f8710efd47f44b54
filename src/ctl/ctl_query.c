/*
 * ctl_query.c - consentctl's read-only commands: show, check, export,
 * stats, and the printing of records they share.  The JSON shapes are
 * documented in consentctl(8) and kept stable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "util/csv.h"
#include "util/enc.h"
#include "util/time.h"
#include "util/util.h"

static void
json_time(const char *name, int64_t t, int known)
{
	char tb[32];

	printf("\"%s\":", name);
	if (!known || t == 0)
		printf("null");
	else
		printf("\"%s\"", time_format(t, tb, sizeof(tb)));
}

static void
supp_json(const struct suppression *sp)
{
	printf("{\"reason\":\"%s\",\"source\":\"%s\",",
	    record_reason_name(sp->reason), record_source_name(sp->source));
	json_time("created", sp->created, 1);
	printf(",\"time_known\":%s,", (sp->flags & REC_F_TIME_UNKNOWN) ?
	    "false" : "true");
	json_time("expires", sp->expires, sp->expires != 0);
	printf(",\"ref\":");
	enc_json_puts(stdout, sp->ref);
	printf(",\"note\":");
	enc_json_puts(stdout, sp->note);
	printf("}");
}

void
ctl_print_subject_json(const char *key, const struct subject *s)
{
	printf("{\"key\":");
	enc_json_puts(stdout, key);
	printf(",\"type\":\"%s\",\"suppression\":",
	    store_is_domain_key(key) ? "domain" : "address");
	if (s->has_supp)
		supp_json(&s->supp);
	else
		printf("null");
	printf(",\"lists\":[");
	for (unsigned i = 0; i < s->nlists; i++) {
		const struct list_consent *lc = &s->lists[i];

		printf("%s{\"list\":", i ? "," : "");
		enc_json_puts(stdout, lc->list);
		printf(",\"status\":\"%s\",", record_status_name(lc->status));
		json_time("changed", lc->changed, 1);
		printf(",\"events\":[");
		for (unsigned k = 0; k < lc->nev; k++) {
			const struct evidence *ev = &lc->ev[k];

			printf("%s{", k ? "," : "");
			json_time("time", ev->time, 1);
			printf(",\"time_known\":%s,\"status\":\"%s\","
			    "\"source\":\"%s\",\"ip\":",
			    (ev->flags & REC_F_TIME_UNKNOWN) ? "false" : "true",
			    record_status_name(ev->status),
			    record_source_name(ev->source));
			enc_json_puts(stdout, ev->ip);
			printf(",\"note\":");
			enc_json_puts(stdout, ev->note);
			printf("}");
		}
		printf("]}");
	}
	printf("]}");
}

void
ctl_print_subject_text(const char *key, const struct subject *s, int64_t now)
{
	char tb[32], te[32];

	printf("%s\n", key);
	if (s->has_supp) {
		const struct suppression *sp = &s->supp;

		printf("  suppressed: %s (source %s) since %s%s",
		    record_reason_name(sp->reason),
		    record_source_name(sp->source),
		    time_format(sp->created, tb, sizeof(tb)),
		    (sp->flags & REC_F_TIME_UNKNOWN) ? " (time unknown)" : "");
		if (sp->expires)
			printf(", %s %s", sp->expires <= now ? "expired" :
			    "expires", time_format(sp->expires, te, sizeof(te)));
		printf("\n");
		if (sp->ref[0])
			printf("    ref: %s\n", sp->ref);
		if (sp->note[0])
			printf("    note: %s\n", sp->note);
	}
	for (unsigned i = 0; i < s->nlists; i++) {
		const struct list_consent *lc = &s->lists[i];

		printf("  list %s: %s since %s\n", lc->list,
		    record_status_name(lc->status),
		    time_format(lc->changed, tb, sizeof(tb)));
		for (unsigned k = 0; k < lc->nev; k++) {
			const struct evidence *ev = &lc->ev[k];

			printf("    %s %-12s source=%s%s%s%s%s%s\n",
			    time_format(ev->time, tb, sizeof(tb)),
			    record_status_name(ev->status),
			    record_source_name(ev->source),
			    ev->ip[0] ? " ip=" : "", ev->ip,
			    ev->note[0] ? " note=" : "", ev->note,
			    (ev->flags & REC_F_TIME_UNKNOWN) ?
			    " (time unknown)" : "");
		}
	}
}

/*
 * show_soft - the soft-bounce count of key (consentctl feedback), after
 * show's records: a JSON member, or a text line.  1 if there is one.
 */
static int
show_soft(struct ctl *c, struct store *st, const char *key, int json,
    int found)
{
	struct store_soft ss;
	char err[512], tf[32], tl[32];
	int r = store_is_domain_key(key) ? 0 :
	    store_soft_get(st, key, &ss, err, sizeof(err));

	if (r == -1)
		ctl_err(c, "%s", err);
	if (json) {
		printf("],\"soft_bounces\":");
		if (r == 1)
			printf("{\"count\":%u,\"first\":\"%s\",\"last\":\"%s\"}",
			    ss.count, time_format(ss.first, tf, sizeof(tf)),
			    time_format(ss.last, tl, sizeof(tl)));
		else
			printf("null");
	} else if (r == 1)
		printf("%s%s  soft bounces: %u since %s (last %s); %d within %s "
		    "suppress\n", found ? "" : key, found ? "" : "\n", ss.count,
		    time_format(ss.first, tf, sizeof(tf)),
		    time_format(ss.last, tl, sizeof(tl)), c->cf.fb_soft_threshold,
		    c->cf.fb_soft_window_s);
	return r == 1;
}

/* The keys show looks at: the address, its untagged form, its domains. */
struct showkey {
	const char *key;
	const char *what;
};

int
ctl_show(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	struct store *st;
	struct addr a;
	struct subject s;
	struct showkey keys[2 + ADDR_KEYS_MAX];
	char dom[ADDR_DOMAIN_MAX + 2], buf[ADDR_DOMAIN_MAX + 2], err[512];
	const char *dkeys[ADDR_KEYS_MAX];
	size_t nkeys = 0, nd;
	int found = 0, rc = CTL_OK;

	if (ctl_options(c, argc, argv, O_JSON, 1, 1, &o) == -1)
		return CTL_ERR;
	if (addr_is_domain(o.arg)) {
		if (addr_domain_normalize(o.arg, strlen(o.arg), dom, sizeof(dom),
		    err, sizeof(err)) == -1) {
			ctl_err(c, "invalid domain \"%s\": %s", o.arg, err);
			return CTL_ERR;
		}
		keys[nkeys++] = (struct showkey){ dom, "domain" };
	} else {
		if (ctl_addr(c, o.arg, &a) == -1)
			return CTL_ERR;
		keys[nkeys++] = (struct showkey){ a.key, "address" };
		if (strcmp(a.base, a.key) != 0)
			keys[nkeys++] = (struct showkey){ a.base, "untagged" };
		nd = addr_domain_keys(&a, buf, sizeof(buf), dkeys, ADDR_KEYS_MAX);
		for (size_t i = 0; i < nd; i++)
			keys[nkeys++] = (struct showkey){ dkeys[i], "domain" };
	}
	if (ctl_open_store(c, STORE_RDONLY, &st) == -1)
		return CTL_ERR;
	subject_init(&s);
	if (o.json) {
		printf("{\"query\":");
		enc_json_puts(stdout, o.arg);
		printf(",\"key\":");
		enc_json_puts(stdout, keys[0].key);
		printf(",\"records\":[");
	}
	for (size_t i = 0; i < nkeys; i++) {
		int r = store_get(st, keys[i].key, &s, err, sizeof(err));

		if (r == -1) {
			ctl_err(c, "%s", err);
			rc = CTL_ERR;
			break;
		}
		if (r == 0)
			continue;
		if (o.json) {
			if (found)
				printf(",");
			printf("{\"match\":\"%s\",\"record\":", keys[i].what);
			ctl_print_subject_json(keys[i].key, &s);
			printf("}");
		} else {
			if (found)
				printf("\n");
			if (i > 0)
				printf("(%s) ", keys[i].what);
			ctl_print_subject_text(keys[i].key, &s, c->now);
		}
		found++;
		subject_clear(&s);
	}
	if (rc == CTL_OK && show_soft(c, st, keys[0].key, o.json, found) == 1)
		found++;
	else if (rc != CTL_OK && o.json)
		printf("]");
	if (o.json)
		printf("}\n");
	else if (!found && rc == CTL_OK)
		printf("%s: nothing stored\n", keys[0].key);
	subject_clear(&s);
	store_close(st);
	if (rc == CTL_OK && !found)
		rc = CTL_NO;
	return rc;
}

static void
check_record_json(const struct policy_facts *f, const struct decision *d,
    const char *key)
{
	char tb[32];

	if (d->supp >= 0) {
		const struct policy_fact_supp *fs = &f->supp[d->supp];

		printf("{\"kind\":\"suppression\",\"key\":");
		enc_json_puts(stdout, fs->key);
		printf(",\"reason\":\"%s\",\"source\":\"%s\",\"created\":\"%s\"",
		    record_reason_name(fs->v.reason),
		    record_source_name(fs->v.source),
		    time_format(fs->v.created, tb, sizeof(tb)));
		printf(",\"expires\":");
		if (fs->v.expires)
			printf("\"%s\"", time_format(fs->v.expires, tb, sizeof(tb)));
		else
			printf("null");
		printf("}");
	} else if (d->consent) {
		printf("{\"kind\":\"consent\",\"key\":");
		enc_json_puts(stdout, key);
		printf(",\"status\":\"%s\",\"source\":\"%s\",\"changed\":\"%s\"}",
		    record_status_name(f->consent.status),
		    record_source_name(f->consent.source),
		    time_format(f->consent.changed, tb, sizeof(tb)));
	} else
		printf("null");
}

int
ctl_check(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	struct store *st;
	struct addr a;
	struct policy_facts f;
	struct decision d;
	char err[512], tb[32];
	const char *ckey;
	int rc;

	if (ctl_options(c, argc, argv, O_LIST | O_JSON, 1, 1, &o) == -1)
		return CTL_ERR;
	if (ctl_addr(c, o.arg, &a) == -1)
		return CTL_ERR;
	if (ctl_open_store(c, STORE_RDONLY, &st) == -1)
		return CTL_ERR;
	rc = store_facts(st, &a, o.list, &f, err, sizeof(err));
	store_close(st);
	if (rc == -1) {
		ctl_err(c, "%s", err);
		return CTL_ERR;
	}
	policy_decide(&c->cf.policy, &f, c->now, &d);
	ckey = f.consent_where == FACT_BASE ? a.base : a.key;
	if (o.json) {
		printf("{\"address\":");
		enc_json_puts(stdout, a.key);
		printf(",\"list\":");
		enc_json_puts(stdout, o.list);
		printf(",\"verdict\":\"%s\",\"reason\":\"%s\",\"model\":\"%s\","
		    "\"double_opt_in\":%s,\"record\":",
		    d.allow ? "allow" : "deny", policy_reason_name(d.reason),
		    c->cf.policy.model == POLICY_OPTOUT ? "opt-out" : "opt-in",
		    c->cf.policy.require_confirmed ? "true" : "false");
		check_record_json(&f, &d, ckey);
		printf("}\n");
	} else {
		printf("%s list=%s: %s (%s)", a.key, o.list,
		    d.allow ? "allow" : "deny", policy_reason_name(d.reason));
		if (d.supp >= 0) {
			const struct policy_fact_supp *fs = &f.supp[d.supp];

			printf(": suppressed under %s since %s, source %s",
			    fs->key, time_format(fs->v.created, tb, sizeof(tb)),
			    record_source_name(fs->v.source));
		} else if (d.consent)
			printf(": %s under %s since %s, source %s",
			    record_status_name(f.consent.status), ckey,
			    time_format(f.consent.changed, tb, sizeof(tb)),
			    record_source_name(f.consent.source));
		else
			printf(": no record for this list");
		printf("\n");
	}
	return d.allow ? CTL_OK : CTL_NO;
}

/* export: CSV that the generic import reads back, or JSON lines. */

/* csv_row - one export row; import undoes its formula guard. */
static void
csv_row(const char *key, const char *list, const char *status, int64_t t,
    int known, int source, const char *ip, const char *note)
{
	char tb[32];
	const char *cell[] = { key, list, status,
	    known ? time_format(t, tb, sizeof(tb)) : "",
	    record_source_name(source), ip, note };

	for (size_t i = 0; i < sizeof(cell) / sizeof(cell[0]); i++) {
		if (i > 0)
			putchar(',');
		enc_csv_put(stdout, cell[i], strlen(cell[i]), 0);
	}
	putchar('\n');
}

/* Segments: which rows of the export are wanted (all when none set). */
#define SEG_PENDING	0x01
#define SEG_SUBSCRIBED	0x02
#define SEG_CONFIRMED	0x04
#define SEG_UNSUBSCRIBED 0x08
#define SEG_SUPPRESSED	0x10
#define SEG_NOT_OPTED_IN 0x20

struct segment {
	unsigned want;			/* SEG_*; 0: everything */
	const char *list;		/* one list, or NULL: every list */
	int64_t	before;			/* changed before this, or 0 */
	int64_t	now;
};

/* seg_parse - "pending,confirmed" into SEG_* bits; -1 names a bad one. */
static int
seg_parse(struct ctl *c, const char *arg, unsigned *want)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "pending", SEG_PENDING }, { "subscribed", SEG_SUBSCRIBED },
		{ "confirmed", SEG_CONFIRMED },
		{ "unsubscribed", SEG_UNSUBSCRIBED },
		{ "suppressed", SEG_SUPPRESSED },
		{ "not_opted_in", SEG_NOT_OPTED_IN },
	};
	char buf[256], *tok, *save = NULL;

	*want = 0;
	util_strlcpy(buf, arg, sizeof(buf));
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(tok, names[i].name) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0])) {
			ctl_err(c, "export: unknown status \"%s\" (pending, "
			    "subscribed, confirmed, unsubscribed, suppressed, "
			    "not_opted_in)", tok);
			return -1;
		}
		*want |= names[i].bit;
	}
	return *want ? 0 : -1;
}

/* seg_status_bit - the SEG_* bit of a consent status. */
static unsigned
seg_status_bit(int status)
{
	switch (status) {
	case CS_PENDING:	return SEG_PENDING;
	case CS_SUBSCRIBED:	return SEG_SUBSCRIBED;
	case CS_CONFIRMED:	return SEG_CONFIRMED;
	case CS_UNSUBSCRIBED:	return SEG_UNSUBSCRIBED;
	default:		return 0;
	}
}

/* seg_old - 1 if t passes --older-than (or none was given). */
static int
seg_old(const struct segment *g, int64_t t)
{
	return g->before == 0 || t < g->before;
}

/* seg_suppressed - s's own suppression, when in force. */
static int
seg_suppressed(const struct segment *g, const struct subject *s)
{
	return s->has_supp && (s->supp.expires == 0 || s->supp.expires > g->now);
}

/*
 * export_not_opted_in - the not_opted_in row of an address: known to the
 * store, not suppressed, and on the list neither opted in nor left (no
 * entry, or a pending request).
 */
static void
export_not_opted_in(const struct segment *g, const char *key,
    const struct subject *s)
{
	const struct list_consent *lc = record_find_list(s, g->list);

	if (seg_suppressed(g, s))
		return;
	/* No entry at all: no status, no time of its own. */
	if (lc == NULL && g->before == 0)
		csv_row(key, g->list, "not_opted_in", 0, 0, 0, "", "");
	/* A pending one is a row of its own status, once. */
	else if (lc != NULL && lc->status == CS_PENDING &&
	    !(g->want & SEG_PENDING) && seg_old(g, lc->changed))
		csv_row(key, g->list, "pending", lc->changed, 1,
		    lc->ev[lc->nev - 1].source, lc->ev[lc->nev - 1].ip,
		    lc->ev[lc->nev - 1].note);
}

static int
export_csv(const char *key, const struct subject *s, void *arg)
{
	const struct segment *g = arg;

	/* Domain suppressions have no address column: JSON lines carry them. */
	if (store_is_domain_key(key))
		return 0;
	if (s->has_supp && (g->want == 0 || ((g->want & SEG_SUPPRESSED) &&
	    seg_suppressed(g, s) && seg_old(g, s->supp.created))))
		csv_row(key, "", record_reason_name(s->supp.reason),
		    s->supp.created, !(s->supp.flags & REC_F_TIME_UNKNOWN),
		    s->supp.source, "", s->supp.note);
	for (unsigned i = 0; i < s->nlists; i++) {
		const struct list_consent *lc = &s->lists[i];
		const struct evidence *ev = &lc->ev[lc->nev - 1];

		if (g->want != 0 && (!(g->want & seg_status_bit(lc->status)) ||
		    (g->list != NULL && strcmp(g->list, lc->list) != 0) ||
		    !seg_old(g, lc->changed)))
			continue;
		csv_row(key, lc->list, record_status_name(lc->status),
		    lc->changed, !(ev->flags & REC_F_TIME_UNKNOWN), ev->source,
		    ev->ip, ev->note);
	}
	if (g->want & SEG_NOT_OPTED_IN)
		export_not_opted_in(g, key, s);
	return ferror(stdout) ? -1 : 0;
}

static int
export_jsonl(const char *key, const struct subject *s, void *arg)
{
	(void)arg;
	ctl_print_subject_json(key, s);
	putchar('\n');
	return ferror(stdout) ? -1 : 0;
}

int
ctl_export(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	struct segment g;
	struct store *st;
	char err[512];
	int jsonl, rc;

	if (ctl_options(c, argc, argv, O_FORMAT | O_STATUS | O_LIST | O_OLDER,
	    0, 0, &o) == -1)
		return CTL_ERR;
	if (o.format == NULL || strcmp(o.format, "csv") == 0)
		jsonl = 0;
	else if (strcmp(o.format, "jsonl") == 0)
		jsonl = 1;
	else {
		ctl_err(c, "export: unknown format \"%s\" (csv or jsonl)",
		    o.format);
		return CTL_ERR;
	}
	memset(&g, 0, sizeof(g));
	g.now = c->now;
	if (o.status != NULL && seg_parse(c, o.status, &g.want) == -1)
		return CTL_ERR;
	if ((o.list_set || o.older) && g.want == 0) {
		ctl_err(c, "export: --list and --older-than choose rows of a "
		    "--status segment");
		return CTL_ERR;
	}
	if (jsonl && g.want != 0) {
		ctl_err(c, "export: segments are CSV rows (--format csv)");
		return CTL_ERR;
	}
	/* not_opted_in is about one list: the default one unless named. */
	g.list = o.list_set || (g.want & SEG_NOT_OPTED_IN) ? o.list : NULL;
	g.before = o.older ? c->now - o.older : 0;
	if (ctl_open_store(c, STORE_RDONLY, &st) == -1)
		return CTL_ERR;
	if (!jsonl)
		printf("email,list,status,timestamp,source,ip,note\n");
	rc = store_foreach(st, jsonl ? export_jsonl : export_csv, &g, err,
	    sizeof(err));
	store_close(st);
	if (rc != 0 || fflush(stdout) != 0) {
		ctl_err(c, "export: %s", rc == -1 ? err : "write error");
		return CTL_ERR;
	}
	return CTL_OK;
}

/* Counts by list and status, for stats. */
#define STATS_LISTS_MAX	10000	/* lists counted one by one; then "other" */

struct list_count {
	char	list[REC_LIST_MAX + 1];
	uint64_t n[CS_MAX_];
};

struct list_counts {
	struct list_count *v;
	size_t	n, cap;
	const char *only;	/* --list, or NULL */
	int	oom;
};

/* count_of - the counter of list, made if new; NULL if out of memory. */
static struct list_count *
count_of(struct list_counts *lc, const char *list)
{
	struct list_count *nv;

	for (size_t i = 0; i < lc->n; i++)
		if (strcmp(lc->v[i].list, list) == 0)
			return &lc->v[i];
	if (lc->n == STATS_LISTS_MAX)
		list = "other";
	if (lc->n == lc->cap) {
		size_t cap = lc->cap ? lc->cap * 2 : 16;

		if ((nv = realloc(lc->v, cap * sizeof(*nv))) == NULL)
			return NULL;
		lc->v = nv;
		lc->cap = cap;
	}
	memset(&lc->v[lc->n], 0, sizeof(lc->v[0]));
	util_strlcpy(lc->v[lc->n].list, list, sizeof(lc->v[0].list));
	return &lc->v[lc->n++];
}

/* count_lists - store_foreach: each list entry of an address, counted. */
static int
count_lists(const char *key, const struct subject *s, void *arg)
{
	struct list_counts *lc = arg;
	struct list_count *x;

	(void)key;
	for (unsigned i = 0; i < s->nlists; i++) {
		if (lc->only != NULL && strcmp(lc->only, s->lists[i].list) != 0)
			continue;
		if ((x = count_of(lc, s->lists[i].list)) == NULL) {
			lc->oom = 1;
			return -1;
		}
		x->n[s->lists[i].status]++;
	}
	return 0;
}

/* cmp_count - by list name. */
static int
cmp_count(const void *a, const void *b)
{
	return strcmp(((const struct list_count *)a)->list,
	    ((const struct list_count *)b)->list);
}

/* print_lists - the table, or the JSON object, of counts by list. */
static void
print_lists(const struct list_counts *lc, int json)
{
	if (json) {
		printf(",\"lists\":{");
		for (size_t i = 0; i < lc->n; i++) {
			printf("%s", i ? "," : "");
			enc_json_puts(stdout, lc->v[i].list);
			printf(":{");
			for (int k = 1; k < CS_MAX_; k++)
				printf("%s\"%s\":%llu", k > 1 ? "," : "",
				    record_status_name(k),
				    (unsigned long long)lc->v[i].n[k]);
			printf("}");
		}
		printf("}");
		return;
	}
	printf("\n%-20s", "list");
	for (int k = 1; k < CS_MAX_; k++)
		printf(" %12s", record_status_name(k));
	printf("\n");
	for (size_t i = 0; i < lc->n; i++) {
		printf("%-20s", lc->v[i].list);
		for (int k = 1; k < CS_MAX_; k++)
			printf(" %12llu", (unsigned long long)lc->v[i].n[k]);
		printf("\n");
	}
}

int
ctl_stats(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	struct store *st;
	struct store_stats ss;
	struct list_counts lc;
	char err[512];
	int rc;

	if (ctl_options(c, argc, argv, O_JSON | O_LIST, 0, 0, &o) == -1)
		return CTL_ERR;
	if (ctl_open_store(c, STORE_RDONLY, &st) == -1)
		return CTL_ERR;
	memset(&lc, 0, sizeof(lc));
	lc.only = o.list_set ? o.list : NULL;
	rc = store_stats(st, c->now, &ss, err, sizeof(err));
	if (rc == 0 && store_foreach(st, count_lists, &lc, err, sizeof(err)) != 0)
		rc = -1;
	store_close(st);
	if (rc == -1) {
		ctl_err(c, "%s", lc.oom ? "out of memory" : err);
		free(lc.v);
		return CTL_ERR;
	}
	qsort(lc.v, lc.n, sizeof(lc.v[0]), cmp_count);
	if (o.json) {
		printf("{\"addresses\":%llu,\"domains\":%llu,\"consent\":{",
		    (unsigned long long)ss.addresses,
		    (unsigned long long)ss.domains);
		for (int i = 1; i < CS_MAX_; i++)
			printf("%s\"%s\":%llu", i > 1 ? "," : "",
			    record_status_name(i),
			    (unsigned long long)ss.consents[i]);
		printf("},\"suppressions\":{");
		for (int i = 1; i < SR_MAX_; i++)
			printf("%s\"%s\":%llu", i > 1 ? "," : "",
			    record_reason_name(i), (unsigned long long)ss.supps[i]);
		printf("},\"expired_suppressions\":%llu,\"map_size\":%llu,"
		    "\"map_used\":%llu,\"case_sensitive_local\":%s",
		    (unsigned long long)ss.expired,
		    (unsigned long long)ss.map_size,
		    (unsigned long long)ss.map_used,
		    (ss.addr_flags & ADDR_CASE_SENSITIVE) ? "true" : "false");
		print_lists(&lc, 1);
		printf("}\n");
		free(lc.v);
		return CTL_OK;
	}
	printf("addresses:        %llu\ndomains:          %llu\n",
	    (unsigned long long)ss.addresses, (unsigned long long)ss.domains);
	for (int i = 1; i < CS_MAX_; i++)
		printf("%-18s%llu\n", record_status_name(i),
		    (unsigned long long)ss.consents[i]);
	for (int i = 1; i < SR_MAX_; i++)
		printf("%-18s%llu\n", record_reason_name(i),
		    (unsigned long long)ss.supps[i]);
	printf("expired:          %llu\nmap:              %llu of %llu bytes used\n",
	    (unsigned long long)ss.expired, (unsigned long long)ss.map_used,
	    (unsigned long long)ss.map_size);
	print_lists(&lc, 0);
	free(lc.v);
	return CTL_OK;
}
