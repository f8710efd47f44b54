/*
 * report_maillog.c - the audit report's reading of Postfix mail logs,
 * each line as the merged reading comes to it.  A delivery of an audited
 * message is joined to the decision it rests on (or flagged: a recipient
 * the filter never saw); a delivery of a queue id without an audit line
 * waits for its message to retire (report_judge.c), since a "forwarded
 * as" or a bounce line may come later, and pins the audited messages
 * with its message-id until then.  "removed" starts a message's
 * retirement.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ctl/maillog.h"
#include "ctl/rep.h"

/*
 * The recipient of a delivery as the audit may name it: the pseudonym of
 * the normalised address when keyed, and the address itself (a log
 * written before pseudonymisation was turned on).
 */
struct who {
	char	pseudo[AUDIT_PSEUDO_MAX];
	struct addr a;
	rstr	k[2];
	uint64_t h[2];
	int	nk;
};

int
report_maillog_key(struct rep *R)
{
	unsigned char key[AUDIT_KEY_BYTES];
	char err[512];

	if (!R->maillog || !R->have_pseudo)
		return 0;
	if (R->c->cf.audit_key_file[0] == '\0')
		return util_fail(R->err, R->errlen, "the audit log holds "
		    "pseudonyms: joining it with the mail log needs the key "
		    "(audit.key_file)");
	if (sodium_init() < 0)
		return util_fail(R->err, R->errlen,
		    "libsodium failed to initialise");
	if (audit_key_load(R->c->cf.audit_key_file, key, err,
	    sizeof(err)) == -1)
		return util_fail(R->err, R->errlen, "%s", err);
	crypto_auth_hmacsha256_init(&R->hmac, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	R->keyed = 1;
	return 0;
}

/*
 * who_of - the keys the audit may use for a delivered address (pseudonym
 * first).  The HMAC state is keyed once, then copied per address.
 */
static void
who_of(struct rep *R, rstr addr, struct who *w)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	static const char digits[] = "0123456789abcdef";
	char err[256];

	if (addr_normalize(addr.p, addr.n, R->c->cf.addr_flags,
	    R->c->cf.delims, &w->a, err, sizeof(err)) == -1) {
		/* The milter keys an address it cannot parse as written. */
		size_t n = addr.n < ADDR_MAX ? addr.n : ADDR_MAX;

		memcpy(w->a.key, addr.p, n);
		w->a.key[n] = '\0';
	}
	w->nk = 0;
	if (R->keyed) {
		crypto_auth_hmacsha256_state st = R->hmac;

		crypto_auth_hmacsha256_update(&st,
		    (const unsigned char *)w->a.key, strlen(w->a.key));
		crypto_auth_hmacsha256_final(&st, mac);
		w->pseudo[0] = 'h';
		w->pseudo[1] = ':';
		for (int i = 0; i < 16; i++) {
			w->pseudo[2 + 2 * i] = digits[mac[i] >> 4];
			w->pseudo[3 + 2 * i] = digits[mac[i] & 15];
		}
		w->pseudo[34] = '\0';
		w->k[0].p = w->pseudo;
		w->k[0].n = 34;
		w->nk = 1;
	}
	w->k[w->nk].p = w->a.key;
	w->k[w->nk].n = strlen(w->a.key);
	w->nk++;
	for (int i = 0; i < w->nk; i++)
		w->h[i] = htab_hash(w->k[i].p, w->k[i].n);
}

int
report_maillog_deliver(struct rep *R, struct msg *m, const rstr *k,
    const uint64_t *h, int nk, const char *shown, int64_t t, int file,
    uint32_t lineno)
{
	struct dec *d = NULL;
	struct viol v;
	int err = 0;

	for (int i = 0; i < nk && d == NULL; i++)
		d = rep_dec_find(R, m, &k[i], h[i], t, &err);
	if (err)
		return -1;
	if (d != NULL) {
		R->matched++;
		d->flags |= D_LOGGED;
		if (!(d->flags & D_SENT) || t >= d->sent) {
			d->flags |= D_SENT;
			d->sent = t;
			d->sent_file = (uint16_t)file;
			d->sent_line = lineno;
		}
		return 0;
	}
	/* The milter added the holding mailbox for a redirect. */
	if ((m->flags & M_REDIRECT) && R->hold[0] != '\0' &&
	    k[nk - 1].n == strlen(R->hold) &&
	    memcmp(k[nk - 1].p, R->hold, k[nk - 1].n) == 0) {
		R->held++;
		return 0;
	}
	memset(&v, 0, sizeof(v));
	v.kind = K_NORCPT;
	if (rep_viol_msg(R, &v, m) == -1)
		return -1;
	v.t = t;
	v.file = (uint16_t)file;
	v.line = lineno;
	v.from_log = 1;
	if (rep_str(R, shown, &v.rcpt) == -1)
		return -1;
	return rep_viol_add(R, &v);
}

/* line_time - the line's time in seconds; -1 if it cannot be read. */
static int
line_time(struct rep *R, const struct maillog_line *f, int64_t *t)
{
	if (f->classic)
		return time_syslog(&R->tm, f->time.p, t);
	if (time_rfc3339_ms(&R->tm, f->time.p, f->time.n, t) == -1)
		return -1;
	*t /= 1000;
	return 0;
}

/*
 * cands_pin - once, for m without an audit line: the audited messages
 * with its message-id, noted and pinned for its deliveries to join to
 * when it retires (a content filter re-injects under a new queue id,
 * and may deliver the copy hours after the original was removed); 0 /
 * -1 with err.
 */
static int
cands_pin(struct rep *R, struct msg *m)
{
	const struct htab32 *t = &R->mids;
	struct msgx *x;
	rstr id, cid;

	if ((m->flags & M_CANDS) || m->ndec > 0 || m->mid_n == 0)
		return 0;
	m->flags |= M_CANDS;
	if (rep_msgid(R, m, &id) == -1)
		return -1;
	for (size_t i = m->mid_h & t->mask; t->s[i].v != 0;
	    i = (i + 1) & t->mask) {
		struct msg *c = rep_msg_at(R, t->s[i].v - 1), **v;

		if (t->s[i].h != m->mid_h || c == m || c->mid_n != id.n)
			continue;
		if (rep_msgid(R, c, &cid) == -1)
			return -1;
		if (memcmp(cid.p, id.p, id.n) != 0)
			continue;
		if ((x = rep_msgx(R, m)) == NULL)
			return rep_oom(R);
		if ((v = realloc(x->cands, (x->ncand + 1) * sizeof(*v))) ==
		    NULL)
			return rep_oom(R);
		x->cands = v;
		x->cands[x->ncand++] = c;
		if (rep_pin(R, c) == -1)
			return -1;
	}
	return 0;
}

/*
 * sent - a status=sent of m at t: joined now when m is audited, else
 * kept to be judged when m retires.  0, or -1 with err.
 */
static int
sent(struct rep *R, struct msg *m, const struct maillog_line *f, int64_t t,
    int file, uint32_t lineno)
{
	struct who w;
	struct pend *pd;
	struct msgx *x;
	size_t n0, n1;

	R->sent++;
	/* Aliases expand after the filter: orig_to is what it saw. */
	who_of(R, f->orig_to.n > 0 ? f->orig_to : f->to, &w);
	if (m->ndec > 0)
		return report_maillog_deliver(R, m, w.k, w.h, w.nk, w.k[0].p, t,
		    file, lineno);
	n0 = w.k[0].n;
	n1 = w.nk == 1 ? 0 : w.k[1].n;
	if ((x = rep_msgx(R, m)) == NULL ||
	    (pd = malloc(sizeof(*pd) + n0 + n1 + 2)) == NULL)
		return rep_oom(R);
	pd->rcpt.p = memcpy((char *)(pd + 1), w.k[0].p, n0);
	((char *)(pd + 1))[n0] = '\0';
	pd->rcpt.n = n0;
	if (w.nk == 1)
		pd->plain = pd->rcpt;
	else {
		pd->plain.p = memcpy((char *)(pd + 1) + n0 + 1, w.k[1].p, n1);
		((char *)(pd + 1))[n0 + 1 + n1] = '\0';
		pd->plain.n = n1;
	}
	pd->t = t;
	pd->file = (uint16_t)file;
	pd->line = lineno;
	pd->next = x->pend;
	x->pend = pd;
	return cands_pin(R, m);
}

/* delivery - a delivery agent's line about m at t; 0 / -1 out of memory. */
static int
delivery(struct rep *R, struct msg *m, const struct maillog_line *f,
    int64_t t, int file, uint32_t lineno)
{
	if (f->newqid.n > 0) {
		struct msg *n = rep_msg(R, f->newqid);

		if (n == NULL)
			return rep_oom(R);
		if (n != m) {
			struct msgx *x = rep_msgx(R, n);

			if (x == NULL)
				return rep_oom(R);
			/* m waits for the message it became. */
			if (x->parent != m) {
				if (x->parent != NULL)
					rep_x(R, x->parent)->pins--;
				x->parent = m;
				if (rep_pin(R, m) == -1)
					return -1;
			}
		}
	}
	if (rep_eq(f->status, "sent"))
		return sent(R, m, f, t, file, lineno);
	if (rep_eq(f->status, "bounced"))
		R->bounced++;
	else if (rep_eq(f->status, "deferred"))
		R->deferred++;
	else
		R->other++;
	return 0;
}

/* line - judge or note one mail log line at t; 0, or -1 with err. */
static int
line(struct rep *R, const struct maillog_line *fp, int64_t t, int file,
    uint32_t lineno)
{
	struct maillog_line f = *fp;
	struct msg *m, *n;

	if (f.kind == MAILLOG_HOLD) {
		/* Not a record of the report's: only how long to wait. */
		if ((m = rep_msg_find(R, f.qid)) != NULL)
			m->flags |= M_HELD;
		return 0;
	}
	if (f.kind == MAILLOG_REMOVED) {
		/* Its retirement starts; not a record of the report's. */
		if ((m = rep_msg_find(R, f.qid)) != NULL) {
			m->flags |= M_REMOVED;
			m->removed_t = t;
			m->removed_key = R->in[file].key;
		}
		return 0;
	}
	if (R->log_first < 0 || t < R->log_first)
		R->log_first = t;
	if (t > R->log_last)
		R->log_last = t;
	if ((m = rep_msg_of(R, f.qid, NULL)) == NULL)
		return rep_oom(R);
	if (report_live(R, &m) == -1)
		return -1;
	if (m == NULL && (m = rep_msg_of(R, f.qid, NULL)) == NULL)
		return rep_oom(R);
	/* A line after "removed" is new mail under a queue id used again. */
	m->flags = (uint16_t)((m->flags | M_MAILLOG) & ~M_REMOVED);
	if (R->in[file].key > m->last_key)
		m->last_key = R->in[file].key;
	if (m->recv < 0)
		m->recv = t;
	R->in[file].records++;
	switch (f.kind) {
	case MAILLOG_CLEANUP:
		if (!(m->flags & M_CLEANUP)) {
			m->recv = t;	/* received: cleanup logs first */
			m->flags |= M_CLEANUP;
		}
		if (m->mid_n == 0) {
			rstr id = rep_trim(f.msgid);

			if (id.n > 0 && rep_msgid_set(R, m, id, -1) == -1)
				return -1;
		}
		return cands_pin(R, m);
	case MAILLOG_NOTICE:
		if ((n = rep_msg(R, f.newqid)) == NULL)
			return rep_oom(R);
		n->flags |= M_NOTICE;
		return 0;
	default:
		return delivery(R, m, &f, t, file, lineno);
	}
}

int
report_maillog_pre(struct rep *R, int file, const char *line, size_t len)
{
	struct maillog_line f;
	int kind = maillog_scan(line, len, &f);
	int64_t t;

	if (kind != MAILLOG_OTHER && kind != MAILLOG_QMGR &&
	    line_time(R, &f, &t) == 0)
		report_order(R, &R->in[file], t * 1000);
	return 0;
}

int
report_maillog_next(struct rep *R, int file)
{
	struct input *in = &R->in[file];
	const char *s;
	size_t len;
	int nl, rc, kind;
	int64_t t;

	in->head = 0;
	while ((rc = lines_next(&in->rd, &s, &len, &nl)) == 1) {
		in->lines++;
		if (in->lines > UINT32_MAX)
			return util_fail(R->err, R->errlen, "%s: more than %u "
			    "lines", in->path, UINT32_MAX);
		kind = maillog_scan(s, len, &in->mf);
		/* qmgr's sender is for consentctl feedback's proof. */
		if (kind == MAILLOG_OTHER || kind == MAILLOG_QMGR)
			continue;
		if (line_time(R, &in->mf, &t) == -1) {
			if (kind != MAILLOG_REMOVED)
				R->skipped++;
			continue;
		}
		in->t = t;
		return report_input_key(R, in, t);
	}
	if (rc == -1)
		return rep_read_error(R, in);
	return 0;
}

int
report_maillog_take(struct rep *R, int file)
{
	struct input *in = &R->in[file];

	return line(R, &in->mf, in->t, file, (uint32_t)in->lines);
}
