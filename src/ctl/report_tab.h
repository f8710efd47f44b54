/*
 * report_tab.h - the audit report as tables and summary figures: what
 * report_tab_build() makes of the judged model, and all the writers
 * (report_write.c, report_html.c) see.  Every column has a name; a row
 * is indexed by it (row[VI_MSGID]), never by a bare number.
 */
#ifndef REPORT_TAB_H
#define REPORT_TAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

struct rep;

/* Column types. */
#define C_STR		0
#define C_INT		1
#define C_BOOL		2
#define C_TIME		3	/* seconds */
#define C_TIMEMS	4
#define C_DUR		5	/* seconds */

/* The tables, in the order of the JSON and CSV forms. */
enum { T_INPUT, T_VERDICT, T_REASON, T_LIST, T_DAY, T_VIOL, T_HONOUR,
	T_FEEDBACK, NTAB };

/* Inputs. */
enum { IN_KIND, IN_FILE, IN_LINES, IN_RECORDS, IN_NCOL };
/* Decisions by verdict. */
enum { VE_VERDICT, VE_COUNT, VE_NCOL };
/* By reason, by list and by day: the key, a count per verdict, the total. */
enum { CT_KEY, CT_ALLOW, CT_DENY, CT_TEMPFAIL, CT_OTHER, CT_TOTAL, CT_NCOL };
#define CT_NV	(CT_TOTAL - CT_ALLOW)	/* the verdict columns */
/* Violations. */
enum { VI_KIND, VI_TIME, VI_QID, VI_RCPT, VI_LIST, VI_VERDICT, VI_REASON,
	VI_OUTCOME, VI_MSGID, VI_RECIPIENTS, VI_BASIS, VI_WHERE, VI_DECISION,
	VI_NCOL };
/* Time to honour unsubscribes. */
enum { HO_RCPT, HO_LIST, HO_UNSUBSCRIBED, HO_SOURCE, HO_LAST, HO_QID,
	HO_LAG, HO_BDAYS, HO_OVER2, HO_OVER10, HO_EVIDENCE, HO_NCOL };

/* Bounces and complaints per list and day (consentctl feedback's lines). */
enum { FB_LIST, FB_DAY, FB_DELIVERED, FB_HARD, FB_SOFT, FB_POLICY,
	FB_COMPLAINTS, FB_BOUNCE_RATE, FB_COMPLAINT_RATE, FB_OVER, FB_NCOL };
#define FB_COMPLAINT_LIMIT_PPM	3000	/* Gmail and Yahoo: under 0.3% */

#define TAB_NCOL_MAX	VI_NCOL		/* the widest table */

struct col {
	const char *name;	/* JSON key, CSV header */
	const char *title;	/* text and HTML header */
	int	type;
	int	brief;		/* shown in the text table */
};

struct cell {
	const char *s;		/* C_STR; NULL is null */
	size_t	n;
	int64_t	v;
	int	null;
};

struct tab {
	const char *name, *title;
	const struct col *cols;
	size_t	ncol, nrow, cap;
	struct cell *cells;	/* nrow rows of ncol cells */
};

/* One summary figure. */
struct kv {
	const char *name, *title;
	int	type;		/* C_INT, C_BOOL, C_TIMEMS, C_TIME */
	int64_t	v;
	int	null;
};

#define NKV	28

struct out {
	struct tab t[NTAB];
	struct kv kv[NKV];
	size_t	nkv;
	int64_t	generated;
	uint64_t violations, late;
	uint64_t complaint_over;	/* list-days at 0.3% complaints or more */
};

/*
 * report_tab_build - the report's tables and figures from the judged
 * model into *o (zeroed first).  Strings are views into the model, which
 * must outlive *o; the rows are o's (report_tab_free).  0, or -1 with the
 * model's err.
 */
int	report_tab_build(struct rep *R, struct out *o);

/* report_tab_free - the tables' rows; NULL is a no-op. */
void	report_tab_free(struct out *o);

/*
 * report_tab_text - a cell as the text and HTML forms show it: numbers
 * and times formatted into buf (len octets), strings as they are (the
 * writer encodes them), "-" for null and empty.
 */
struct util_str report_tab_text(const struct col *col, const struct cell *c,
	    char *buf, size_t len);

/* report_tab_kv_text - a summary figure as the text forms show it, into buf. */
void	report_tab_kv_text(const struct kv *kv, char *buf, size_t len);

/*
 * The writers, which see only these tables: report_write_text (the
 * default), report_write_json and report_write_csv to fp
 * (report_write.c); report_html_file, the page written to path all or
 * nothing, 0 or -1 with err (report_html.c).
 */
void	report_write_text(FILE *fp, const struct out *o);
void	report_write_json(FILE *fp, const struct out *o);
void	report_write_csv(FILE *fp, const struct out *o);
int	report_html_file(const char *path, const struct out *o, char *err,
	    size_t errlen);

#endif
