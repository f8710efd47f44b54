/*
 * mta.h - what the MTA does with the addresses we hand back to it.
 *
 * A milter cannot see whether smfi_delrcpt() removed anything: Postfix
 * answers success when nothing matched.  So a removal is only ever asked
 * for in a form the MTA is sure to match, and a recipient with no such
 * form is refused instead.  Pure: no libmilter, no I/O.
 */
#ifndef MTA_H
#define MTA_H

#include <stddef.h>

/* Octets of the longest argument mta_delrcpt_arg() writes, NUL included. */
#define MTA_DELRCPT_MAX	1030

/*
 * mta_delrcpt_arg - the smfi_delrcpt() argument that Postfix's cleanup is
 * sure to match for the recipient a client gave as raw (the RCPT argument
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

#endif
