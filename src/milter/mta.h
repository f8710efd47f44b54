/*
 * mta.h - what the MTA does with the addresses we hand back to it.
 *
 * A milter cannot see whether smfi_delrcpt() removed anything: Postfix and
 * Sendmail both answer success when nothing matched.  So a removal is only
 * ever asked for in a form the MTA is sure to match, by that MTA's own
 * rule, and a recipient with no such form is refused instead.  The MTA is
 * told apart by its {v} macro; for one we do not know, no form is sure.
 * Pure: no libmilter, no I/O.
 */
#ifndef MTA_H
#define MTA_H

#include <stddef.h>

/* Octets of the longest argument mta_delrcpt_arg() writes, NUL included. */
#define MTA_DELRCPT_MAX	1030

/* The MTAs whose removal rules we know. */
#define MTA_UNKNOWN	0
#define MTA_POSTFIX	1
#define MTA_SENDMAIL	2

/*
 * mta_detect - the MTA that names itself v in its {v} macro: Postfix says
 * "Postfix 3.7.11" (milter_macro_v), Sendmail its bare version number
 * "8.17.1.9".  MTA_UNKNOWN for anything else, NULL included.
 */
int	mta_detect(const char *v);

/* mta_name - "Postfix", "Sendmail" or "an unknown MTA" (static). */
const char *mta_name(int mta);

/*
 * mta_delrcpt_arg - the mailbox the RCPT argument raw names, "<local@domain>"
 * (what the filter decides on, with any MTA), which is also the
 * smfi_delrcpt() argument that Postfix's cleanup is sure to match for the recipient a client gave as raw (the RCPT argument
 * verbatim).  Postfix records what smtpd(8) made of it (<> stripped, a
 * source route cut off up to the first ':', then parsed and unquoted) and
 * compares that, octet for octet, with what cleanup makes of our
 * argument.  Returns 1 with the argument in out, or 0 when raw is outside
 * the RFC 5321 Mailbox grammar (after the route), where the two parses
 * could differ: such a recipient cannot be removed with certainty.
 */
int	mta_delrcpt_arg(const char *raw, char *out, size_t outlen);

/*
 * mta_rcpt_witness_ok - check del (from mta_delrcpt_arg) against
 * rcpt_addr, Postfix's {rcpt_addr} for the same RCPT: what smtpd
 * recorded, resolved (a root dot dropped, a bare local part qualified),
 * casefolded and quoted again.  smtpd records something else than it
 * parsed for its own address-verification sender (any case of it, or
 * with a time stamp), and may for forms we do not know: then a removal
 * by del would silently miss.  Returns 1 if both name the same address;
 * 2 if they differ in ASCII case only (smtpd may have recorded either
 * spelling: remove by both); 0 otherwise (del is not sure).
 */
int	mta_rcpt_witness_ok(const char *del, const char *rcpt_addr);

/*
 * mta_sendmail_arg - 1 if Sendmail's milter delrcpt is sure to match raw,
 * the RCPT argument verbatim, handed back as it is: raw is what Sendmail
 * recorded as the recipient's printable address, and it parses the
 * argument as a comma-separated list.  0 when a comma there could split
 * it, or when an octet is outside printable ASCII (see mta.c).
 */
int	mta_sendmail_arg(const char *raw);

/*
 * mta_sendmail_witness_ok - 1 if rcpt_addr, Sendmail's {rcpt_addr} for the
 * RCPT whose mailbox is mbox (from mta_delrcpt_arg), names that mailbox:
 * {rcpt_addr} is the user part of what Sendmail's rulesets resolved the
 * recipient to, which is what its mailer delivers to.  A route it kept is
 * ignored, the domain compared without ASCII case or a root dot; a bare
 * user (a local mailer) is compared with mbox's local part, without ASCII
 * case.  0 otherwise: the rulesets made of the recipient someone else
 * than the mailbox decided on.
 */
int	mta_sendmail_witness_ok(const char *mbox, const char *rcpt_addr);

#endif
