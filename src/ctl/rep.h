/*
 * rep.h - the audit report's model, shared by its stages (report.c runs
 * them): the records the readers fill (report_audit.c,
 * report_maillog.c), the join judges (report_judge.c) and the tables
 * show (report_tab.c).  Private to those files.
 *
 * Every record lives in the arena and dies with the report; decisions
 * hang off their message, found through an open-addressing table keyed
 * by queue id; short strings (verdicts, reasons, lists) are interned as
 * symbols and counted where they are.
 *
 * Every decision and message of the input stays until the end (a
 * delivery of another queue id may still join to it), so they are
 * kept small: 72 octets a decision (a pseudonym as 16 octets, the
 * verdict, reason and outcome as one interned triple, its message and
 * the next decision by number), 56 a message
 * (its queue id inside it, its message-id as where to read it again,
 * the rarely needed rest apart), 8 a slot of the queue id table.
 */
#ifndef REP_H
#define REP_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "core/addr.h"
#include "core/audit.h"
#include "core/audit_scan.h"
#include "ctl/ctl.h"
#include "util/arena.h"
#include "util/htab.h"
#include "util/lines.h"
#include "util/time.h"
#include "util/util.h"

#define READ_CHUNK	(512u << 10)
#define DECBLOCK	8192
#define MSGBLOCK	4096	/* messages, numbered, in blocks of */
#define MSGXBLOCK	1024	/* and their rarely needed parts */
#define ALL_LISTS	UINT32_MAX	/* an unsubscribe from every list */
#define LATE_SECONDS	(2 * 86400)	/* Gmail and Yahoo: two days */
#define LATE_BUSINESS	10		/* CAN-SPAM: ten business days */
#define PARENT_DEPTH	16		/* "forwarded as" hops followed */

/* Verdict columns of the tallies. */
#define V_ALLOW		0
#define V_DENY		1
#define V_TEMPFAIL	2
#define V_OTHER		3
#define NV		4

/* dec.flags */
#define D_BULK		0x01
#define D_OUTDELIV	0x02	/* outcome says delivered: accepted or tagged */
#define D_EV		0x04	/* rests on a record, ev_time set */
#define D_SENT		0x08	/* the mail log shows status=sent */
#define D_LOGGED	0x10	/* a mail log line was joined to it */
#define D_BIN		0x20	/* rk.bin: the pseudonym's octets, not its text */

/* msg.flags */
#define M_AUDIT		0x01
#define M_MAILLOG	0x02
#define M_CLEANUP	0x04
#define M_NOTICE	0x08	/* a bounce or delay notice Postfix made */
#define M_REDIRECT	0x10	/* a recipient was redirected: see hold */
#define M_MIDLOC	0x20	/* mid.loc: where the message-id is, not it */

/* Violation kinds, in report order. */
#define K_DENIED	0	/* delivered against a deny */
#define K_NORCPT	1	/* delivered to an undecided recipient */
#define K_NOMSG		2	/* delivered, no audit line for the queue id */
#define NKIND		3

typedef struct util_str rstr;

/* An interned short string: verdict, reason, list, outcome, source... */
struct sym {
	rstr	s;
	uint32_t id;
	uint64_t as_verdict;		/* decisions with this verdict */
	uint64_t as_reason[NV];		/* with this reason, by verdict */
	uint64_t as_list[NV];		/* on this list, by verdict */
};

/*
 * The verdict, reason and outcome of a decision, interned as one: the
 * combinations are few, the decisions millions.
 */
struct tri {
	uint32_t verdict_sym, reason, outcome;	/* symbols */
	uint32_t id;
};

struct unsub;

/* A recipient who unsubscribed, as the audit names them. */
struct rcpt {
	rstr	s;			/* pseudonym or address, kept */
	struct unsub *unsubs;
};

struct dec;

struct pend;

struct msgx;

/* One queue id, from the audit, the mail log or both. */
#define QID_INLINE	16	/* queue ids up to this long live in the msg */
#define QID_EXT		UINT8_MAX	/* qn: the queue id is q.ext */

struct msg {
	/* The queue id: rep_qid() shows it, wherever it is. */
	union {
		char	in[QID_INLINE];	/* qn octets */
		rstr	ext;		/* kept in the arena */
	} q;
	/*
	 * The message-id (mid_n octets, hashed to mid_h; none when mid_n is
	 * 0): kept text, or, from an audit file that can be read again,
	 * where its line is (M_MIDLOC: the file << 48 | the line's offset),
	 * read back by rep_msgid() for the few that are shown or joined.
	 */
	union {
		const char *p;
		uint64_t loc;
	} mid;
	int64_t	recv;			/* cleanup time, else first log time */
	uint32_t mid_n, mid_h;
	uint32_t decs;			/* 1 + its newest decision's number, or 0 */
	uint32_t x;			/* 1 + its rarely needed rest's number, or 0 */
	uint32_t ndec;
	uint16_t flags;
	uint8_t	qn;			/* length of q.in, or QID_EXT */
};

/*
 * What few messages need, apart so that the millions without it stay
 * small: made by rep_msgx() on first need.
 */
struct msgx {
	struct msg *parent;		/* "forwarded as": where it came from */
	struct msg *same_msgid;		/* next audited one with this msgid */
	struct dec **idx;		/* for many recipients: by recipient */
	size_t	idxmask;
	struct pend *pend;		/* deliveries waiting for the end */
	struct msg *pend_next;
};

struct dec {
	uint32_t mi;			/* 1 + its message's number; 0: NOQUEUE */
	uint32_t next;			/* 1 + the message's next one's number, or 0 */
	/*
	 * The recipient as the audit has it: a pseudonym as the milter
	 * writes it ("h:" and 32 lowercase hex digits) as its 16 octets
	 * (D_BIN), anything else as kept text.  rep_dec_rcpt() shows it.
	 */
	union {
		unsigned char bin[16];
		rstr	s;
	} rk;
	int64_t	t_ms;
	int64_t	ev_time;		/* seconds; with D_EV */
	int64_t	sent;			/* last status=sent (s); with D_SENT */
	uint32_t tri, list;		/* R->tris[tri]: verdict, reason, outcome */
	uint32_t line, sent_line;
	uint16_t file, sent_file;
	uint8_t	verdict, flags;
};

struct decblock {
	struct decblock *next;
	size_t	n;
	struct dec d[DECBLOCK];
};

struct unsub {
	struct unsub *next;		/* the recipient's others */
	struct unsub *all_next;
	struct rcpt *r;
	struct dec *ev;			/* the first decision that showed it */
	struct dec *late;		/* the last bulk delivery after it */
	int64_t	when, late_t;
	uint32_t list, source;
};

/* A delivery of a queue id without an audit line, judged at the end. */
struct pend {
	struct pend *next;
	rstr	rcpt;			/* as shown: the pseudonym when keyed */
	rstr	plain;			/* the normalised address */
	int64_t	t;
	uint32_t line;
	uint16_t file;
};

struct viol {
	int	kind;
	struct msg *m;
	struct dec *d;
	rstr	rcpt;
	int64_t	t;			/* seconds */
	uint32_t line, count;
	uint16_t file;
	int	from_log;		/* by the mail log, not the outcome */
};

struct day {
	int64_t	day;			/* days since the epoch, UTC */
	uint64_t n[NV];
};

/* Feedback kinds (a "feedback" line's reason). */
#define FE_HARD		0
#define FE_SOFT		1
#define FE_POLICY	2
#define FE_COMPLAINT	3

/* A "feedback" line of consentctl feedback, joined at the end. */
struct fbev {
	struct fbev *next;
	rstr	qid, rcpt;		/* kept */
	int64_t	day;			/* days since the epoch, UTC */
	uint32_t list;			/* symbol; 0: the line names none */
	uint8_t	kind;			/* FE_* */
};

/* One list's day: its bulk deliveries and the feedback about them. */
struct fbday {
	uint32_t list;
	int64_t	day;
	uint64_t delivered, n[4];	/* n[FE_*]: distinct recipients */
};

struct input {
	const char *path;
	int	fd, maillog;
	int	regular;		/* a regular file: can be read again */
	unsigned long lines, records;
	uint64_t line_off;		/* where the current line starts */
};

struct rep {
	struct ctl *c;
	char	*err;
	size_t	errlen;
	struct arena a;
	struct htab symt, rcpts, days, trit;
	struct htab32 msgs;		/* queue id -> message number */
	struct msg **msgblk;		/* message i: msgblk[i / MSGBLOCK] */
	size_t	nmsgblk, msgblkcap;
	uint32_t msgn;			/* messages made */
	struct msgx **xblk;		/* msgx i: xblk[i / MSGXBLOCK] */
	size_t	nxblk, xblkcap;
	uint32_t xn;			/* msgx made */
	struct sym **syms;
	size_t	nsyms, symcap;
	struct tri **tris;
	size_t	ntri, tricap;
	struct tri *lasttri;
	struct decblock *blocks;	/* newest first */
	struct decblock **decblk;	/* decision i: decblk[i / DECBLOCK] */
	size_t	ndecblk, decblkcap;
	uint32_t decn;			/* decisions made */
	struct input *in;
	size_t	nin;
	struct msg *pending;
	struct unsub *unsubs;
	size_t	nunsub;
	struct viol *viol;
	size_t	nviol, violcap;
	char	*scratch;
	size_t	scratchcap;
	char	*rbuf, *rdec;		/* rep_msgid()'s line and its decoding */
	size_t	rbufcap, rdeccap;
	struct lines rd;		/* one buffer for every file */
	struct msg *lastm;		/* the last queue id seen */
	uint32_t lastmn;		/* its number */
	struct day *lastday;
	struct symcache { uint32_t id; } sc[7];	/* per field: the last value */

	/* The reading. */
	int64_t	audit_first, audit_last;	/* ms; audit_first < 0: none */
	int64_t	log_first, log_last;	/* seconds; log_first < 0: none */
	uint64_t ndec, nmsg, noqueue, torn, skipped;
	uint64_t sent, bounced, deferred, other, matched;
	uint64_t notices, unjudged, held, late2, late10;
	uint64_t nkind[NKIND];
	struct fbev *fbevs;		/* feedback lines, newest first */
	uint64_t nfbev, ncomplaint;
	int	maillog, have_pseudo, keyed;
	crypto_auth_hmacsha256_state hmac;
	char	hold[ADDR_MAX + 1];	/* actions.redirect_to, normalised */

	/* Well-known symbols. */
	uint32_t s_allow, s_deny, s_tempfail, s_bulk, s_accepted, s_tagged;
	uint32_t s_consent, s_suppression, s_unsub, s_unsub_all, s_open;
	uint32_t s_redirected;

	struct time_memo tm;		/* the time readers' memory */
};

/*
 * rep_init - an empty report for c with the well-known symbols; err
 * (errlen octets, the caller's) takes every message of the run.  0, or
 * -1 with err; rep_free() either way.
 */
int	rep_init(struct rep *R, struct ctl *c, char *err, size_t errlen);

/* rep_free - everything rep_init() and the reading made; NULL is a no-op. */
void	rep_free(struct rep *R);

/* rep_oom - the error for a failed allocation; always -1. */
int	rep_oom(struct rep *R);

/* rep_read_error - the error for lines_next() failing on in; always -1. */
int	rep_read_error(struct rep *R, const struct input *in);

/*
 * report_audit_load - every decision of audit file R->in[file] into the
 * model; 0, or -1 with err naming the file and line (report_audit.c).
 */
int	report_audit_load(struct rep *R, int file);

/*
 * report_maillog_key - set up the pseudonym key, when the audit holds
 * pseudonyms and a mail log is to be joined; 0 / -1 with err.
 * report_maillog_load - every line of mail log R->in[file] judged or
 * noted; 0 / -1 with err (report_maillog.c).
 */
int	report_maillog_key(struct rep *R);
int	report_maillog_load(struct rep *R, int file);

/*
 * report_maillog_deliver - a status=sent at t of audited message m to a
 * recipient known by the keys k[0..nk) (hashes h): mark its decision
 * delivered, or flag it, naming the recipient shown; 0 / -1 with err.
 */
int	report_maillog_deliver(struct rep *R, struct msg *m, const rstr *k,
	    const uint64_t *h, int nk, const char *shown, int64_t t, int file,
	    uint32_t lineno);

/*
 * report_judge - the deliveries still waiting, the violations and the
 * time to honour each unsubscribe; 0 / -1 with err (report_judge.c).
 */
int	report_judge(struct rep *R);

/*
 * report_feedback_line - a line of type "feedback" (consentctl feedback's
 * results): kept when applied (hard, soft, complaint) or a policy
 * refusal reported; 0 / -1 with err.
 * report_feedback_days - the bulk deliveries and the feedback per list
 * and day, the lines joined to their list through the queue id when they
 * name none, each recipient counted once per list, day and kind: an
 * array (*days, to free; items in the arena) sorted by list and day, or
 * none when no feedback line was read.  0 / -1 (report_feedback.c).
 */
int	report_feedback_line(struct rep *R, const struct audit_fields *f);
int	report_feedback_days(struct rep *R, struct fbday ***days, size_t *n);

/* rep_sym - the id of s, interning an arena copy of it; 0 / -1 out of memory. */
int	rep_sym(struct rep *R, rstr s, uint32_t *id);

/*
 * rep_tri - the id of the verdict, reason and outcome symbols v, r, o as
 * one, interned in the arena; 0 / -1 out of memory.
 */
int	rep_tri(struct rep *R, uint32_t v, uint32_t r, uint32_t o, uint32_t *id);

/* rep_keep - move s into the arena: the line it points into is about to go. */
int	rep_keep(struct rep *R, rstr *s);

/* rep_str - an arena-owned copy of the C string s into *out; 0 / -1. */
int	rep_str(struct rep *R, const char *s, rstr *out);

/* rep_msg - the message of a queue id, made on first sight; NULL out of memory. */
struct msg *rep_msg(struct rep *R, rstr qid);

/*
 * rep_msgid_set - id (trimmed, not empty) as m's message-id: its place
 * in audit file R->in[file] when that can be read again (file >= 0),
 * else an arena copy; 0 / -1 out of memory.
 */
int	rep_msgid_set(struct rep *R, struct msg *m, rstr id, int file);

/*
 * rep_msgid - m's message-id into *out (n 0: none), read back from its
 * audit line and kept from then on if need be; 0, or -1 with err (out
 * of memory, a read error, or a file that changed under the report).
 */
int	rep_msgid(struct rep *R, struct msg *m, rstr *out);

/* rep_msgid_hash - the mid_h of a message-id. */
static inline uint32_t
rep_msgid_hash(rstr id)
{
	return (uint32_t)htab_hash(id.p, id.n);
}

/* rep_msg_find - the message of a queue id, or NULL: none seen. */
struct msg *rep_msg_find(const struct rep *R, rstr qid);

/* rep_msg_at - message number i (below R->msgn). */
static inline struct msg *
rep_msg_at(const struct rep *R, uint32_t i)
{
	return &R->msgblk[i / MSGBLOCK][i % MSGBLOCK];
}

/*
 * rep_msg_of - rep_msg(), short-cut when the queue id is the last one's;
 * the message's number into *num unless num is NULL.
 */
struct msg *rep_msg_of(struct rep *R, rstr qid, uint32_t *num);

/* rep_dec_at - decision number i (below R->decn). */
static inline struct dec *
rep_dec_at(const struct rep *R, uint32_t i)
{
	return &R->decblk[i / DECBLOCK]->d[i % DECBLOCK];
}

/* rep_decs - m's newest decision, or NULL. */
static inline struct dec *
rep_decs(const struct rep *R, const struct msg *m)
{
	return m->decs != 0 ? rep_dec_at(R, m->decs - 1) : NULL;
}

/* rep_dec_next - the decision of d's message before d, or NULL. */
static inline struct dec *
rep_dec_next(const struct rep *R, const struct dec *d)
{
	return d->next != 0 ? rep_dec_at(R, d->next - 1) : NULL;
}

/* rep_dec_msg - d's message, or NULL for NOQUEUE. */
static inline struct msg *
rep_dec_msg(const struct rep *R, const struct dec *d)
{
	return d->mi != 0 ? rep_msg_at(R, d->mi - 1) : NULL;
}

/* rep_msgx - m's rarely needed part, made (zeroed) on first need; NULL out of memory. */
struct msgx *rep_msgx(struct rep *R, struct msg *m);

/* rep_qid - m's queue id: a view into m or the arena. */
static inline rstr
rep_qid(const struct msg *m)
{
	rstr s;

	if (m->qn == QID_EXT)
		return m->q.ext;
	s.p = m->q.in;
	s.n = m->qn;
	return s;
}

/* rep_x - m's rarely needed part, or NULL: none made. */
static inline struct msgx *
rep_x(const struct rep *R, const struct msg *m)
{
	return m->x != 0 ? &R->xblk[(m->x - 1) / MSGXBLOCK][(m->x - 1) %
	    MSGXBLOCK] : NULL;
}

/* rep_parent - the message m was "forwarded as" from, or NULL. */
static inline struct msg *
rep_parent(const struct rep *R, const struct msg *m)
{
	return m->x != 0 ? rep_x(R, m)->parent : NULL;
}

/*
 * rep_rcpt - the unsubscribed recipient s (hash h), made on first sight
 * with an arena copy of s (the line s points into may go); NULL out of
 * memory.
 */
struct rcpt *rep_rcpt(struct rep *R, rstr s, uint64_t h);

/* rep_rcpt_find - the unsubscribed recipient s (hash h), or NULL. */
struct rcpt *rep_rcpt_find(const struct rep *R, rstr s, uint64_t h);

/*
 * rep_dec_find - m's decision about recipient k (hash h) that a delivery
 * at t (seconds; INT64_MAX for any time) can rest on: the latest made
 * before it.  Postfix reuses queue ids, so a decision made after the
 * delivery belongs to another message.  NULL if none; *err set if out of
 * memory.
 */
struct dec *rep_dec_find(struct rep *R, struct msg *m, const rstr *k,
	    uint64_t h, int64_t t, int *err);

/*
 * rep_pseudo_bin - s is a pseudonym as audit_pseudonym() writes it ("h:"
 * and 32 lowercase hex digits): its 16 octets into bin, 1; else 0.
 */
int	rep_pseudo_bin(rstr s, unsigned char bin[16]);

/*
 * rep_dec_rcpt - d's recipient as the audit wrote it: a view into d's
 * kept text, or into buf (the caller's, REP_RCPT_BUF octets).
 */
#define REP_RCPT_BUF	35
rstr	rep_dec_rcpt(const struct dec *d, char *buf);

/* rep_dec_text - rep_dec_rcpt() into *out, arena-owned; 0 / -1 out of memory. */
int	rep_dec_text(struct rep *R, const struct dec *d, rstr *out);

/* rep_viol_add - append a copy of v to the violations; 0 / -1 out of memory. */
int	rep_viol_add(struct rep *R, const struct viol *v);

/* rep_trim - s without surrounding blanks (a view into the same octets). */
rstr	rep_trim(rstr s);

/* rep_eq - a view equals a C string. */
int	rep_eq(rstr a, const char *b);

#endif
