/*
 * classify.c - bulk or transactional, and which list.
 *
 * The envelope speaks first: a configured rule on the sender, its domain,
 * the SASL login or the receiving service is authoritative, and is known
 * at RCPT time.  When no rule matches, the headers decide at the end of the
 * message: the configured list header, then List-Id, then Precedence.
 * A message that names a list we cannot represent gets the list "", which
 * no consent record has: it fails closed.  Every header value is read
 * without its comments and folding (RFC 5322 CFWS), so "list (mailing
 * list)" is a Precedence of list; one we cannot read at all fails closed
 * the same way, whatever header it is.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/addr.h"
#include "core/classify.h"
#include "util/util.h"

/* Room for a header value once CFWS is gone: RFC 5322 lines hold 998. */
#define HDR_VALUE_MAX	1024

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

/* trim - v without end spaces into out (or v itself); -1 if too long. */
static int
trim(const char *v, char *out, size_t outlen)
{
	const char *e;
	size_t n;

	while (*v == ' ')
		v++;
	e = v + strlen(v);
	while (e > v && e[-1] == ' ')
		e--;
	n = (size_t)(e - v);
	if (n >= outlen)
		return -1;
	memmove(out, v, n);
	out[n] = '\0';
	return 0;
}

/* classify_cfws - comments and folding out of a header value (classify.h). */
int
classify_cfws(const char *v, char *out, size_t outlen)
{
	size_t n = 0;
	unsigned depth = 0;
	int inq = 0, sep = 0;

	if (outlen == 0)
		return -1;
/* PUT - one octet more of out, or -1 from classify_cfws: it does not fit. */
#define PUT(c)	do {						\
		if (n + 1 >= outlen)				\
			return -1;				\
		out[n++] = (c);					\
	} while (0)
	for (; *v != '\0'; v++) {
		char c = *v;

		if (depth > 0) {
			if (c == '\\') {
				if (*++v == '\0')
					return -1;	/* a quoted pair */
			} else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			continue;
		}
		if (inq) {
			if (c == '\r' || c == '\n')
				continue;	/* unfolding */
			if (c == '\\') {
				if (v[1] == '\0')
					return -1;
				PUT(c);
				c = *++v;
			} else if (c == '"')
				inq = 0;
			PUT(c);
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
		    c == '(') {
			/* A comment separates words, as white space does. */
			if (c == '(')
				depth = 1;
			sep = n > 0;
			continue;
		}
		if (c == ')')
			return -1;
		if (sep)
			PUT(' ');
		sep = 0;
		if (c == '"')
			inq = 1;
		PUT(c);
	}
#undef PUT
	if (depth > 0 || inq)
		return -1;
	out[n] = '\0';
	return 0;
}

/*
 * one_word - s (CFWS already stripped) as one atom or one quoted string,
 * unquoted, into out; 0, or -1 if s is anything else or does not fit.
 */
static int
one_word(const char *s, char *out, size_t outlen)
{
	size_t n = 0;

	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			if (*s == '\\')
				s++;
			if (*s == '\0' || n + 1 >= outlen)
				return -1;
			out[n++] = *s;
		}
		if (s[1] != '\0')
			return -1;
	} else {
		for (; *s != '\0'; s++) {
			if (!addr_atext((unsigned char)*s) || n + 1 >= outlen)
				return -1;
			out[n++] = *s;
		}
	}
	out[n] = '\0';
	return 0;
}

/* classify_list_id - the list a List-Id names (classify.h). */
int
classify_list_id(const char *value, char *out)
{
	char buf[HDR_VALUE_MAX], id[HDR_VALUE_MAX], err[128];
	const char *p, *gt;
	size_t n;
	int inq = 0;

	if (classify_cfws(value, buf, sizeof(buf)) == -1)
		return -1;
	/* "phrase <list.example.com>": the first '<' outside quotes. */
	for (p = buf; *p != '\0'; p++) {
		if (inq && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			inq = !inq;
		else if (!inq && *p == '<')
			break;
	}
	if (*p == '<') {
		/* Only the id may follow the phrase: two ids name no list. */
		if ((gt = strchr(p, '>')) == NULL || gt[1] != '\0')
			return -1;
		n = (size_t)(gt - p - 1);
		memcpy(id, p + 1, n);
		id[n] = '\0';
	} else
		memcpy(id, buf, strlen(buf) + 1);
	if (trim(id, id, sizeof(id)) == -1 || strlen(id) > REC_LIST_MAX)
		return -1;
	return record_list_norm(id, out, err, sizeof(err));
}

/*
 * precedence - 1 if a Precedence value says bulk or list, 0 if it says
 * something else (or nothing), -1 if it cannot be read: an unbalanced
 * comment or quote, or more than one word ("bulk;", "bulk list").
 */
static int
precedence(const char *value)
{
	char buf[HDR_VALUE_MAX], w[HDR_VALUE_MAX];

	if (classify_cfws(value, buf, sizeof(buf)) == -1 ||
	    one_word(buf, w, sizeof(w)) == -1)
		return -1;
	return strcasecmp(w, "bulk") == 0 || strcasecmp(w, "list") == 0;
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
		if (classify_cfws(value, buf, sizeof(buf)) == -1 ||
		    record_list_norm(buf, h->list_hdr, err, sizeof(err)) == -1)
			h->list_hdr_bad = 1;
	} else if (cc->use_list_id && strcasecmp(name, "List-Id") == 0) {
		if (h->has_list_id)
			return;
		h->has_list_id = 1;
		if (classify_list_id(value, h->list_id) == -1)
			h->list_id_bad = 1;
	} else if (cc->use_precedence && strcasecmp(name, "Precedence") == 0) {
		switch (precedence(value)) {
		case 1:
			h->precedence_bulk = 1;
			break;
		case -1:
			h->precedence_bad = 1;
			break;
		}
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
	} else if (h->precedence_bad) {
		/* It may say bulk: bulk on no list, as a list we cannot store. */
		util_strlcpy(r->why, "Precedence (unreadable)", sizeof(r->why));
	} else if (h->precedence_bulk) {
		util_strlcpy(r->list, cc->default_list, sizeof(r->list));
		util_strlcpy(r->why, "Precedence", sizeof(r->why));
	} else {
		r->class_ = CLASS_TRANSACTIONAL;
		util_strlcpy(r->why, "no bulk marker", sizeof(r->why));
	}
}
