/*
 * consentctl.c - the operator's tool for the consent store: global
 * options and configuration, then the command (ctl.c and ctl_*.c).
 */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "commands", no_argument, NULL, 'N' },	/* for completion */
		{ NULL, 0, NULL, 0 }
	};
	struct ctl c;
	const char *conffile = NULL;
	char err[1024];
	int ch;

	/*
	 * A large import frees and allocates LMDB's dirty pages by the
	 * thousand: without this, glibc gives the heap back to the kernel and
	 * takes it again each time (17,000 brk calls for a million rows).
	 */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
	memset(&c, 0, sizeof(c));
	c.prog = "consentctl";
	c.now = (int64_t)time(NULL);
	while ((ch = getopt_long(argc, argv, "+c:s:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'N':
			ctl_names(stdout);
			return CTL_OK;
		case 'c':
			conffile = optarg;
			break;
		case 's':
			c.storedir = optarg;
			break;
		case 'h':
			ctl_usage(stdout);
			return CTL_OK;
		case 'V':
			printf("consentctl %s\n", VERSION);
			return CTL_OK;
		default:
			ctl_usage(stderr);
			return CTL_ERR;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		ctl_usage(stderr);
		return CTL_ERR;
	}
	/* No -c: the system file if there is one, else the defaults. */
	if (conffile == NULL && access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		conffile = CONFIG_DEFAULT_PATH;
	if (conffile != NULL) {
		if (config_load(&c.cf, conffile, err, sizeof(err)) == -1) {
			ctl_err(&c, "%s", err);
			/* pipe(8) reads sysexits: defer rather than bounce. */
			return strcmp(argv[0], "intake") == 0 ? EX_TEMPFAIL :
			    CTL_ERR;
		}
	} else
		config_defaults(&c.cf);
	if (c.storedir == NULL)
		c.storedir = c.cf.store_path;

	return ctl_dispatch(&c, argc, argv);
}
