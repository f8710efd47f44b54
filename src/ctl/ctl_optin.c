/*
 * ctl_optin.c - consentctl optin: a signup that asks for double opt-in.
 * It records the address as pending with the signup's evidence and
 * prints the confirmation link: optin.url with a token of the confirm
 * purpose, which consent-unsubd turns into "confirmed" when the person
 * clicks.  A signup form or the sender's application calls it.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/keyring.h"
#include "core/listunsub.h"
#include "core/token.h"
#include "ctl/ctl.h"
#include "util/enc.h"
#include "util/time.h"

/* optin_link - the confirmation link for key on list, into url. */
static int
optin_link(struct ctl *c, const char *key, const char *list, int64_t now,
    char *url, size_t len)
{
	struct token_ring ring;
	char tok[TOKEN_MAX], err[512];
	int n;

	if (keyring_load(&c->cf, &ring, err, sizeof(err)) == -1) {
		ctl_err(c, "optin: %s", err);
		return -1;
	}
	n = token_make_for(&ring, TOKEN_CONFIRM, key, list, now, tok,
	    sizeof(tok));
	token_wipe(&ring);
	if (n < 0 || listunsub_expand(c->cf.optin_url, tok, list, url, len) < 0) {
		sodium_memzero(tok, sizeof(tok));
		ctl_err(c, "optin: cannot make a link for %s on list %s", key,
		    list);
		return -1;
	}
	sodium_memzero(tok, sizeof(tok));
	return 0;
}

int
ctl_optin(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	char key[ADDR_MAX + 1], url[CONFIG_URL_MAX + TOKEN_MAX], tb[32];
	int status, rc;

	if (ctl_options(c, argc, argv, O_LIST | O_SOURCE | O_IP | O_NOTE |
	    O_AT | O_JSON | O_AFTER_ERASURE, 1, 1, &o) == -1)
		return CTL_ERR;
	if (c->cf.optin_url[0] == '\0' || c->cf.lu_nkeys == 0) {
		ctl_err(c, "optin: needs optin.url and unsubscribe.keys in the "
		    "configuration (the link is signed with those keys)");
		return CTL_ERR;
	}
	/* What the store says goes to stderr: stdout is the link alone. */
	if ((rc = ctl_record_pending(c, &o, stderr, key, &status)) != CTL_OK)
		return rc;
	if (status == CS_CONFIRMED) {
		fprintf(stderr, "%s is confirmed on list %s already: no link "
		    "needed\n", key, o.list);
		return CTL_OK;
	}
	if (status != CS_PENDING) {
		ctl_err(c, "optin: %s is %s on list %s, by a newer change: no "
		    "link made", key, record_status_name(status), o.list);
		return CTL_NO;
	}
	if (optin_link(c, key, o.list, c->now, url, sizeof(url)) == -1)
		return CTL_ERR;
	if (o.json) {
		printf("{\"address\":");
		enc_json_puts(stdout, key);
		printf(",\"list\":");
		enc_json_puts(stdout, o.list);
		printf(",\"status\":\"pending\",\"url\":");
		enc_json_puts(stdout, url);
		printf(",\"expires\":\"%s\"}\n", time_format(c->now +
		    c->cf.optin_lifetime, tb, sizeof(tb)));
	} else
		printf("%s\n", url);
	sodium_memzero(url, sizeof(url));
	return CTL_OK;
}
