/*
 * classify.c - bulk or transactional, and which list.
 *
 * The envelope speaks first: a configured rule on the sender, its domain,
 * the SASL login or the receiving service is authoritative, and is known
 * at RCPT time.  When no rule matches, the headers decide at the end of the
 * message: the configured list header, then List-Id, then Precedence.
 * A message that names a list we cannot represent gets the list "", which
 * no consent record has: it fails closed.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/classify.h"
#include "util/util.h"

static int
domain_matches(const char *rule, const char *domain)
{
	size_t rl, dl;

	if (rule[0] != '.')
		return strcmp(rule, domain) == 0;
	/* ".example.com": the domain itself and every subdomain. */
	if (strcmp(rule + 1, domain) == 0)
		return 1;
	rl = strlen(rule);
	dl = strlen(domain);
	return dl > rl && strcmp(domain + dl - rl, rule) == 0;
}

static int
rule_matches(const struct classify_rule *ru, const struct addr *sender,
    int have_sender, const struct classify_env *env)
{
	if (ru->sender[0] && (!have_sender || strcmp(ru->sender, sender->key)))
		return 0;
	if (ru->sender_domain[0] && (!have_sender ||
	    !domain_matches(ru->sender_domain, sender->domain)))
		return 0;
	if (ru->sasl_login[0] && (env->sasl_login == NULL ||
	    strcmp(ru->sasl_login, env->sasl_login) != 0))
		return 0;
	if (ru->daemon_name[0] && (env->daemon_name == NULL ||
	    strcmp(ru->daemon_name, env->daemon_name) != 0))
		return 0;
	return 1;
}

void
classify_envelope(const struct classify_conf *cc, const struct classify_env *env,
    struct classify_result *r)
{
	struct addr sender;
	char err[128];
	int have_sender = 0;

	memset(r, 0, sizeof(*r));
	r->class_ = CLASS_UNKNOWN;
	if (env->sender != NULL && env->sender[0] != '\0')
		have_sender = addr_normalize(env->sender, strlen(env->sender),
		    0, "", &sender, err, sizeof(err)) == 0;
	for (unsigned i = 0; i < cc->nrules; i++) {
		const struct classify_rule *ru = &cc->rules[i];

		if (!rule_matches(ru, &sender, have_sender, env))
			continue;
		r->class_ = ru->class_;
		util_strlcpy(r->list, ru->list[0] ? ru->list : cc->default_list,
		    sizeof(r->list));
		snprintf(r->why, sizeof(r->why), "rule %u", i + 1);
		return;
	}
}

/* Trim blanks (and folding) from both ends into out; 0, or -1 if too long. */
static int
trim(const char *v, char *out, size_t outlen)
{
	const char *e;
	size_t n;

	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	e = v + strlen(v);
	while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		e--;
	n = (size_t)(e - v);
	if (n >= outlen)
		return -1;
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

int
classify_list_id(const char *value, char *out)
{
	char buf[512], err[128];
	const char *lt, *gt;

	/* "Description <list.example.com>": the id is inside the last <>. */
	if ((lt = strrchr(value, '<')) != NULL && (gt = strchr(lt, '>')) != NULL) {
		size_t n = (size_t)(gt - lt - 1);

		if (n >= sizeof(buf))
			return -1;
		memcpy(buf, lt + 1, n);
		buf[n] = '\0';
	} else if (trim(value, buf, sizeof(buf)) == -1)
		return -1;
	if (trim(buf, buf, sizeof(buf)) == -1 || strlen(buf) > REC_LIST_MAX)
		return -1;
	return record_list_norm(buf, out, err, sizeof(err));
}

void
classify_header(const struct classify_conf *cc, struct classify_hdrs *h,
    const char *name, const char *value)
{
	char buf[REC_LIST_MAX + 1], err[128];

	if (cc->list_header[0] && strcasecmp(name, cc->list_header) == 0) {
		h->nlist_hdr++;
		if (h->has_list_hdr)
			return;		/* the first one counts */
		h->has_list_hdr = 1;
		if (trim(value, buf, sizeof(buf)) == -1 ||
		    record_list_norm(buf, h->list_hdr, err, sizeof(err)) == -1)
			h->list_hdr_bad = 1;
	} else if (cc->use_list_id && strcasecmp(name, "List-Id") == 0) {
		if (h->has_list_id)
			return;
		h->has_list_id = 1;
		if (classify_list_id(value, h->list_id) == -1)
			h->list_id_bad = 1;
	} else if (cc->use_precedence && strcasecmp(name, "Precedence") == 0) {
		char p[32];

		if (trim(value, p, sizeof(p)) == 0 && (strcasecmp(p, "bulk") == 0 ||
		    strcasecmp(p, "list") == 0))
			h->precedence_bulk = 1;
	}
}

void
classify_headers(const struct classify_conf *cc, const struct classify_hdrs *h,
    struct classify_result *r)
{
	memset(r, 0, sizeof(*r));
	r->class_ = CLASS_BULK;
	if (h->has_list_hdr) {
		util_strlcpy(r->list, h->list_hdr_bad ? "" : h->list_hdr,
		    sizeof(r->list));
		snprintf(r->why, sizeof(r->why), "%s%s", cc->list_header,
		    h->list_hdr_bad ? " (invalid list name)" : "");
	} else if (h->has_list_id) {
		util_strlcpy(r->list, h->list_id_bad ? "" : h->list_id,
		    sizeof(r->list));
		snprintf(r->why, sizeof(r->why), "List-Id%s",
		    h->list_id_bad ? " (invalid list id)" : "");
	} else if (h->precedence_bulk) {
		util_strlcpy(r->list, cc->default_list, sizeof(r->list));
		util_strlcpy(r->why, "Precedence", sizeof(r->why));
	} else {
		r->class_ = CLASS_TRANSACTIONAL;
		util_strlcpy(r->why, "no bulk marker", sizeof(r->why));
	}
}
