/*
 * enc.h - the output encoders: each format written once, with one rule,
 * for every writer (the audit lines, consentctl's JSON and CSV, the audit
 * report's text, JSON, CSV and HTML, the unsubscribe endpoint's pages).
 * Generic: no knowledge of mail or consent.
 *
 * The rule, for every format: an octet of well-formed UTF-8 that is not a
 * control character is written as itself, quoted as the format needs.
 * What cannot be, is written as
 *
 *                       control character      octet outside UTF-8
 *   JSON                \n \r \t, else \u00XX   \ufffd
 *   HTML                TAB as itself, else U+FFFD as &#xfffd;
 *   CSV (report form)   \xHH (CR, LF, TAB kept)  \xHH
 *   text                \xHH, and '\' as \x5c    \xHH
 *
 * where a control character is C0 (0x00-0x1f) or DEL (0x7f), and an octet
 * outside UTF-8 is one that util_utf8_seq() says starts no well-formed
 * sequence (each such octet on its own: the rest of the string is judged
 * as it is).  JSON and HTML must stay Unicode, so U+FFFD stands for what
 * is not; text and CSV are read by people, so the octet's value is shown.
 * JSON and HTML are written with lowercase hex.  Plain CSV (for a file to
 * read back) writes every octet as it is; every CSV cell carries the
 * formula guard (enc_csv_put).
 */
#ifndef UTIL_ENC_H
#define UTIL_ENC_H

#include <stddef.h>
#include <stdio.h>

/*
 * enc_json - s (n octets) as a JSON string, quotes included, into buf
 * (len octets), NUL-terminated.  Returns the length written, without the
 * NUL, or (size_t)-1 if it does not fit (buf is then "").
 */
size_t	enc_json(const char *s, size_t n, char *buf, size_t len);

/* enc_json_put - s (n octets) to fp as a JSON string; 0, or -1 if fp has an error. */
int	enc_json_put(FILE *fp, const char *s, size_t n);

/* enc_json_puts - enc_json_put() for a C string. */
int	enc_json_puts(FILE *fp, const char *s);

/*
 * enc_html - s (n octets) as HTML text or an attribute value (quotes
 * escaped: '&', '<', '>', '"' and '\'' as references), into buf as
 * enc_json() does; (size_t)-1 if it does not fit.
 */
size_t	enc_html(const char *s, size_t n, char *buf, size_t len);

/* enc_html_put - s (n octets) to fp as enc_html() writes it; 0 / -1. */
int	enc_html_put(FILE *fp, const char *s, size_t n);

#define ENC_CSV_REPORT	0x1	/* enc_csv_put(): controls, non-UTF-8 as \xHH */

/*
 * enc_csv_put - s (n octets, NUL allowed) to fp as one CSV field: between
 * double quotes, each doubled, when it holds a comma, a quote, CR or LF
 * (RFC 4180).  A cell a spreadsheet would run as a formula
 * (enc_csv_formula: OWASP CSV injection) is quoted with a '\'' in front,
 * which csv_unguard() takes off again.  With ENC_CSV_REPORT, controls
 * other than CR, LF and TAB, and octets outside UTF-8, are written as
 * \xHH: for reports, not for a file to read back.  0 / -1.
 */
int	enc_csv_put(FILE *fp, const char *s, size_t n, int flags);

/*
 * enc_csv_formula - 1 if s (n octets) is zero or more '\'' and then '=',
 * '+', '-', '@', TAB or CR: the cells enc_csv_put() guards.  The quotes
 * count, else a cell "'=x" would be written as it is and read back as
 * "=x".
 */
int	enc_csv_formula(const char *s, size_t n);

/*
 * enc_text_put - s (n octets) to fp as one line of a text report (see
 * the rule above); fp NULL writes nothing.  Returns its width in
 * columns: characters, not octets.
 */
size_t	enc_text_put(FILE *fp, const char *s, size_t n);

#endif
