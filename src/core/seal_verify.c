/*
 * seal_verify.c - sealed checkpoints checked against the lines they
 * cover, in order, across a rotated series, and against a witness copy
 * (seal_verify.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/audit.h"
#include "core/seal_verify.h"
#include "util/time.h"
#include "util/util.h"

#define GENESIS_PREV	"\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\""
#define SEARCHES_MAX	32	/* failing seals searched for the key that made them */

/* A checkpoint as found in a log or in the witness file. */
struct found {
	struct seal_point p;
	int	ok;			/* its MAC is its epoch key's */
	unsigned file;			/* index into names */
	unsigned long line;
};

struct seal_verify {
	struct seal_verifier v;
	struct seal_cursor cur;
	int64_t	now;
	seal_finding_fn *fn;
	void	*arg;
	char	**names;		/* the files, in the order given */
	unsigned nnames;
	/* The series so far. */
	int	started, genesis, have_first;
	int64_t	first_t;		/* the first line's time, seconds */
	int	have_last;
	struct found last;		/* the newest genuine checkpoint */
	int	overdue;		/* a line past the next checkpoint's time */
	struct found od;		/* where: od.file, od.line, od.p.start (its time) */
	uint64_t od_epoch;
	unsigned searches;
	struct found *seals, *wits;
	size_t	nseals, scap, nwits, wcap;
	struct seal_summary sum;
	struct time_memo memo;
};

/* fname - the name of file i, or "". */
static const char *
fname(const struct seal_verify *sv, unsigned i)
{
	return i < sv->nnames ? sv->names[i] : "";
}

/* say - one finding, formatted, to the caller. */
__attribute__((format(printf, 5, 6)))
static void
say(struct seal_verify *sv, int level, const char *what, const struct found *at,
    const char *fmt, ...)
{
	struct seal_finding f;
	va_list ap;

	memset(&f, 0, sizeof(f));
	f.level = level;
	f.what = what;
	f.file = at != NULL ? fname(sv, at->file) : "";
	f.line = at != NULL ? at->line : 0;
	va_start(ap, fmt);
	vsnprintf(f.text, sizeof(f.text), fmt, ap);
	va_end(ap);
	if (level == SEAL_FAIL)
		sv->sum.failures++;
	else if (level == SEAL_WARN)
		sv->sum.warnings++;
	sv->fn(sv->arg, &f);
}

/* tstr - t (seconds) as RFC 3339, in one of four rotating buffers. */
static const char *
tstr(int64_t t)
{
	static char b[4][32];
	static unsigned i;

	return time_format(t, b[i++ % 4], sizeof(b[0]));
}

/* epoch_start - where epoch e starts, by the verifier's clock. */
static int64_t
epoch_start(const struct seal_verify *sv, uint64_t e)
{
	return seal_epoch_start(sv->v.t0, sv->v.interval, e);
}

int
seal_verify_new(struct seal_verify **sp, const struct seal_verifier *v,
    int64_t now, seal_finding_fn *fn, void *arg)
{
	struct seal_verify *sv = calloc(1, sizeof(*sv));

	*sp = NULL;
	if (sv == NULL || sodium_init() < 0) {
		free(sv);
		return -1;
	}
	sv->v = *v;
	seal_cursor_init(&sv->cur, v);
	sv->now = now;
	sv->fn = fn;
	sv->arg = arg;
	*sp = sv;
	return 0;
}

void
seal_verify_file(struct seal_verify *sv, const char *name)
{
	char **nv = realloc(sv->names, (sv->nnames + 1) * sizeof(*nv));

	if (nv == NULL)
		return;	/* findings then name the previous file */
	sv->names = nv;
	if ((nv[sv->nnames] = strdup(name)) != NULL)
		sv->nnames++;
}

/* cur_file - the index of the file being read. */
static unsigned
cur_file(const struct seal_verify *sv)
{
	return sv->nnames > 0 ? sv->nnames - 1 : 0;
}

/* push - f onto a growing array; 0 / -1. */
static int
push(struct found **v, size_t *n, size_t *cap, const struct found *f)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct found *nv = realloc(*v, nc * sizeof(*nv));

		if (nv == NULL)
			return -1;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *f;
	return 0;
}

/* line_time - the "t" of a line we wrote, in seconds; 0 / -1. */
static int
line_time(struct seal_verify *sv, const char *line, size_t len, int64_t *t)
{
	const char *p = memmem(line, len < 48 ? len : 48, "\"t\":\"", 5), *q;
	int64_t ms;

	if (p == NULL)
		return -1;
	p += 5;
	if ((q = memchr(p, '"', len - (size_t)(p - line))) == NULL ||
	    time_rfc3339_ms(&sv->memo, p, (size_t)(q - p), &ms) == -1)
		return -1;
	*t = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	return 0;
}

/* check_mac - is f's MAC its epoch's key's?  Names a forgery or re-seal. */
static void
check_mac(struct seal_verify *sv, struct found *f, const unsigned char *mac)
{
	uint64_t by = 0, upto = seal_epoch_at(sv->v.t0, sv->v.interval,
	    sv->now) + 1;
	int rc;

	if (upto < f->p.through + 1)
		upto = f->p.through + 1;
	/* The search for a later key is bounded, and so is how often. */
	if (sv->searches >= SEARCHES_MAX)
		upto = f->p.epoch;
	rc = seal_check(&sv->v, &sv->cur, &f->p, mac, upto, &by);
	f->ok = rc == 1;
	if (rc != 1)
		sv->searches++;
	if (rc == 0)
		say(sv, SEAL_FAIL, "resealed", f, "the checkpoint of epoch %"
		    PRIu64 " (%s to %s) is made with the key of epoch %" PRIu64
		    ", which the host held only from %s: whoever took the host's "
		    "key then made it again", f->p.epoch, tstr(f->p.start),
		    tstr(f->p.end), by, tstr(epoch_start(sv, by)));
	else if (rc == -1)
		say(sv, SEAL_FAIL, "forged", f, "the checkpoint of epoch %" PRIu64
		    " verifies under no key of this verifier: made up, or the log "
		    "was rewritten whole (or this is not its --key)", f->p.epoch);
	else if (f->p.start != epoch_start(sv, f->p.epoch) ||
	    f->p.end != epoch_start(sv, f->p.through + 1)) {
		f->ok = 0;
		say(sv, SEAL_FAIL, "forged", f, "the checkpoint of epoch %" PRIu64
		    " names %s to %s, which are not its epochs' times",
		    f->p.epoch, tstr(f->p.start), tstr(f->p.end));
	}
}

/* check_order - f after the last genuine checkpoint: missing, twice? */
static void
check_order(struct seal_verify *sv, const struct found *f)
{
	const struct found *l = &sv->last;
	uint64_t want;

	if (!sv->have_last) {
		if (sv->genesis && f->p.epoch > 0)
			say(sv, SEAL_FAIL, "missing", f, "epochs 0-%" PRIu64
			    " (%s to %s) have no checkpoint, yet the log starts "
			    "at its beginning: their lines and checkpoints were "
			    "removed, or the log rewritten", f->p.epoch - 1,
			    tstr(epoch_start(sv, 0)), tstr(f->p.start));
		return;
	}
	want = l->p.through + 1;
	if (f->p.epoch > want)
		say(sv, SEAL_FAIL, "missing", f, "epochs %" PRIu64 "-%" PRIu64
		    " (%s to %s) have no checkpoint between this one and that "
		    "of epoch %" PRIu64 " (%s line %lu): their lines and "
		    "checkpoints were removed, or the log was cut and went on",
		    want, f->p.epoch - 1, tstr(epoch_start(sv, want)),
		    tstr(f->p.start), l->p.through, fname(sv, l->file), l->line);
	else if (f->p.epoch < want && f->p.epoch == l->p.epoch)
		say(sv, SEAL_NOTE, "twice", f, "epoch %" PRIu64 " sealed again "
		    "by its own key (first at %s line %lu): the filter restarted "
		    "between sealing it and evolving its key; both are genuine",
		    f->p.epoch, fname(sv, l->file), l->line);
	else if (f->p.epoch < want)
		say(sv, SEAL_FAIL, "order", f, "the checkpoint of epoch %" PRIu64
		    " comes after that of epoch %" PRIu64 " (%s line %lu): "
		    "checkpoints moved or copied", f->p.epoch, l->p.through,
		    fname(sv, l->file), l->line);
}

/* on_seal - a checkpoint line at ln, after chain value prev. */
static void
on_seal(struct seal_verify *sv, unsigned long ln, const char *line,
    size_t len, const char *prev)
{
	unsigned char mac[SEAL_MAC_BYTES];
	struct found f;

	memset(&f, 0, sizeof(f));
	f.file = cur_file(sv);
	f.line = ln;
	if (seal_parse(line, len, &f.p, mac) == -1) {
		say(sv, SEAL_FAIL, "forged", &f, "a checkpoint line that does "
		    "not read as one: changed, and its chain recomputed");
		return;
	}
	sv->sum.seals++;
	check_mac(sv, &f, mac);
	if (f.ok && (prev == NULL || strcmp(f.p.head, prev) != 0 ||
	    f.p.lines != ln - 1))
		say(sv, SEAL_FAIL, "rewritten", &f, "the checkpoint of epoch %"
		    PRIu64 " is genuine, but it was made over %llu lines ending "
		    "in chain %.16s..., and here it follows %lu lines ending in "
		    "%.16s...: lines before it were changed, added or removed "
		    "and the chain made again (the file rewritten)", f.p.epoch,
		    f.p.lines, f.p.head, ln - 1, prev != NULL ? prev : "(none)");
	if (f.ok)
		check_order(sv, &f);
	if (f.ok && f.p.late) {
		sv->sum.late++;
		if (f.p.through > f.p.epoch)
			say(sv, SEAL_NOTE, "late", &f, "epochs %" PRIu64 "-%"
			    PRIu64 " (%s to %s) sealed late, at %s, in one "
			    "checkpoint: the filter was not running, or could not "
			    "write its log", f.p.epoch, f.p.through,
			    tstr(f.p.start), tstr(f.p.end),
			    tstr(f.p.sealed_ms / 1000));
		else
			say(sv, SEAL_NOTE, "late", &f, "epoch %" PRIu64 " (ended "
			    "%s) sealed late, at %s", f.p.epoch, tstr(f.p.end),
			    tstr(f.p.sealed_ms / 1000));
	}
	sv->overdue = 0;
	if (f.ok && (!sv->have_last || f.p.through >= sv->last.p.through)) {
		sv->last = f;
		sv->have_last = 1;
	}
	if (f.ok) {
		if (sv->sum.genuine++ == 0 || f.p.epoch < sv->sum.first)
			sv->sum.first = f.p.epoch;
		if (f.p.through > sv->sum.last)
			sv->sum.last = f.p.through;
	}
	(void)push(&sv->seals, &sv->nseals, &sv->scap, &f);
}

void
seal_verify_line(void *arg, unsigned long ln, int kind, const char *line,
    size_t len, const char *prev)
{
	struct seal_verify *sv = arg;
	int64_t t, deadline;

	if (!sv->started) {
		sv->started = 1;
		sv->genesis = prev == NULL && memmem(line, len, GENESIS_PREV,
		    strlen(GENESIS_PREV)) != NULL;
	}
	if (kind == AUDIT_LINE_SEAL) {
		on_seal(sv, ln, line, len, prev);
		return;
	}
	if (line_time(sv, line, len, &t) == -1)
		return;
	if (!sv->have_first) {
		sv->have_first = 1;
		sv->first_t = t;
	}
	if (sv->overdue)
		return;
	/* The next checkpoint is due at the end of the next epoch. */
	sv->od_epoch = sv->have_last ? sv->last.p.through + 1 :
	    seal_epoch_at(sv->v.t0, sv->v.interval, sv->first_t);
	deadline = epoch_start(sv, sv->od_epoch + 1) +
	    seal_grace(sv->v.interval);
	if (t > deadline) {
		sv->overdue = 1;
		sv->od.file = cur_file(sv);
		sv->od.line = ln;
		sv->od.p.start = t;
	}
}

int
seal_verify_witness(struct seal_verify *sv, FILE *fp, const char *name)
{
	unsigned char mac[SEAL_MAC_BYTES];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct found f;
	unsigned long ln = 0;
	int rc = 0;

	seal_verify_file(sv, name);
	while ((n = getline(&line, &cap, fp)) != -1) {
		memset(&f, 0, sizeof(f));
		f.file = cur_file(sv);
		f.line = ++ln;
		if (n == 1 && line[0] == '\n')
			continue;
		if (seal_parse(line, (size_t)n, &f.p, mac) == -1) {
			say(sv, SEAL_FAIL, "witness", &f, "not a checkpoint");
			continue;
		}
		check_mac(sv, &f, mac);
		if (f.ok && push(&sv->wits, &sv->nwits, &sv->wcap, &f) == -1) {
			say(sv, SEAL_FAIL, "witness", &f, "out of memory");
			rc = -1;
			break;
		}
	}
	if (ferror(fp)) {
		say(sv, SEAL_FAIL, "witness", NULL, "%s: read error", name);
		rc = -1;
	}
	free(line);
	return rc;
}

/* witness_match - one witness checkpoint against the log's; 1 matched. */
static int
witness_match(struct seal_verify *sv, const struct found *w, unsigned *newer,
    const struct found **first_newer)
{
	const struct found *same = NULL;

	for (size_t i = 0; i < sv->nseals; i++) {
		const struct found *s = &sv->seals[i];

		if (!s->ok || s->p.epoch != w->p.epoch)
			continue;
		if (s->p.through == w->p.through && s->p.lines == w->p.lines &&
		    strcmp(s->p.head, w->p.head) == 0)
			return 1;
		same = s;
	}
	if (same != NULL)
		say(sv, SEAL_FAIL, "witness", w, "epoch %" PRIu64 " was sealed "
		    "over %llu lines ending in chain %.16s..., but the log's "
		    "checkpoint of it (%s line %lu) names %llu lines ending in "
		    "%.16s...: the log was rewritten after the witness took its "
		    "copy", w->p.epoch, w->p.lines, w->p.head,
		    fname(sv, same->file), same->line, same->p.lines,
		    same->p.head);
	else if (!sv->have_last || w->p.epoch > sv->last.p.through) {
		if ((*newer)++ == 0)
			*first_newer = w;
	} else if (w->p.epoch >= sv->sum.first)
		say(sv, SEAL_FAIL, "missing", w, "the witness holds the checkpoint "
		    "of epoch %" PRIu64 " (%s, %llu lines), which the log does "
		    "not have: removed from it", w->p.epoch,
		    tstr(w->p.sealed_ms / 1000), w->p.lines);
	return 0;
}

/* end_witness - every witness checkpoint against the log's. */
static void
end_witness(struct seal_verify *sv)
{
	const struct found *fn = NULL;
	unsigned newer = 0;

	for (size_t i = 0; i < sv->nwits; i++)
		sv->sum.witnessed += (unsigned long)witness_match(sv,
		    &sv->wits[i], &newer, &fn);
	if (newer > 0)
		say(sv, SEAL_FAIL, "cut", fn, "the witness holds %u checkpoint%s "
		    "newer than the log's last%s, the first of epoch %" PRIu64
		    " (sealed %s over %llu lines): the log was cut after its "
		    "last checkpoint", newer, newer == 1 ? "" : "s",
		    sv->have_last ? "" : " (it has none)", fn->p.epoch,
		    tstr(fn->p.sealed_ms / 1000), fn->p.lines);
}

void
seal_verify_end(struct seal_verify *sv, struct seal_summary *sum)
{
	int64_t grace = seal_grace(sv->v.interval);

	if (sv->overdue)
		say(sv, SEAL_FAIL, "cut", &sv->od, "this line (%s) is past the "
		    "end of epoch %" PRIu64 " (%s), which has no checkpoint: the "
		    "log was cut after %s and went on, or the filter could not "
		    "seal (see its log)", tstr(sv->od.p.start), sv->od_epoch,
		    tstr(epoch_start(sv, sv->od_epoch + 1)), sv->have_last ?
		    "its last checkpoint" : "its beginning");
	end_witness(sv);
	if (sv->have_last && sv->now > epoch_start(sv, sv->last.p.through + 2) +
	    grace)
		say(sv, SEAL_WARN, "stale", &sv->last, "the last checkpoint "
		    "covers epoch %" PRIu64 ", which ended at %s: if the filter "
		    "ran since, its log was cut after it (a witness copy tells: "
		    "--checkpoints)", sv->last.p.through, tstr(sv->last.p.end));
	else if (!sv->have_last && sv->have_first && !sv->overdue) {
		/* Lines from after the key was made, long enough ago. */
		uint64_t e = seal_epoch_at(sv->v.t0, sv->v.interval, sv->first_t);

		if (sv->first_t >= sv->v.t0 && sv->now > epoch_start(sv, e + 1) +
		    grace)
			say(sv, SEAL_FAIL, "cut", NULL, "no genuine checkpoint, "
			    "yet the log has lines from %s, after this key was "
			    "made and more than an epoch ago: its checkpoints "
			    "were removed (the log rewritten or cut), or the "
			    "filter never had this key", tstr(sv->first_t));
		else
			say(sv, SEAL_WARN, "unsealed", NULL, "no genuine "
			    "checkpoint in these files: sealing is off, or "
			    "nothing was sealed yet");
	}
	sv->sum.last_end = sv->have_last ? sv->last.p.end : 0;
	*sum = sv->sum;
}

void
seal_verify_free(struct seal_verify *sv)
{
	if (sv == NULL)
		return;
	for (unsigned i = 0; i < sv->nnames; i++)
		free(sv->names[i]);
	free(sv->names);
	free(sv->seals);
	free(sv->wits);
	sodium_memzero(&sv->v, sizeof(sv->v));
	sodium_memzero(&sv->cur, sizeof(sv->cur));
	free(sv);
}
