/*
 * ctl_audit.c - consentctl audit: verify the chain of an audit log (or a
 * rotated series), find one person's decisions, and the report (in
 * report.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/audit.h"
#include "ctl/ctl.h"
#include "util/util.h"

static int
audit_usage(struct ctl *c)
{
	ctl_err(c, "usage: consentctl audit verify FILE...\n"
	    "       consentctl audit find ADDRESS [--audit FILE]...\n"
	    "       consentctl audit report --audit FILE... [--maillog FILE...] "
	    "[--json | --csv | --html FILE]");
	return CTL_ERR;
}

/* What verify says about the gaps of one file. */
struct verify_gaps {
	const char *path;
	unsigned long n;
};

/* verify_gap - one line saying where a gap is and what it lacks. */
static void
verify_gap(void *arg, const struct audit_gap *g)
{
	struct verify_gaps *v = arg;
	const char *sep = " ";

	v->n++;
	printf("%s: line %lu (offset %llu): gap:", v->path, g->line, g->offset);
	if (g->lost > 0) {
		printf("%s%lu decision line%s not written, %s to %s (%s)", sep,
		    g->lost, g->lost == 1 ? "" : "s", g->since, g->until,
		    g->error);
		sep = "; ";
	}
	if (g->crash) {
		printf("%sthe log ended in a torn line when it was opened (a "
		    "writer stopped mid-line): decisions may be missing", sep);
		sep = "; ";
	}
	if (g->removed > 0) {
		printf("%s%llu torn byte%s at offset %llu cut off", sep,
		    g->removed, g->removed == 1 ? "" : "s", g->at);
		sep = "; ";
	}
	if (g->kept > 0) {
		if (g->torn_first == g->torn_last)
			printf("%storn line %lu", sep, g->torn_first);
		else
			printf("%storn lines %lu-%lu", sep, g->torn_first,
			    g->torn_last);
		printf(" (%llu bytes at offset %llu) kept, as the file could not "
		    "be cut", g->kept, g->at);
		sep = "; ";
	}
	if (sep[0] == ' ')
		printf(" nothing named");
	printf("\n");
}

/* verify: files oldest first; the chain runs across them. */
static int
audit_verify_cmd(struct ctl *c, int argc, char **argv)
{
	char chain[AUDIT_HASH_HEX], err[512];
	unsigned long n, bad, total = 0, gaps = 0;
	int have = 0;

	if (argc < 1)
		return audit_usage(c);
	for (int i = 0; i < argc; i++) {
		struct verify_gaps v = { argv[i], 0 };
		FILE *fp = fopen(argv[i], "r");

		if (fp == NULL) {
			ctl_err(c, "audit verify: %s: %s", argv[i], strerror(errno));
			return CTL_ERR;
		}
		if (audit_verify(fp, chain, &have, &n, &bad, verify_gap, &v, err,
		    sizeof(err)) == -1) {
			fclose(fp);
			printf("%s: BROKEN at %s\n", argv[i], err);
			return CTL_NO;
		}
		fclose(fp);
		total += n;
		gaps += v.n;
		if (v.n > 0)
			printf("%s: %lu lines, chain intact, %lu gap%s named above\n",
			    argv[i], n, v.n, v.n == 1 ? "" : "s");
		else
			printf("%s: %lu lines, chain intact\n", argv[i], n);
	}
	printf("verified %lu lines in %d file%s", total, argc, argc == 1 ? "" :
	    "s");
	if (gaps > 0)
		printf(" with %lu gap%s", gaps, gaps == 1 ? "" : "s");
	printf("; chain head %s\n", have ? chain : "(empty)");
	return CTL_OK;
}

/* find: every line about one person, by the keyed pseudonym. */
static int
audit_find_cmd(struct ctl *c, int argc, char **argv)
{
	unsigned char key[AUDIT_KEY_BYTES];
	char pseudo[AUDIT_PSEUDO_MAX], needle[AUDIT_PSEUDO_MAX + 16], err[512];
	char plain[ADDR_MAX + 16];
	const char *files[64];
	int nfiles = 0, found = 0;
	struct addr a;

	if (argc < 1)
		return audit_usage(c);
	if (ctl_addr(c, argv[0], &a) == -1)
		return CTL_ERR;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--audit") == 0 && i + 1 < argc &&
		    nfiles < 64)
			files[nfiles++] = argv[++i];
		else
			return audit_usage(c);
	}
	if (nfiles == 0) {
		if (c->cf.audit_file[0] == '\0') {
			ctl_err(c, "audit find: no --audit FILE and no audit.file "
			    "in the configuration");
			return CTL_ERR;
		}
		files[nfiles++] = c->cf.audit_file;
	}
	snprintf(plain, sizeof(plain), "\"rcpt\":\"%s\"", a.key);
	needle[0] = '\0';
	if (c->cf.audit_pseudonymize && c->cf.audit_key_file[0]) {
		if (audit_key_load(c->cf.audit_key_file, key, err,
		    sizeof(err)) == -1) {
			ctl_err(c, "audit find: %s", err);
			return CTL_ERR;
		}
		audit_pseudonym(key, a.key, pseudo);
		sodium_memzero(key, sizeof(key));
		snprintf(needle, sizeof(needle), "\"rcpt\":\"%s\"", pseudo);
	}
	for (int i = 0; i < nfiles; i++) {
		FILE *fp = fopen(files[i], "r");
		char *line = NULL;
		size_t cap = 0;

		if (fp == NULL) {
			ctl_err(c, "audit find: %s: %s", files[i], strerror(errno));
			return CTL_ERR;
		}
		while (getline(&line, &cap, fp) != -1) {
			/* Matches written with the key, or plain ones. */
			if ((needle[0] && strstr(line, needle) != NULL) ||
			    strstr(line, plain) != NULL) {
				fputs(line, stdout);
				found++;
			}
		}
		free(line);
		fclose(fp);
	}
	fprintf(stderr, "%d decision%s about %s\n", found, found == 1 ? "" : "s",
	    a.key);
	return found ? CTL_OK : CTL_NO;
}

int
ctl_audit(struct ctl *c, int argc, char **argv)
{
	if (argc < 2)
		return audit_usage(c);
	if (strcmp(argv[1], "verify") == 0)
		return audit_verify_cmd(c, argc - 2, argv + 2);
	if (strcmp(argv[1], "find") == 0)
		return audit_find_cmd(c, argc - 2, argv + 2);
	if (strcmp(argv[1], "report") == 0)
		return ctl_audit_report(c, argc - 1, argv + 1);
	ctl_err(c, "audit: unknown subcommand \"%s\"", argv[1]);
	return audit_usage(c);
}
