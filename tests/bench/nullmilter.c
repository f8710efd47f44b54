/*
 * nullmilter.c - the benchmark's baseline: a libmilter filter that does
 * nothing, negotiated the same way as consent-milter at its cheapest.
 *
 * It asks the MTA to skip every stage it can (connect, HELO, MAIL, RCPT,
 * DATA, headers, end of headers, body, unknown commands) and to expect no
 * reply for any stage that is still sent, requests no modification
 * actions, and accepts each message at end of message.  What remains is
 * the cost of libmilter itself: one connection and thread per SMTP
 * session, option negotiation, and the EOM round trip.
 *
 * With -s it is negotiated exactly as consent-milter is instead: MAIL
 * (no reply), RCPT (a reply each), headers (no reply) and end of message,
 * the same actions and the same macros; it still decides nothing.  That is
 * the baseline for consent-milter's own CPU per message.
 *
 * Usage: nullmilter [-s] -p SOCKETSPEC   (unix:/path, local:/path or
 *                                         inet:PORT@127.0.0.1)
 * A stale unix socket is removed at start.  The socket is created with
 * the caller's umask: run it under umask 0 (or in a directory the MTA
 * user can reach) so that smtpd, running as postfix, can connect.
 *
 * Build: cc -O2 -o build/nullmilter tests/bench/nullmilter.c -lmilter -lpthread
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

/* Stages the MTA should not send at all. */
#define NULL_SKIP	(SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | \
			 SMFIP_NORCPT | SMFIP_NOHDRS | SMFIP_NOEOH | \
			 SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA)
/* Stages for which the MTA should not wait for a reply. */
#define NULL_NOREPLY	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | \
			 SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN | \
			 SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NR_HDR)

/* -s: the stages and replies consent-milter keeps (see src/milter.c). */
#define SAME_OFF	(SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOBODY | \
			 SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA | \
			 SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | \
			 SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | \
			 SMFIP_NR_DATA | SMFIP_NR_UNKN)
#define SAME_ACT	(SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | \
			 SMFIF_DELRCPT | SMFIF_QUARANTINE)

static bool same;

static sfsistat
same_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	*pf0 = f0 & (SAME_ACT | SMFIF_SETSYMLIST);
	*pf1 = f1 & SAME_OFF;
	*pf2 = 0;
	*pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "{auth_authen} {daemon_name} "
		    "{client_addr} {client_port} {client_name}");
		smfi_setsymlist(ctx, SMFIM_EOM, "{i}");
	}
	return SMFIS_CONTINUE;
}

static sfsistat
same_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_NOREPLY;
}

static sfsistat
same_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat
same_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return SMFIS_NOREPLY;
}

static sfsistat
null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx;
	(void)f0;
	(void)f2;
	(void)f3;
	*pf0 = 0;			/* no header/recipient/body changes */
	*pf1 = (NULL_SKIP | NULL_NOREPLY) & f1;	/* only what the MTA offers */
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
null_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_ACCEPT;
}

static struct smfiDesc null_desc = {
	.xxfi_name = "nullmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_eom = null_eom,
	.xxfi_negotiate = null_negotiate,
};

static struct smfiDesc same_desc = {
	.xxfi_name = "nullmilter-same",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SAME_ACT | SMFIF_SETSYMLIST,
	.xxfi_envfrom = same_envfrom,
	.xxfi_envrcpt = same_envrcpt,
	.xxfi_header = same_header,
	.xxfi_eom = null_eom,
	.xxfi_negotiate = same_negotiate,
};

static void
usage(void)
{
	fprintf(stderr, "usage: nullmilter [-s] -p SOCKETSPEC\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	const char *conn = NULL;
	int c;

	while ((c = getopt(argc, argv, "p:s")) != -1) {
		switch (c) {
		case 'p':
			conn = optarg;
			break;
		case 's':
			same = true;
			break;
		default:
			usage();
		}
	}
	if (conn == NULL || optind != argc)
		usage();

	if (smfi_setconn((char *)(uintptr_t)conn) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: bad socket spec %s\n", conn);
		return 1;
	}
	if (smfi_register(same ? same_desc : null_desc) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: smfi_register failed\n");
		return 1;
	}
	if (smfi_opensocket(true) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: cannot open %s\n", conn);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
