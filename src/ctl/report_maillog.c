/*
 * report_maillog.c - the audit report's second stage: each Postfix mail
 * log line as it is read.  A delivery of an audited message is joined to
 * the decision it rests on (or flagged: a recipient the filter never
 * saw); a delivery of a queue id without an audit line waits for
 * report_judge(), since its message-id, a "forwarded as" or a bounce
 * line may come later.
 */
#include <stdint.h>
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
	v.m = m;
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
 * sent - a status=sent of m at t: joined now when m is audited, else
 * kept to be judged at the end.  0, or -1 out of memory.
 */
static int
sent(struct rep *R, struct msg *m, const struct maillog_line *f, int64_t t,
    int file, uint32_t lineno)
{
	struct who w;
	struct pend *pd;
	struct msgx *x;

	R->sent++;
	/* Aliases expand after the filter: orig_to is what it saw. */
	who_of(R, f->orig_to.n > 0 ? f->orig_to : f->to, &w);
	if (m->ndec > 0)
		return report_maillog_deliver(R, m, w.k, w.h, w.nk, w.k[0].p, t,
		    file, lineno);
	if ((x = rep_msgx(R, m)) == NULL ||
	    (pd = arena_alloc(&R->a, sizeof(*pd))) == NULL ||
	    rep_str(R, w.k[0].p, &pd->rcpt) == -1)
		return rep_oom(R);
	if (w.nk == 1)
		pd->plain = pd->rcpt;
	else if (rep_str(R, w.k[1].p, &pd->plain) == -1)
		return -1;
	pd->t = t;
	pd->file = (uint16_t)file;
	pd->line = lineno;
	if (x->pend == NULL) {
		x->pend_next = R->pending;
		R->pending = m;
	}
	pd->next = x->pend;
	x->pend = pd;
	return 0;
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
			x->parent = m;
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

/* line - judge or note one mail log line; 0, or -1 out of memory. */
static int
line(struct rep *R, const char *s, size_t len, int file, uint32_t lineno)
{
	struct maillog_line f;
	struct msg *m, *n;
	int64_t t;
	int kind = maillog_scan(s, len, &f);

	/* qmgr's sender is for consentctl feedback's proof, not the report. */
	if (kind == MAILLOG_OTHER || kind == MAILLOG_QMGR ||
	    kind == MAILLOG_REMOVED)
		return 0;
	if (line_time(R, &f, &t) == -1) {
		R->skipped++;
		return 0;
	}
	if (R->log_first < 0 || t < R->log_first)
		R->log_first = t;
	if (t > R->log_last)
		R->log_last = t;
	if ((m = rep_msg_of(R, f.qid, NULL)) == NULL)
		return rep_oom(R);
	m->flags |= M_MAILLOG;
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
		return 0;
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
report_maillog_load(struct rep *R, int file)
{
	struct input *in = &R->in[file];
	const char *s;
	size_t len;
	int nl, rc;

	lines_reset(&R->rd, in->fd);
	while ((rc = lines_next(&R->rd, &s, &len, &nl)) == 1) {
		in->lines++;
		if (in->lines > UINT32_MAX)
			return util_fail(R->err, R->errlen, "%s: more than %u "
			    "lines", in->path, UINT32_MAX);
		if (line(R, s, len, file, (uint32_t)in->lines) == -1)
			return -1;
	}
	if (rc == -1)
		return rep_read_error(R, in);
	return 0;
}
