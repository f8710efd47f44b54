/*
 * rep.h - the audit report's model, shared by its stages (report.c runs
 * them): the records the readers fill (report_audit.c,
 * report_maillog.c), the join judges (report_judge.c) and the tables
 * show (report_tab.c).  Private to those files.
 *
 * The inputs are read merged in time order (report.c), so a message
 * lives only while its mail can still be delivered: decisions hang off
 * their message, found through an open-addressing table keyed by queue
 * id, and the message is judged and retired (report_judge.c) an hour
 * after Postfix logs it removed, once no message that came of it is
 * still waiting on it.  Messages, decisions and their parts are
 * numbered slots reused once retired; what outlives them (symbols,
 * unsubscribes, violations) lives in the arena and dies with the
 * report.  Short strings (verdicts, reasons, lists) are interned as
 * symbols and counted where they are.
 */
#ifndef REP_H
#define REP_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "core/addr.h"
#include "core/audit.h"
#include "core/audit_scan.h"
#include "ctl/ctl.h"
#include "ctl/maillog.h"
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
#define JOIN_SLACK	300	/* filter and MTA clocks may differ (seconds) */

/*
 * The merged reading's clock, in milliseconds: an audit line at its
 * time, a mail log line later than its own (whole seconds) by the clocks'
 * allowed difference and the disorder a file "in time order" may have,
 * so that every decision a delivery may rest on is read before it.
 */
#define ORDER_SLACK_MS	((int64_t)60 * 1000)	/* a file "in time order" */
#define LOG_LAG_MS	((int64_t)(JOIN_SLACK + 1) * 1000 + ORDER_SLACK_MS)
#define RETIRE_MS	((int64_t)3600 * 1000)	/* kept after "removed" */
#define IDLE_MS		((int64_t)6 * 86400 * 1000)	/* no line: done */
#define SWEEP_MS	((int64_t)600 * 1000)	/* how often to retire */

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
#define M_REMOVED	0x40	/* qmgr logged it removed, at removed_key */
#define M_MIDIDX	0x80	/* in R->mids, the message-id index */
#define M_CANDS		0x100	/* its message-id candidates were pinned */
#define M_HELD		0x200	/* on hold: quiet until released */

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
	 * 0): text the message owns (malloc), or, from an audit file that can be read again,
	 * where its line is (M_MIDLOC: the file << 48 | the line's offset),
	 * read back by rep_msgid() for the few that are shown or joined.
	 */
	union {
		const char *p;
		uint64_t loc;
	} mid;
	int64_t	recv;			/* cleanup time, else first log time */
	int64_t	removed_t;		/* seconds; with M_REMOVED */
	int64_t	removed_key, last_key;	/* the merged clock: removed, last line */
	uint32_t num;			/* its number */
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
	struct msg **cands;		/* audited ones with its message-id */
	size_t	ncand;
	struct dec **idx;		/* for many recipients: by recipient */
	size_t	idxmask;
	struct pend *pend;		/* deliveries waiting for its retirement */
	uint32_t pins;			/* messages waiting on this one */
	uint32_t num;			/* its number */
};

struct dec {
	uint32_t mi;			/* 1 + its message's number; 0: NOQUEUE */
	uint32_t next;			/* 1 + the message's next one's number, or 0 */
	/*
	 * The recipient as the audit has it: a pseudonym as the milter
	 * writes it ("h:" and 32 lowercase hex digits) as its 16 octets
	 * (D_BIN), anything else as text it owns (malloc).  rep_dec_rcpt()
	 * shows it.
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
	struct dec d[DECBLOCK];
};

/* A stack of slot numbers: retired ones to be used again, or due ones. */
struct nums {
	uint32_t *v;
	size_t	n, cap;
};

struct unsub {
	struct unsub *next;		/* the recipient's others */
	struct unsub *all_next;
	struct rcpt *r;
	char	*late_qid;		/* the last bulk delivery after it (malloc);
					   NULL with has_late: NOQUEUE */
	int64_t	when, late_t;
	uint32_t list, source;
	uint32_t ev_line;		/* the first decision that showed it */
	uint16_t ev_file;
	int	has_late;
};

/*
 * A delivery of a queue id without an audit line, judged when its
 * message retires; one allocation with its two strings after it.
 */
struct pend {
	struct pend *next;
	rstr	rcpt;			/* as shown: the pseudonym when keyed */
	rstr	plain;			/* the normalised address */
	int64_t	t;
	uint32_t line;
	uint16_t file;
};

/*
 * A violation, with copies of what its row shows: the message and the
 * decision may be retired long before the tables are made.
 */
struct viol {
	int	kind;
	int	has_m, has_d;
	struct msg m;			/* qid and message-id, in the arena */
	uint32_t d_list, d_tri, d_line;	/* the decision */
	uint16_t d_file;
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

/* One input, and the line at its head of the merged reading. */
struct input {
	const char *path;
	int	fd, maillog;
	int	regular;		/* a regular file: can be read again */
	unsigned long lines, records;
	uint64_t line_off;		/* where the current line starts */
	off_t	start;			/* where its reading starts */
	uint64_t next_off;		/* where the next line starts */
	FILE	*copy;			/* fd is this copy of a pipe's */
	struct lines rd;
	char	*scratch;		/* audit_scan()'s decoded strings */
	size_t	scratchcap;
	struct audit_fields af;		/* the head line, scanned */
	struct maillog_line mf;
	int64_t	t;			/* its time (ms audit, s mail log) */
	int64_t	key, maxkey;		/* on the merged clock */
	int64_t	premax;			/* the first pass's latest time, ms */
	int	head;			/* a line is waiting: key is set */
	int	timed;			/* ... and t was read from it */
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
	struct decblock **decblk;	/* decision i: decblk[i / DECBLOCK] */
	size_t	ndecblk, decblkcap;
	uint32_t decn;			/* decision slots made */
	struct nums decfree, msgfree, xfree;
	struct nums due;		/* report_sweep()'s list */
	struct htab32 mids;		/* message-id hash -> audited message */
	struct htab fbq;		/* queue ids feedback lines join by */
	struct htab fbdays;		/* bulk deliveries per list and day */
	int64_t	now, next_sweep;	/* the merged clock */
	size_t	made;			/* messages made since the last sweep */
	int	whole;			/* a file is out of order: no merge */
	struct input *in;
	size_t	nin;
	struct unsub *unsubs;
	size_t	nunsub;
	struct viol *viol;
	size_t	nviol, violcap;
	char	*rbuf, *rdec;		/* rep_msgid()'s line and its decoding */
	size_t	rbufcap, rdeccap;
	struct lines rd;		/* the first pass's buffer */
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
 * report_input_key - the head line of in, at t (ms for an audit line,
 * seconds for a mail log line), placed on the merged clock; 1, or -1
 * with err when its file goes back in time by more than an hour: the
 * reading needs each file in time order (report.c).
 */
int	report_input_key(struct rep *R, struct input *in, int64_t t);

/*
 * report_order - a line of in at t (ms) in its first pass: a file that
 * goes back more than ORDER_SLACK_MS is out of order (R->whole).
 */
void	report_order(struct rep *R, struct input *in, int64_t t);

/*
 * report_audit_pre - one line (lineno) of audit file R->in[file] in the
 * first pass, which the merged reading needs before its first line: the
 * audit's first and last times (syslog's year, the mail received before
 * the audit), its order, whether it holds pseudonyms, every unsubscribe
 * a decision shows and every feedback line.  Lines it cannot read are
 * left for the second pass to say.  0, or -1 with err (report_audit.c).
 * report_audit_next - the next line of R->in[file] scanned into its head
 * (1), 0 at its end; -1 with err naming the file and line.
 * report_audit_take - the head line into the model; 0 / -1 with err.
 */
int	report_audit_pre(struct rep *R, int file, const char *line,
	    size_t len, unsigned long lineno);
int	report_audit_next(struct rep *R, int file);
int	report_audit_take(struct rep *R, int file);

/*
 * report_maillog_key - set up the pseudonym key, when the audit holds
 * pseudonyms and a mail log is to be joined; 0 / -1 with err.
 * report_maillog_pre - one line of mail log R->in[file] in the first
 * pass: its order (report_order); 0.
 * report_maillog_next - the next line of mail log R->in[file] into its
 * head (1), 0 at its end, -1 with err; report_maillog_take - the head
 * line judged or noted; 0 / -1 with err (report_maillog.c).
 */
int	report_maillog_key(struct rep *R);
int	report_maillog_pre(struct rep *R, int file, const char *line,
	    size_t len);
int	report_maillog_next(struct rep *R, int file);
int	report_maillog_take(struct rep *R, int file);

/*
 * report_maillog_deliver - a status=sent at t of audited message m to a
 * recipient known by the keys k[0..nk) (hashes h): mark its decision
 * delivered, or flag it, naming the recipient shown; 0 / -1 with err.
 */
int	report_maillog_deliver(struct rep *R, struct msg *m, const rstr *k,
	    const uint64_t *h, int nk, const char *shown, int64_t t, int file,
	    uint32_t lineno);

/*
 * report_sweep - judge and retire every message that is done by the
 * merged clock R->now (final: every message), at most every SWEEP_MS
 * and once enough messages were made since; 0 / -1 with err.
 * report_judge - after the last line: every message retired, the
 * unsubscribes honoured late counted; 0 / -1 with err (report_judge.c).
 */
int	report_sweep(struct rep *R, int final);

/*
 * report_live - *mp, about to take a line at the merged clock, retired
 * first if it is done by then (a queue id Postfix used again): *mp is
 * then NULL and the caller makes the new message.  0 / -1 with err.
 */
int	report_live(struct rep *R, struct msg **mp);
int	report_judge(struct rep *R);

/*
 * report_retire_dec - judge the decision d, which will not change again
 * (its message m retiring, NULL for NOQUEUE), then free it; 0 / -1 with
 * err (report_judge.c).
 */
int	report_retire_dec(struct rep *R, struct msg *m, struct dec *d,
	    uint32_t num);

/*
 * report_feedback_line - a line of type "feedback" (consentctl feedback's
 * results), read in the first pass: kept when applied (hard, soft,
 * complaint) or a policy refusal reported, its queue id noted when it
 * names no list; 0 / -1 with err.
 * report_feedback_dec - a retiring bulk decision d: its delivery on its
 * list's day, when feedback lines were read; 0 / -1.
 * report_feedback_msg - a retiring message m: its list, for the feedback
 * lines that name its queue id and no list; 0 / -1.
 * report_feedback_days - the bulk deliveries and the feedback per list
 * and day, the lines joined to their list through the queue id when they
 * name none, each recipient counted once per list, day and kind: an
 * array (*days, to free; items in the arena) sorted by list and day, or
 * none when no feedback line was read.  0 / -1 (report_feedback.c).
 */
int	report_feedback_line(struct rep *R, const struct audit_fields *f);
int	report_feedback_dec(struct rep *R, const struct dec *d);
int	report_feedback_msg(struct rep *R, const struct msg *m);
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

/* rep_dup - a malloc'd copy of n octets at p, NUL-terminated; NULL out of memory. */
char	*rep_dup(const char *p, size_t n);

/* rep_text_free - free text held as const (rep_dup's); NULL is a no-op. */
static inline void
rep_text_free(const char *p)
{
	free((void *)(uintptr_t)p);
}

/* rep_str - an arena-owned copy of the C string s into *out; 0 / -1. */
int	rep_str(struct rep *R, const char *s, rstr *out);

/* rep_msg - the message of a queue id, made on first sight; NULL out of memory. */
struct msg *rep_msg(struct rep *R, rstr qid);

/*
 * rep_msg_drop - m and everything it owns freed, its number and its
 * decisions' free to be used again; its decisions must have been
 * retired (report_retire_dec) first.
 */
void	rep_msg_drop(struct rep *R, struct msg *m);

/* rep_dec_new - a zeroed decision slot, numbered into *num; NULL out of memory. */
struct dec *rep_dec_new(struct rep *R, uint32_t *num);

/* rep_dec_drop - d's text freed and its slot (number num) free again. */
void	rep_dec_drop(struct rep *R, struct dec *d, uint32_t num);

/* rep_nums_push - n onto the stack; 0 / -1 out of memory. */
int	rep_nums_push(struct nums *f, uint32_t n);

/* rep_pin - m must outlive another message: one more pin; 0 / -1. */
int	rep_pin(struct rep *R, struct msg *m);

/* rep_mid_index - m (audited, with a message-id) into R->mids once; 0 / -1. */
int	rep_mid_index(struct rep *R, struct msg *m);

/*
 * rep_viol_msg - m copied into v->m for its row: the queue id and the
 * message-id as arena text, since m may be retired first; 0 / -1 with err.
 */
int	rep_viol_msg(struct rep *R, struct viol *v, struct msg *m);

/*
 * rep_msgid_set - id (trimmed, not empty) as m's message-id: its place
 * in audit file R->in[file] when that can be read again (file >= 0),
 * else an arena copy; 0 / -1 out of memory.
 */
int	rep_msgid_set(struct rep *R, struct msg *m, rstr id, int file);

/*
 * rep_msgid - m's message-id into *out (n 0: none), read back from its
 * audit line and owned by m from then on if need be; 0, or -1 with err
 * (out of memory, a read error, or a file that changed under the report).
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
