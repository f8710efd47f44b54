/*
 * ctl_audit.c - consentctl audit: verify the chain of an audit log (or a
 * rotated series), find one person's decisions, and the command line of
 * the report (its run is report.c's).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/audit.h"
#include "ctl/ctl.h"
#include "ctl/report.h"
#include "util/util.h"

/* audit_usage - the usage of every audit subcommand; always CTL_ERR. */
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

/*
 * sub_argv - argv for ctl_options with the subcommand's name as argv[0]
 * ("audit find"), so that its messages and usage say which; NULL out of
 * memory, else the caller frees it.
 */
static char **
sub_argv(int argc, char **argv, const char *name)
{
	char **av = calloc((size_t)argc + 1, sizeof(*av));

	if (av == NULL)
		return NULL;
	memcpy(av, argv, (size_t)argc * sizeof(*av));
	av[0] = (char *)(uintptr_t)name;	/* getopt wants char *; never written */
	return av;
}

/* find_needles - the rcpt fields that name a: plain, and keyed; 0 / -1. */
static int
find_needles(struct ctl *c, const struct addr *a, char *plain, size_t plen,
    char *needle, size_t nlen)
{
	unsigned char key[AUDIT_KEY_BYTES];
	char pseudo[AUDIT_PSEUDO_MAX], err[512];

	snprintf(plain, plen, "\"rcpt\":\"%s\"", a->key);
	needle[0] = '\0';
	if (!c->cf.audit_pseudonymize || c->cf.audit_key_file[0] == '\0')
		return 0;
	if (audit_key_load(c->cf.audit_key_file, key, err, sizeof(err)) == -1) {
		ctl_err(c, "audit find: %s", err);
		return -1;
	}
	audit_pseudonym(key, a->key, pseudo);
	sodium_memzero(key, sizeof(key));
	snprintf(needle, nlen, "\"rcpt\":\"%s\"", pseudo);
	return 0;
}

/* find_in - print the lines of path about the person; their count, or -1. */
static int
find_in(struct ctl *c, const char *path, const char *plain,
    const char *needle)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (fp == NULL) {
		ctl_err(c, "audit find: %s: %s", path, strerror(errno));
		return -1;
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
	return found;
}

/*
 * find_evidence - the store's record of the person, every change with its
 * evidence (a double opt-in click shows as source double-opt-in with its
 * time and address), after a "# store" line.  1 if there is one, else 0;
 * a store that does not open is said on stderr.
 */
static int
find_evidence(struct ctl *c, const struct addr *a)
{
	struct subject s;
	struct store *st;
	char err[512];
	int rc;

	if (store_open(&st, c->storedir, STORE_RDONLY, c->cf.addr_flags, 0, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "audit find: no store evidence: %s\n", err);
		return 0;
	}
	subject_init(&s);
	rc = store_get(st, a->key, &s, err, sizeof(err));
	store_close(st);
	if (rc == 1) {
		printf("# store: the record of %s, with its evidence\n", a->key);
		ctl_print_subject_text(a->key, &s, c->now);
	} else if (rc == -1)
		fprintf(stderr, "audit find: %s\n", err);
	subject_clear(&s);
	return rc == 1;
}

/* find: every line about one person, by the keyed pseudonym. */
static int
audit_find_cmd(struct ctl *c, int argc, char **argv)
{
	char needle[AUDIT_PSEUDO_MAX + 16], plain[ADDR_MAX + 16];
	struct ctl_opts o;
	struct addr a;
	int found = 0, n, rc = CTL_ERR;

	if (ctl_options(c, argc, argv, O_AUDIT, 1, 1, &o) == -1)
		return CTL_ERR;
	if (ctl_addr(c, o.arg, &a) == -1)
		goto out;
	if (o.nfiles == 0) {
		if (c->cf.audit_file[0] == '\0') {
			ctl_err(c, "audit find: no --audit FILE and no audit.file "
			    "in the configuration");
			goto out;
		}
		o.files[o.nfiles++].path = c->cf.audit_file;
	}
	if (find_needles(c, &a, plain, sizeof(plain), needle,
	    sizeof(needle)) == -1)
		goto out;
	for (size_t i = 0; i < o.nfiles; i++) {
		if ((n = find_in(c, o.files[i].path, plain, needle)) == -1)
			goto out;
		found += n;
	}
	fprintf(stderr, "%d decision%s about %s\n", found, found == 1 ? "" : "s",
	    a.key);
	/* The evidence behind them: who consented, when, how, the clicks. */
	found += find_evidence(c, &a);
	rc = found ? CTL_OK : CTL_NO;
out:
	ctl_opts_free(&o);
	return rc;
}

/*
 * report: --audit and --maillog each take the files that follow them;
 * without --audit, the configured audit.file is read first.
 */
static int
audit_report_cmd(struct ctl *c, int argc, char **argv)
{
	struct report_input *in = NULL;
	struct ctl_opts o;
	size_t nin = 0, naudit = 0;
	int format, rc = CTL_ERR;

	if (ctl_options(c, argc, argv, O_AUDIT | O_MAILLOG | O_JSON | O_CSV |
	    O_HTML, 0, 0, &o) == -1)
		return CTL_ERR;
	if ((in = calloc(o.nfiles + 1, sizeof(*in))) == NULL) {
		ctl_err(c, "audit report: out of memory");
		goto out;
	}
	for (size_t i = 0; i < o.nfiles; i++)
		naudit += !o.files[i].maillog;
	if (naudit == 0) {
		if (c->cf.audit_file[0] == '\0') {
			ctl_err(c, "audit report: no --audit FILE and no "
			    "audit.file in the configuration");
			ctl_command_usage(argv[0]);
			goto out;
		}
		in[nin++].path = c->cf.audit_file;
	}
	for (size_t i = 0; i < o.nfiles; i++) {
		in[nin].path = o.files[i].path;
		in[nin++].maillog = o.files[i].maillog;
	}
	format = o.json ? REPORT_JSON : o.csv ? REPORT_CSV : o.html != NULL ?
	    REPORT_HTML : REPORT_TEXT;
	rc = report_run(c, in, nin, format, o.html);
out:
	free(in);
	ctl_opts_free(&o);
	return rc;
}

int
ctl_audit(struct ctl *c, int argc, char **argv)
{
	if (argc < 2)
		return audit_usage(c);
	if (strcmp(argv[1], "verify") == 0)
		return audit_verify_cmd(c, argc - 2, argv + 2);
	if (strcmp(argv[1], "find") == 0 || strcmp(argv[1], "report") == 0) {
		int find = argv[1][0] == 'f', rc;
		char **av = sub_argv(argc - 1, argv + 1, find ? "audit find" :
		    "audit report");

		if (av == NULL) {
			ctl_err(c, "audit: out of memory");
			return CTL_ERR;
		}
		rc = find ? audit_find_cmd(c, argc - 1, av) :
		    audit_report_cmd(c, argc - 1, av);
		free(av);
		return rc;
	}
	ctl_err(c, "audit: unknown subcommand \"%s\"", argv[1]);
	return audit_usage(c);
}
