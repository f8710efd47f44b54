/*
 * fbclass.c - the class of a delivery failure, from a rule table (see
 * fbclass.h).  The built-in table below is the one documented in the
 * README and consentctl(8); keep them in step.
 */
#include <string.h>
#include <strings.h>

#include "core/fbclass.h"

#define X0_DIAG(code, text) \
	{ code, text, FBC_HARD, "generic code, the text says the mailbox does not exist", 0 }

/* First match wins: specific codes, then diagnostics, then classes. */
static const struct fbclass_rule builtin[] = {
	{ "5.1.1", "", FBC_HARD, "bad destination mailbox address", 0 },
	{ "5.1.2", "", FBC_HARD, "bad destination system address", 0 },
	{ "5.1.3", "", FBC_HARD, "bad destination mailbox address syntax", 0 },
	{ "5.1.6", "", FBC_HARD, "destination mailbox has moved, no forwarding address", 0 },
	{ "5.1.10", "", FBC_HARD, "recipient not found (RFC 7505 null MX; Microsoft 365)", 0 },
	{ "5.2.1", "", FBC_HARD, "mailbox disabled, not accepting messages", 0 },
	{ "5.1.7", "", FBC_POLICY, "bad sender's mailbox address syntax: ours", 0 },
	{ "5.1.8", "", FBC_POLICY, "bad sender's system address: ours", 0 },
	{ "5.2.2", "", FBC_SOFT, "mailbox full", 0 },
	{ "5.2.3", "", FBC_POLICY, "message length exceeds administrative limit: the message's", 0 },
	{ "5.3.4", "", FBC_POLICY, "message too big for system: the message's", 0 },
	X0_DIAG("5.0.0", "user unknown"),
	X0_DIAG("5.0.0", "unknown user"),
	X0_DIAG("5.0.0", "no such user"),
	X0_DIAG("5.0.0", "does not exist"),
	X0_DIAG("5.0.0", "mailbox not found"),
	X0_DIAG("5.5.0", "user unknown"),
	X0_DIAG("5.5.0", "mailbox unavailable"),
	X0_DIAG("5.5.0", "does not exist"),
	{ "5.6.*", "", FBC_POLICY, "media error: the message's content", 0 },
	{ "5.7.*", "", FBC_POLICY, "security or policy: reputation, authentication, content", 0 },
	{ "4.7.*", "", FBC_POLICY, "temporary policy refusal: rate limits, greylisting, reputation", 0 },
	{ "5.4.*", "", FBC_SOFT, "routing: may be transient", 0 },
	{ "5.*", "", FBC_SOFT, "other permanent failure: counted, never a suppression at once", 0 },
	{ "4.*", "", FBC_SOFT, "transient failure that the MTA gave up on", 0 },
	{ "2.*", "", FBC_IGNORE, "success", 0 },
};

static const char *const names[] = { "ignore", "hard", "soft", "policy" };

const char *
fbclass_name(int c)
{
	return c >= FBC_IGNORE && c <= FBC_POLICY ? names[c] : "?";
}

int
fbclass_parse(const char *s)
{
	for (int i = FBC_IGNORE; i <= FBC_POLICY; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

const struct fbclass_rule *
fbclass_builtin(size_t *n)
{
	*n = sizeof(builtin) / sizeof(builtin[0]);
	return builtin;
}

/* part_len - octets of the status part at s: 1 to 3 digits, or 0. */
static size_t
part_len(const char *s)
{
	size_t n = 0;

	while (n < 4 && s[n] >= '0' && s[n] <= '9')
		n++;
	return n >= 1 && n <= 3 ? n : 0;
}

int
fbclass_status_check(const char *s)
{
	size_t n;

	if (s[0] == '\0')
		return 0;
	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return -1;
	s++;
	for (int part = 0; part < 2; part++) {
		if (s[0] != '.')	/* "5" alone is not a code */
			return -1;
		if (s[1] == '*' && s[2] == '\0')
			return 0;
		if ((n = part_len(s + 1)) == 0)
			return -1;
		s += 1 + n;
	}
	return s[0] == '\0' ? 0 : -1;
}

/* status_match - 1 if code ("5.1.1") matches pattern ("5.1.*", "", "5.1.1"). */
static int
status_match(const char *pat, const char *code)
{
	size_t pn;

	if (pat[0] == '\0')
		return 1;
	pn = strlen(pat);
	if (pn >= 2 && pat[pn - 1] == '*' && pat[pn - 2] == '.')
		return strncmp(pat, code, pn - 1) == 0;
	return strcmp(pat, code) == 0;
}

/* rule_match - 1 if r applies to code and diag. */
static int
rule_match(const struct fbclass_rule *r, const char *code, const char *diag)
{
	return status_match(r->status, code) &&
	    (r->diag[0] == '\0' || strcasestr(diag, r->diag) != NULL);
}

/*
 * refine - a code of the same class as status ("5.0.0") that is more
 * precise, from diag, into eff; else status itself.
 */
static void
refine(const char *status, const char *diag, char *eff)
{
	size_t sn = strlen(status);

	memcpy(eff, status, sn + 1);
	if (sn != 5 || strcmp(status + 1, ".0.0") != 0)
		return;
	for (const char *p = diag; *p != '\0'; p++) {
		size_t a, b;

		if (*p != status[0] || p[1] != '.' || (p > diag &&
		    ((p[-1] >= '0' && p[-1] <= '9') || p[-1] == '.')))
			continue;
		if ((a = part_len(p + 2)) == 0 || p[2 + a] != '.' ||
		    (b = part_len(p + 3 + a)) == 0)
			continue;
		if (p[3 + a + b] == '.' || (p[3 + a + b] >= '0' &&
		    p[3 + a + b] <= '9') || 3 + a + b >= FBCLASS_STATUS_MAX)
			continue;
		if (a == 1 && b == 1 && p[2] == '0' && p[4] == '0')
			continue;	/* X.0.0 again */
		memcpy(eff, p, 3 + a + b);
		eff[3 + a + b] = '\0';
		return;
	}
}

int
fbclass_classify(const struct fbclass_conf *cf, const char *action,
    const char *status, const char *diag, const struct fbclass_rule **rule,
    char *eff)
{
	char code[FBCLASS_STATUS_MAX];

	if (rule != NULL)
		*rule = NULL;
	if (eff != NULL)
		eff[0] = '\0';
	if (status == NULL || status[0] == '\0' ||
	    strlen(status) >= FBCLASS_STATUS_MAX)
		return FBC_IGNORE;
	if (diag == NULL)
		diag = "";
	/* A delay warning, a success: the MTA still retries, or delivered. */
	if (action != NULL && action[0] != '\0' && strcmp(action, "failed") != 0)
		return FBC_IGNORE;
	refine(status, diag, code);
	if (eff != NULL)
		memcpy(eff, code, strlen(code) + 1);
	for (unsigned i = 0; cf != NULL && i < cf->nrules; i++)
		if (rule_match(&cf->rules[i], code, diag)) {
			if (rule != NULL)
				*rule = &cf->rules[i];
			return cf->rules[i].class_;
		}
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (rule_match(&builtin[i], code, diag)) {
			if (rule != NULL)
				*rule = &builtin[i];
			return builtin[i].class_;
		}
	return FBC_IGNORE;
}
