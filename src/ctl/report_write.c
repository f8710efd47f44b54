/*
 * report_write.c - the audit report's text, JSON and CSV forms, from its
 * tables (report_tab.h).  Every user string goes through the one encoder
 * of its format (util/enc.h); the shapes are documented in consentctl(8)
 * and kept stable.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl/report_tab.h"
#include "util/enc.h"
#include "util/time.h"

/* text_table - t as aligned columns (the brief ones), or ": none". */
static void
text_table(FILE *fp, const struct tab *t)
{
	size_t width[16], last = 0;
	char buf[64];

	fprintf(fp, "\n%s", t->title);
	if (t->nrow == 0) {
		fprintf(fp, ": none\n");
		return;
	}
	fputc('\n', fp);
	for (size_t k = 0; k < t->ncol && k < 16; k++)
		width[k] = strlen(t->cols[k].title);
	for (size_t i = 0; i < t->nrow; i++)
		for (size_t k = 0; k < t->ncol && k < 16; k++) {
			struct util_str s = report_tab_text(&t->cols[k],
			    &t->cells[i * t->ncol + k], buf, sizeof(buf));
			size_t w = enc_text_put(NULL, s.p, s.n);

			if (w > width[k])
				width[k] = w;
		}
	for (size_t k = 0; k < t->ncol && k < 16; k++)
		if (t->cols[k].brief)
			last = k;
	fputs(" ", fp);
	for (size_t k = 0; k <= last; k++) {
		if (!t->cols[k].brief)
			continue;
		fprintf(fp, " %-*s", k == last ? 0 : (int)width[k],
		    t->cols[k].title);
	}
	fputc('\n', fp);
	for (size_t i = 0; i < t->nrow; i++) {
		fputs(" ", fp);
		for (size_t k = 0; k <= last; k++) {
			const struct col *col = &t->cols[k];
			struct util_str s;
			size_t w;

			if (!col->brief)
				continue;
			s = report_tab_text(col, &t->cells[i * t->ncol + k], buf,
			    sizeof(buf));
			fputc(' ', fp);
			if (col->type == C_INT) {
				fprintf(fp, "%*.*s", (int)width[k], (int)s.n,
				    s.p);
				continue;
			}
			w = enc_text_put(fp, s.p, s.n);
			for (; k < last && w < width[k]; w++)
				fputc(' ', fp);
		}
		fputc('\n', fp);
	}
}


/* write_text - the default report: summary, tables, a legend, the result. */
void
report_write_text(FILE *fp, const struct out *o)
{
	char buf[64];

	fprintf(fp, "consent audit report, %s\n", time_format(o->generated, buf,
	    sizeof(buf)));
	text_table(fp, &o->t[T_INPUT]);
	fprintf(fp, "\nSummary\n");
	for (size_t i = 0; i < o->nkv; i++) {
		report_tab_kv_text(&o->kv[i], buf, sizeof(buf));
		fprintf(fp, "  %-60s %s\n", o->kv[i].title, buf);
	}
	for (int i = T_VERDICT; i < NTAB; i++)
		text_table(fp, &o->t[i]);
	if (o->t[T_VIOL].nrow > 0)
		fprintf(fp, "\n  delivered-to-denied: bulk mail delivered to a "
		    "recipient whose decision was deny\n"
		    "  no-decision-recipient: delivered to a recipient the "
		    "filter never saw (always_bcc, a BCC map,\n"
		    "    alias expansion without orig_to)\n"
		    "  no-decision-message: delivered from a queue id without "
		    "any audit line (the filter was skipped)\n");
	fprintf(fp, "\nresult: %" PRIu64 " violation%s, %" PRIu64
	    " unsubscribe%s honoured late\n", o->violations,
	    o->violations == 1 ? "" : "s", o->late, o->late == 1 ? "" : "s");
}


/*
 * scalar - a cell that is not a string: a number, a boolean, or a time
 * between the quotes q ("\"" in JSON, "" in CSV).
 */
static void
scalar(FILE *fp, const struct col *col, const struct cell *c, const char *q)
{
	char buf[64];

	switch (col->type) {
	case C_INT:
	case C_DUR:
		fprintf(fp, "%" PRId64, c->v);
		break;
	case C_BOOL:
		fputs(c->v ? "true" : "false", fp);
		break;
	case C_TIME:
		fprintf(fp, "%s%s%s", q, time_format(c->v, buf, sizeof(buf)), q);
		break;
	case C_TIMEMS:
		fprintf(fp, "%s%s%s", q, time_format_ms(c->v, buf,
		    sizeof(buf)), q);
		break;
	}
}

/* json_cell - a cell as a JSON value. */
static void
json_cell(FILE *fp, const struct col *col, const struct cell *c)
{
	if (c->null)
		fputs("null", fp);
	else if (col->type == C_STR)
		enc_json_put(fp, c->s, c->n);
	else
		scalar(fp, col, c, "\"");
}

/*
 * The JSON document, one object:
 *
 *   { "report": "consent-milter audit report", "version": 1,
 *     "generated": "2026-11-27T08:00:00Z",
 *     "summary": { "decisions": N, "messages": N, "noqueue": N,
 *        "torn_lines": N, "audit_first": TIME|null, "audit_last": TIME|null,
 *        "maillog": BOOL, "maillog_first": TIME|null, "maillog_last": ...,
 *        "sent": N, "bounced": N, "deferred": N, "sent_matched": N,
 *        "notices": N, "before_audit": N, "held": N, "unsubscribes": N,
 *        "late_2_days": N, "late_10_business_days": N,
 *        "delivered_to_denied": N, "no_decision_recipient": N,
 *        "no_decision_message": N, "violations": N, "compliant": BOOL,
 *        "feedback_lines": N, "complaints": N, "complaint_days_over": N },
 *     "inputs": [ {"kind": "audit"|"maillog", "file", "lines", "records"} ],
 *     "by_verdict": [ {"verdict", "count"} ],
 *     "by_reason": [ {"reason", "allow", "deny", "tempfail", "other",
 *        "total"} ],
 *     "by_list": [ {"list", ...the same counts} ],		("" is no list)
 *     "by_day": [ {"day": "2026-11-26", ...the same counts} ],
 *     "violations": [ {"kind": "delivered-to-denied" | "no-decision-recipient"
 *        | "no-decision-message", "time", "qid", "rcpt", "list", "verdict",
 *        "reason", "outcome", "msgid", "recipients", "basis": "maillog" |
 *        "audit", "where": "FILE:LINE" (the delivery, or the decision when
 *        judged by the audit alone), "decision": "FILE:LINE" | null} ],
 *     "time_to_honour": [ {"rcpt", "list" ("*": every list), "unsubscribed",
 *        "source", "last_delivery": TIME|null, "qid": ...|null,
 *        "lag_seconds", "business_days", "over_2_days",
 *        "over_10_business_days", "evidence": "FILE:LINE"} ],
 *     "feedback": [ {"list", "day", "delivered", "hard_bounces",
 *        "soft_bounces", "policy_refusals", "complaints" (recipients, once
 *        each), "bounce_rate": "0.250%"|null, "complaint_rate": ...|null,
 *        "over_complaint_limit": BOOL (0.3%)} ] }
 *
 * Times are RFC 3339 UTC strings; "rcpt" is the audit's pseudonym.
 */
void
report_write_json(FILE *fp, const struct out *o)
{
	static const int order[] = { T_INPUT, T_VERDICT, T_REASON, T_LIST,
	    T_DAY, T_VIOL, T_HONOUR, T_FEEDBACK };
	char buf[64];

	fprintf(fp, "{\"report\":\"consent-milter audit report\",\"version\":1,"
	    "\"generated\":\"%s\",\n\"summary\":{", time_format(o->generated, buf,
	    sizeof(buf)));
	for (size_t i = 0; i < o->nkv; i++) {
		const struct kv *kv = &o->kv[i];

		fprintf(fp, "%s\"%s\":", i ? "," : "", kv->name);
		if (kv->null)
			fputs("null", fp);
		else if (kv->type == C_INT)
			fprintf(fp, "%" PRId64, kv->v);
		else if (kv->type == C_BOOL)
			fputs(kv->v ? "true" : "false", fp);
		else {
			report_tab_kv_text(kv, buf, sizeof(buf));
			fprintf(fp, "\"%s\"", buf);
		}
	}
	fputs("}", fp);
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		const struct tab *t = &o->t[order[k]];

		fprintf(fp, ",\n\"%s\":[", t->name);
		for (size_t i = 0; i < t->nrow; i++) {
			fputs(i ? ",\n {" : "\n {", fp);
			for (size_t c = 0; c < t->ncol; c++) {
				fprintf(fp, "%s\"%s\":", c ? "," : "",
				    t->cols[c].name);
				json_cell(fp, &t->cols[c],
				    &t->cells[i * t->ncol + c]);
			}
			fputc('}', fp);
		}
		fputc(']', fp);
	}
	fputs("}\n", fp);
}

/*
 * CSV (RFC 4180): one section per table, each with its own header row;
 * every row starts with its section name; sections are separated by an
 * empty line.  Text cells go through enc_csv_put: formulas guarded,
 * controls and broken UTF-8 escaped.
 */

/* csv_cell - a cell as a CSV field; null is empty. */
static void
csv_cell(FILE *fp, const struct col *col, const struct cell *c)
{
	if (c->null)
		return;
	if (col->type == C_STR)
		enc_csv_put(fp, c->s, c->n, ENC_CSV_REPORT);
	else
		scalar(fp, col, c, "");
}

void
report_write_csv(FILE *fp, const struct out *o)
{
	char buf[64];

	fputs("section,key,value\r\n", fp);
	fprintf(fp, "summary,generated,%s\r\n", time_format(o->generated, buf,
	    sizeof(buf)));
	for (size_t i = 0; i < o->nkv; i++) {
		const struct kv *kv = &o->kv[i];

		if (kv->null)
			fprintf(fp, "summary,%s,\r\n", kv->name);
		else if (kv->type == C_BOOL)
			fprintf(fp, "summary,%s,%s\r\n", kv->name,
			    kv->v ? "true" : "false");
		else {
			report_tab_kv_text(kv, buf, sizeof(buf));
			fprintf(fp, "summary,%s,%s\r\n", kv->name, buf);
		}
	}
	for (int k = 0; k < NTAB; k++) {
		const struct tab *t = &o->t[k];

		fputs("\r\nsection", fp);
		for (size_t c = 0; c < t->ncol; c++)
			fprintf(fp, ",%s", t->cols[c].name);
		fputs("\r\n", fp);
		for (size_t i = 0; i < t->nrow; i++) {
			fputs(t->name, fp);
			for (size_t c = 0; c < t->ncol; c++) {
				fputc(',', fp);
				csv_cell(fp, &t->cols[c],
				    &t->cells[i * t->ncol + c]);
			}
			fputs("\r\n", fp);
		}
	}
}
