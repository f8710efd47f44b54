/*
 * config.c - the configuration loader.
 *
 * A schema table names every key with its type, range and place in struct
 * config.  The file is walked setting by setting: a key not in the table is
 * an error, as is a value of the wrong type or out of range, each reported
 * with the file and line libconfig gives.
 */
#include <libconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/config.h"
#include "core/config_int.h"
#include "core/listunsub.h"
#include "core/record.h"
#include "core/seal.h"
#include "core/token.h"
#include "util/metrics.h"
#include "util/time.h"
#include "util/util.h"

enum ktype { K_STR, K_INT, K_BOOL, K_ENUM, K_MODE, K_RULES, K_KEYS, K_LULISTS,
    K_FBRULES };

struct ckey {
	const char *path;
	enum ktype type;
	size_t	off;
	size_t	size;		/* K_STR: buffer size */
	long long min, max;	/* K_INT range; K_ENUM: index into enums */
	const char *const *enums;
	/* Extra check or conversion after the value is stored; 0 / -1. */
	int	(*post)(struct config *, char *, size_t);
};

static const char *const model_names[] = { "opt-in", "opt-out", NULL };
static const char *const existing_names[] = { "replace", "keep", NULL };
static const char *const action_names[] = {
	"reject", "drop", "redirect", "tag", "quarantine", NULL
};

/* config_socket_path - the path in a unix socket spec, or NULL (config.h). */
const char *
config_socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return spec[0] == '/' ? spec : NULL;
}

const char *
config_action_name(int a)
{
	return a >= 0 && a <= ACTION_QUARANTINE ? action_names[a] : "?";
}

static void	config_finish(struct config *);

static int	post_list(struct config *, char *, size_t);
static int	post_redirect(struct config *, char *, size_t);
static int	post_header(struct config *, char *, size_t);
static int	post_lifetime(struct config *, char *, size_t);
static int	post_lu_url(struct config *, char *, size_t);
static int	post_lu_mailto(struct config *, char *, size_t);
static int	post_lu_list_url(struct config *, char *, size_t);
static int	host_id_ok(const char *);
static int	post_sync(struct config *, char *, size_t);
static int	post_sync_host(struct config *, char *, size_t);
static int	post_sync_lag(struct config *, char *, size_t);
static int	post_sync_poll(struct config *, char *, size_t);
static int	post_metrics(struct config *, char *, size_t);
static int	post_optin_url(struct config *, char *, size_t);
static int	post_optin_lifetime(struct config *, char *, size_t);
static int	post_seal_interval(struct config *, char *, size_t);
static int	post_metrics_unsubd(struct config *, char *, size_t);

#define OFF(f)	offsetof(struct config, f)
#define SZ(f)	sizeof(((struct config *)0)->f)

static const struct ckey keys[] = {
	{ "store.path", K_STR, OFF(store_path), SZ(store_path), 1, 0, NULL, NULL },
	{ "store.map_size_mb", K_INT, OFF(map_size_mb), 0, 1, 1 << 20, NULL, NULL },
	{ "import.memory_mb", K_INT, OFF(import_memory_mb), 0, 1, 1 << 20, NULL, NULL },
	{ "store.case_sensitive_local", K_BOOL, OFF(case_sensitive), 0, 0, 0, NULL, NULL },
	{ "store.recipient_delimiter", K_STR, OFF(delims), SZ(delims), 0, 0, NULL, NULL },
	{ "policy.model", K_ENUM, OFF(policy.model), 0, 0, 0, model_names, NULL },
	{ "policy.double_opt_in", K_BOOL, OFF(policy.require_confirmed), 0, 0, 0, NULL, NULL },
	{ "policy.default_list", K_STR, OFF(default_list), SZ(default_list), 1, 0, NULL, post_list },
	{ "milter.socket", K_STR, OFF(socket), SZ(socket), 1, 0, NULL, NULL },
	{ "milter.socket_mode", K_MODE, OFF(socket_mode), 0, 0, 0777, NULL, NULL },
	{ "milter.socket_group", K_STR, OFF(socket_group), SZ(socket_group), 0, 0, NULL, NULL },
	{ "milter.user", K_STR, OFF(user), SZ(user), 0, 0, NULL, NULL },
	{ "milter.pid_file", K_STR, OFF(pid_file), SZ(pid_file), 0, 0, NULL, NULL },
	{ "milter.timeout", K_INT, OFF(timeout), 0, 1, 3600, NULL, NULL },
	{ "milter.shutdown_timeout", K_INT, OFF(shutdown_timeout), 0, 0, 600, NULL, NULL },
	{ "milter.one_recipient_per_message", K_BOOL, OFF(one_rcpt_per_msg), 0, 0, 0, NULL, NULL },
	{ "milter.max_recipients", K_INT, OFF(max_recipients), 0, 1, 100000, NULL, NULL },
	{ "classify.list_id", K_BOOL, OFF(classify.use_list_id), 0, 0, 0, NULL, NULL },
	{ "classify.precedence", K_BOOL, OFF(classify.use_precedence), 0, 0, 0, NULL, NULL },
	{ "classify.list_header", K_STR, OFF(classify.list_header), SZ(classify.list_header), 0, 0, NULL, post_header },
	{ "classify.strip_list_header", K_BOOL, OFF(classify.strip_list_header), 0, 0, 0, NULL, NULL },
	{ "classify.rules", K_RULES, 0, 0, 0, 0, NULL, NULL },
	{ "audit.file", K_STR, OFF(audit_file), SZ(audit_file), 0, 0, NULL, NULL },
	{ "audit.key_file", K_STR, OFF(audit_key_file), SZ(audit_key_file), 0, 0, NULL, NULL },
	{ "audit.pseudonymize", K_BOOL, OFF(audit_pseudonymize), 0, 0, 0, NULL, NULL },
	{ "audit.fail_closed", K_BOOL, OFF(audit_fail_closed), 0, 0, 0, NULL, NULL },
	{ "audit.seal_key", K_STR, OFF(audit_seal_key), SZ(audit_seal_key), 0, 0, NULL, NULL },
	{ "audit.seal_interval", K_STR, OFF(audit_seal_interval_s), SZ(audit_seal_interval_s), 1, 0, NULL, post_seal_interval },
	{ "audit.checkpoints", K_STR, OFF(audit_checkpoints), SZ(audit_checkpoints), 0, 0, NULL, NULL },
	{ "optin.url", K_STR, OFF(optin_url), SZ(optin_url), 0, 0, NULL, post_optin_url },
	{ "optin.lifetime", K_STR, OFF(optin_lifetime_s), SZ(optin_lifetime_s), 1, 0, NULL, post_optin_lifetime },
	{ "metrics.listen", K_STR, OFF(metrics_listen), SZ(metrics_listen), 0, 0, NULL, post_metrics },
	{ "metrics.unsubd_listen", K_STR, OFF(metrics_unsubd_listen), SZ(metrics_unsubd_listen), 0, 0, NULL, post_metrics_unsubd },
	{ "metrics.max_lists", K_INT, OFF(metrics_max_lists), 0, 1, 10000, NULL, NULL },
	{ "feedback.queue_dir", K_STR, OFF(fb_queue_dir), SZ(fb_queue_dir), 1, 0, NULL, NULL },
	{ "feedback.queue_max", K_INT, OFF(fb_queue_max), 0, 1, 1000000, NULL, NULL },
	{ "feedback.queue_retention", K_STR, OFF(fb_queue_retention_s), SZ(fb_queue_retention_s), 1, 0, NULL, post_fb_retention },
	{ "feedback.soft_threshold", K_INT, OFF(fb_soft_threshold), 0, 1, 100, NULL, NULL },
	{ "feedback.soft_window", K_STR, OFF(fb_soft_window_s), SZ(fb_soft_window_s), 1, 0, NULL, post_fb_window },
	{ "feedback.soft_expires", K_STR, OFF(fb_soft_expires_s), SZ(fb_soft_expires_s), 1, 0, NULL, post_fb_expires },
	{ "feedback.sign_return_path", K_BOOL, OFF(fb_sign_return_path), 0, 0, 0, NULL, NULL },
	{ "feedback.return_path_window", K_STR, OFF(fb_rp_window_s), SZ(fb_rp_window_s), 1, 0, NULL, post_fb_rp_window },
	{ "feedback.rules", K_FBRULES, 0, 0, 0, 0, NULL, NULL },
	{ "feedback.audit_file", K_STR, OFF(fb_audit_file), SZ(fb_audit_file), 0, 0, NULL, NULL },
	{ "unsubscribe.enable", K_BOOL, OFF(lu_enable), 0, 0, 0, NULL, NULL },
	{ "unsubscribe.keys", K_KEYS, 0, 0, 0, 0, NULL, NULL },
	{ "unsubscribe.lifetime", K_STR, OFF(lu_lifetime_s), SZ(lu_lifetime_s), 1, 0, NULL, post_lifetime },
	{ "unsubscribe.existing", K_ENUM, OFF(lu_keep_existing), 0, 0, 0, existing_names, NULL },
	{ "unsubscribe.url", K_STR, OFF(lu_default.url), SZ(lu_default.url), 0, 0, NULL, post_lu_url },
	{ "unsubscribe.mailto", K_STR, OFF(lu_default.mailto), SZ(lu_default.mailto), 0, 0, NULL, post_lu_mailto },
	{ "unsubscribe.list_url", K_STR, OFF(lu_default.list_url), SZ(lu_default.list_url), 0, 0, NULL, post_lu_list_url },
	{ "unsubscribe.lists", K_LULISTS, 0, 0, 0, 0, NULL, NULL },
	{ "unsubscribe.listen", K_STR, OFF(unsubd_listen), SZ(unsubd_listen), 1, 0, NULL, NULL },
	{ "unsubscribe.trusted_proxies", K_STR, OFF(unsubd_trusted), SZ(unsubd_trusted), 0, 0, NULL, NULL },
	{ "unsubscribe.tls_cert", K_STR, OFF(unsubd_tls_cert), SZ(unsubd_tls_cert), 0, 0, NULL, NULL },
	{ "unsubscribe.tls_key", K_STR, OFF(unsubd_tls_key), SZ(unsubd_tls_key), 0, 0, NULL, NULL },
	{ "unsubscribe.user", K_STR, OFF(unsubd_user), SZ(unsubd_user), 0, 0, NULL, NULL },
	{ "unsubscribe.organisation", K_STR, OFF(unsubd_org), SZ(unsubd_org), 1, 0, NULL, NULL },
	{ "unsubscribe.max_connections", K_INT, OFF(unsubd_max_conns), 0, 16, 16384, NULL, NULL },
	{ "unsubscribe.max_per_client", K_INT, OFF(unsubd_max_per_client), 0, 0, 16384, NULL, NULL },
	{ "unsubscribe.request_timeout", K_INT, OFF(unsubd_request_timeout), 0, 1, 600, NULL, NULL },
	{ "actions.default", K_ENUM, OFF(action_default), 0, 0, 0, action_names, NULL },
	{ "actions.no_consent", K_ENUM, OFF(action_cfg[PR_NO_CONSENT]), 0, 0, 0, action_names, NULL },
	{ "actions.pending", K_ENUM, OFF(action_cfg[PR_PENDING]), 0, 0, 0, action_names, NULL },
	{ "actions.unconfirmed", K_ENUM, OFF(action_cfg[PR_UNCONFIRMED]), 0, 0, 0, action_names, NULL },
	{ "actions.unsubscribed", K_ENUM, OFF(action_cfg[PR_UNSUBSCRIBED]), 0, 0, 0, action_names, NULL },
	{ "actions.unsubscribed_all", K_ENUM, OFF(action_cfg[PR_UNSUBSCRIBED_ALL]), 0, 0, 0, action_names, NULL },
	{ "actions.hard_bounce", K_ENUM, OFF(action_cfg[PR_HARD_BOUNCE]), 0, 0, 0, action_names, NULL },
	{ "actions.complaint", K_ENUM, OFF(action_cfg[PR_COMPLAINT]), 0, 0, 0, action_names, NULL },
	{ "actions.invalid", K_ENUM, OFF(action_cfg[PR_INVALID]), 0, 0, 0, action_names, NULL },
	{ "actions.manual", K_ENUM, OFF(action_cfg[PR_MANUAL]), 0, 0, 0, action_names, NULL },
	{ "actions.soft_bounce", K_ENUM, OFF(action_cfg[PR_SOFT_BOUNCE]), 0, 0, 0, action_names, NULL },
	{ "actions.unknown_list", K_ENUM, OFF(action_cfg[PR_UNKNOWN_LIST]), 0, 0, 0, action_names, NULL },
	{ "actions.erased", K_ENUM, OFF(action_cfg[PR_ERASED]), 0, 0, 0, action_names, NULL },
	{ "actions.redirect_to", K_STR, OFF(redirect_to), SZ(redirect_to), 0, 0, NULL, post_redirect },
	{ "sync.conninfo", K_STR, OFF(sync.conninfo), SZ(sync.conninfo), 1, 0, NULL, post_sync },
	{ "sync.writer_conninfo", K_STR, OFF(sync.writer_conninfo), SZ(sync.writer_conninfo), 1, 0, NULL, post_sync },
	{ "sync.host_id", K_STR, OFF(sync.host_id), SZ(sync.host_id), 1, 0, NULL, post_sync_host },
	{ "sync.max_lag", K_STR, OFF(sync.max_lag_s), SZ(sync.max_lag_s), 1, 0, NULL, post_sync_lag },
	{ "sync.poll_interval", K_STR, OFF(sync.poll_s), SZ(sync.poll_s), 1, 0, NULL, post_sync_poll },
	{ "sync.batch", K_INT, OFF(sync.batch), 0, 1, 1000000, NULL, post_sync },
	{ "sync.user", K_STR, OFF(sync.user), SZ(sync.user), 0, 0, NULL, post_sync },
	{ "sync.pid_file", K_STR, OFF(sync.pid_file), SZ(sync.pid_file), 0, 0, NULL, post_sync },
};

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	util_strlcpy(c->store_path, "/var/lib/consent-milter/store",
	    sizeof(c->store_path));
	c->map_size_mb = 1024;
	c->import_memory_mb = 256;
	util_strlcpy(c->delims, "+", sizeof(c->delims));
	c->policy.model = POLICY_OPTIN;
	c->policy.require_confirmed = 0;
	util_strlcpy(c->default_list, REC_DEFAULT_LIST, sizeof(c->default_list));
	util_strlcpy(c->socket, "unix:/run/consent-milter/consent-milter.sock",
	    sizeof(c->socket));
	c->socket_mode = 0660;
	util_strlcpy(c->socket_group, "postfix", sizeof(c->socket_group));
	util_strlcpy(c->user, "consent-milter", sizeof(c->user));
	c->timeout = 300;
	c->shutdown_timeout = 10;
	c->max_recipients = 1000;
	c->classify.use_list_id = 1;
	c->classify.use_precedence = 1;
	util_strlcpy(c->classify.list_header, "X-Consent-List",
	    sizeof(c->classify.list_header));
	c->classify.strip_list_header = 1;
	util_strlcpy(c->lu_lifetime_s, "90d", sizeof(c->lu_lifetime_s));
	c->lu_lifetime = 90 * 86400;
	util_strlcpy(c->unsubd_listen, "127.0.0.1:8025", sizeof(c->unsubd_listen));
	c->metrics_max_lists = 50;
	util_strlcpy(c->fb_queue_dir, "/var/lib/consent-milter/feedback",
	    sizeof(c->fb_queue_dir));
	c->fb_queue_max = 10000;
	util_strlcpy(c->fb_queue_retention_s, "90d", sizeof(c->fb_queue_retention_s));
	c->fb_queue_retention = 90 * 86400;
	c->fb_soft_threshold = 3;
	util_strlcpy(c->fb_soft_window_s, "7d", sizeof(c->fb_soft_window_s));
	c->fb_soft_window = 7 * 86400;
	util_strlcpy(c->fb_soft_expires_s, "30d", sizeof(c->fb_soft_expires_s));
	c->fb_soft_expires = 30 * 86400;
	util_strlcpy(c->fb_rp_window_s, "14d", sizeof(c->fb_rp_window_s));
	c->fb_rp_window = 14 * 86400;
	util_strlcpy(c->optin_lifetime_s, "7d", sizeof(c->optin_lifetime_s));
	c->optin_lifetime = 7 * 86400;
	util_strlcpy(c->unsubd_trusted, "127.0.0.1 ::1", sizeof(c->unsubd_trusted));
	util_strlcpy(c->unsubd_user, "consent-unsubd", sizeof(c->unsubd_user));
	util_strlcpy(c->unsubd_org, "our mailing lists", sizeof(c->unsubd_org));
	c->unsubd_max_conns = 1024;
	c->unsubd_max_per_client = 16;
	c->unsubd_request_timeout = 10;
	c->audit_pseudonymize = 1;
	c->audit_fail_closed = 1;
	util_strlcpy(c->audit_seal_interval_s, "15m",
	    sizeof(c->audit_seal_interval_s));
	c->audit_seal_interval = SEAL_INTERVAL_DEFAULT;
	c->action_default = ACTION_REJECT;
	for (int i = 0; i < PR_MAX_; i++)
		c->action_cfg[i] = -1;	/* unset: actions.default */
	util_strlcpy(c->sync.max_lag_s, "24h", sizeof(c->sync.max_lag_s));
	c->sync.max_lag = 24 * 3600;
	util_strlcpy(c->sync.poll_s, "10s", sizeof(c->sync.poll_s));
	c->sync.poll = 10;
	c->sync.batch = 10000;
	util_strlcpy(c->sync.user, "consent-milter", sizeof(c->sync.user));
	config_finish(c);
}

/* Derive the values other modules use from what the file says. */
static void
config_finish(struct config *c)
{
	c->map_size = (uint64_t)c->map_size_mb << 20;
	c->addr_flags = c->case_sensitive ? ADDR_CASE_SENSITIVE : 0;
	c->classify.addr_flags = c->addr_flags;
	util_strlcpy(c->classify.default_list, c->default_list,
	    sizeof(c->classify.default_list));
	for (int i = PR_FIRST_DENY; i < PR_MAX_; i++)
		c->action[i] = c->action_cfg[i] != -1 ? c->action_cfg[i] :
		    c->action_default;
	c->sync.enabled = c->sync.conninfo[0] != '\0';
	if (c->sync.enabled && c->sync.host_id[0] == '\0') {
		char h[256], *dot;

		/* The short host name, if it makes a valid host id. */
		if (gethostname(h, sizeof(h)) == 0) {
			h[sizeof(h) - 1] = '\0';
			if ((dot = strchr(h, '.')) != NULL)
				*dot = '\0';
			if (host_id_ok(h))
				util_strlcpy(c->sync.host_id, h,
				    sizeof(c->sync.host_id));
		}
	}
}

/* Checks that span keys, after the whole file is read. */
static int
config_check(struct config *c, char *err, size_t errlen)
{
	const char *file = c->file[0] ? c->file : "(string)";

	if (c->lu_enable && (c->lu_nkeys == 0 || c->lu_default.url[0] == '\0')) {
		snprintf(err, errlen, "%s: unsubscribe.enable needs unsubscribe.keys "
		    "(make one with 'consentctl keygen') and unsubscribe.url",
		    file);
		return -1;
	}
	if (c->fb_sign_return_path && c->lu_nkeys == 0) {
		snprintf(err, errlen, "%s: feedback.sign_return_path needs "
		    "unsubscribe.keys (the tag's key is derived from the first)",
		    file);
		return -1;
	}
	if (c->fb_audit_file[0] && c->audit_pseudonymize && !c->audit_key_file[0]) {
		snprintf(err, errlen, "%s: feedback.audit_file: needs "
		    "audit.key_file to pseudonymise recipients, or set "
		    "audit.pseudonymize = false", file);
		return -1;
	}
	if (c->audit_file[0] && c->audit_pseudonymize && !c->audit_key_file[0]) {
		snprintf(err, errlen, "%s: audit.key_file: needed to pseudonymise "
		    "recipients (make one with 'consentctl keygen'), or set "
		    "audit.pseudonymize = false", file);
		return -1;
	}
	if (c->audit_seal_key[0] && !c->audit_file[0]) {
		snprintf(err, errlen, "%s: audit.seal_key: seals the audit trail, "
		    "which needs audit.file", file);
		return -1;
	}
	if (c->audit_checkpoints[0] && !c->audit_seal_key[0]) {
		snprintf(err, errlen, "%s: audit.checkpoints: copies of the "
		    "seals, which need audit.seal_key (make it with 'consentctl "
		    "audit keygen')", file);
		return -1;
	}
	if (c->sync.seen && !c->sync.enabled) {
		snprintf(err, errlen, "%s: sync: the section needs sync.conninfo "
		    "(a libpq connection string, such as \"service=consent\")",
		    file);
		return -1;
	}
	if (c->sync.enabled && c->sync.host_id[0] == '\0') {
		snprintf(err, errlen, "%s: sync.host_id: the host name does not "
		    "make one: set it (letters, digits, '.', '-', '_')", file);
		return -1;
	}
	for (int i = PR_FIRST_DENY; i < PR_MAX_; i++)
		if (c->action[i] == ACTION_REDIRECT && c->redirect_to[0] == '\0') {
			snprintf(err, errlen, "%s: actions.%s: redirect needs "
			    "actions.redirect_to (the holding mailbox)", file,
			    policy_reason_name(i));
			return -1;
		}
	return 0;
}

static int
post_redirect(struct config *c, char *err, size_t errlen)
{
	struct addr a;
	char why[200];

	if (c->redirect_to[0] == '\0')
		return 0;
	if (addr_normalize(c->redirect_to, strlen(c->redirect_to), 0, "", &a,
	    why, sizeof(why)) == -1) {
		snprintf(err, errlen, "invalid address: %s", why);
		return -1;
	}
	return 0;
}

static int
post_lifetime(struct config *c, char *err, size_t errlen)
{
	int64_t d;

	if (time_duration_parse(c->lu_lifetime_s, &d) == -1) {
		snprintf(err, errlen, "not a duration such as 90d");
		return -1;
	}
	/* CASL wants the mechanism to work for 60 days after sending. */
	if (d < TOKEN_LIFETIME_MIN) {
		snprintf(err, errlen, "shorter than 60d: a link must work for at "
		    "least 60 days after the message");
		return -1;
	}
	c->lu_lifetime = d;
	return 0;
}

static int
check_tmpl(const char *t, const char *scheme, char *err, size_t errlen)
{
	return t[0] == '\0' ? 0 : listunsub_template_check(t, scheme, err, errlen);
}

static int
post_lu_url(struct config *c, char *err, size_t errlen)
{
	return check_tmpl(c->lu_default.url, "https", err, errlen);
}

static int
post_lu_mailto(struct config *c, char *err, size_t errlen)
{
	return check_tmpl(c->lu_default.mailto, "mailto", err, errlen);
}

static int
post_lu_list_url(struct config *c, char *err, size_t errlen)
{
	return check_tmpl(c->lu_default.list_url, "https", err, errlen);
}

/* host_id_ok - 1 if s is a host id: [A-Za-z0-9._-]{1,64}. */
static int
host_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONFIG_HOST_MAX)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

/*
 * has_password - 1 if a libpq connection string carries a password: a
 * password= keyword, or a URI's user:password@.
 */
static int
has_password(const char *ci)
{
	const char *p, *at, *slash;

	for (p = ci; (p = strcasestr(p, "password")) != NULL; p += 8) {
		const char *q = p + 8;

		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '=' && (p == ci || p[-1] == ' ' || p[-1] == '\t'))
			return 1;
	}
	if (strncmp(ci, "postgresql://", 13) == 0 ||
	    strncmp(ci, "postgres://", 11) == 0) {
		p = strstr(ci, "://") + 3;
		at = strchr(p, '@');
		slash = strchr(p, '/');
		if (at != NULL && (slash == NULL || at < slash) &&
		    memchr(p, ':', (size_t)(at - p)) != NULL)
			return 1;
	}
	return 0;
}

static int
post_sync(struct config *c, char *err, size_t errlen)
{
	c->sync.seen = 1;
	if (has_password(c->sync.conninfo) ||
	    has_password(c->sync.writer_conninfo)) {
		snprintf(err, errlen, "no password in the configuration: put it "
		    "in the user's ~/.pgpass (PGPASSFILE) or use a service file "
		    "(service=...), or peer or certificate authentication");
		return -1;
	}
	return 0;
}

/* post_optin_url - the confirmation link: https, with the token (%t). */
static int
post_optin_url(struct config *c, char *err, size_t errlen)
{
	if (c->optin_url[0] == '\0')
		return 0;
	if (check_tmpl(c->optin_url, "https", err, errlen) == -1)
		return -1;
	if (strstr(c->optin_url, "%t") == NULL) {
		snprintf(err, errlen, "has no %%t: the link needs the token");
		return -1;
	}
	return 0;
}

/* post_seal_interval - the audit trail's seal epochs: 2s (tests) to 1d. */
static int
post_seal_interval(struct config *c, char *err, size_t errlen)
{
	int64_t d;

	if (time_duration_parse(c->audit_seal_interval_s, &d) == -1 ||
	    d < SEAL_INTERVAL_MIN || d > SEAL_INTERVAL_MAX) {
		snprintf(err, errlen, "not a duration from %ds to 1d",
		    SEAL_INTERVAL_MIN);
		return -1;
	}
	c->audit_seal_interval = d;
	return 0;
}

static int
post_sync_host(struct config *c, char *err, size_t errlen)
{
	c->sync.seen = 1;
	if (!host_id_ok(c->sync.host_id)) {
		snprintf(err, errlen, "1 to %d letters, digits, '.', '-' or '_'",
		    CONFIG_HOST_MAX);
		return -1;
	}
	return 0;
}

/* sync_duration - s as a duration of at least min seconds into *out. */
static int
sync_duration(struct config *c, const char *s, int64_t min, int64_t *out,
    char *err, size_t errlen)
{
	int64_t d;

	c->sync.seen = 1;
	if (time_duration_parse(s, &d) == -1 || d < min) {
		snprintf(err, errlen, "not a duration of at least %llds, such as "
		    "24h or 10s", (long long)min);
		return -1;
	}
	*out = d;
	return 0;
}

static int
post_sync_lag(struct config *c, char *err, size_t errlen)
{
	/* Gmail and Yahoo allow 2 days to honour an unsubscribe. */
	if (sync_duration(c, c->sync.max_lag_s, 1, &c->sync.max_lag, err,
	    errlen) == -1)
		return -1;
	if (c->sync.max_lag > 2 * 86400) {
		snprintf(err, errlen, "longer than 2d: an unsubscribe made on "
		    "another host must be honoured within 2 days");
		return -1;
	}
	return 0;
}

static int
post_sync_poll(struct config *c, char *err, size_t errlen)
{
	return sync_duration(c, c->sync.poll_s, 1, &c->sync.poll, err, errlen);
}

/* post_optin_lifetime - how long a confirmation link works: 1h to 90d. */
static int
post_optin_lifetime(struct config *c, char *err, size_t errlen)
{
	int64_t d;

	if (time_duration_parse(c->optin_lifetime_s, &d) == -1 || d < 3600 ||
	    d > 90 * 86400) {
		snprintf(err, errlen, "not a duration from 1h to 90d");
		return -1;
	}
	c->optin_lifetime = d;
	return 0;
}

/* post_metrics - a listener address metrics_listen() takes, or "". */
static int
post_metrics(struct config *c, char *err, size_t errlen)
{
	return c->metrics_listen[0] == '\0' ? 0 :
	    metrics_listen_check(c->metrics_listen, err, errlen);
}

static int
post_metrics_unsubd(struct config *c, char *err, size_t errlen)
{
	return c->metrics_unsubd_listen[0] == '\0' ? 0 :
	    metrics_listen_check(c->metrics_unsubd_listen, err, errlen);
}

static int
post_header(struct config *c, char *err, size_t errlen)
{
	for (const char *p = c->classify.list_header; *p; p++)
		if (*p <= ' ' || *p == ':' || *p >= 0x7f) {
			snprintf(err, errlen, "not a header field name");
			return -1;
		}
	return 0;
}

static int
post_list(struct config *c, char *err, size_t errlen)
{
	char why[128];

	if (record_list_norm(c->default_list, c->default_list, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	return 0;
}

static int
where(char *err, size_t errlen, const config_setting_t *s, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
where(char *err, size_t errlen, const config_setting_t *s, const char *path,
    const char *fmt, ...)
{
	char msg[512];
	const char *file = config_setting_source_file(s);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%u: %s: %s", file ? file : "(string)",
	    config_setting_source_line(s), path, msg);
	return -1;
}

static const char *
type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: return "a value";
	}
}

static const char *const rule_keys[] = {
	"sender", "sender_domain", "sasl_login", "daemon_name", "class", "list",
	NULL
};

/* One rule string field: copy with a length check. */
static int
rule_str(const config_setting_t *f, const char *path, char *out, size_t outlen,
    char *err, size_t errlen)
{
	const char *v;

	if (config_setting_type(f) != CONFIG_TYPE_STRING)
		return where(err, errlen, f, path, "must be a string");
	v = config_setting_get_string(f);
	if (v[0] == '\0' || strlen(v) >= outlen)
		return where(err, errlen, f, path, "must be 1 to %zu octets",
		    outlen - 1);
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int
apply_rule(const config_setting_t *g, unsigned idx, struct classify_rule *ru,
    char *err, size_t errlen)
{
	int n = config_setting_length(g), matchers = 0;
	char path[128], buf[512], why[256];

	memset(ru, 0, sizeof(*ru));
	ru->class_ = CLASS_BULK;
	ru->line = (int)config_setting_source_line(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return where(err, errlen, g, "classify.rules", "rule %u must be "
		    "a group { ... }", idx + 1);
	for (int i = 0; i < n; i++) {
		const config_setting_t *f = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(f);
		int k;

		for (k = 0; rule_keys[k] != NULL; k++)
			if (strcmp(rule_keys[k], name) == 0)
				break;
		snprintf(path, sizeof(path), "classify.rules[%u].%s", idx, name);
		if (rule_keys[k] == NULL)
			return where(err, errlen, f, path, "unknown key (expected "
			    "sender, sender_domain, sasl_login, daemon_name, "
			    "class, list)");
		if (rule_str(f, path, buf, sizeof(buf), err, errlen) == -1)
			return -1;
		switch (k) {
		case 0: {
			struct addr a;

			/* Senders match case-insensitively, whatever the store does. */
			if (addr_normalize(buf, strlen(buf), 0, "", &a, why,
			    sizeof(why)) == -1)
				return where(err, errlen, f, path, "%s", why);
			util_strlcpy(ru->sender, a.key, sizeof(ru->sender));
			matchers++;
			break;
		}
		case 1:
			if (addr_domain_normalize(buf, strlen(buf),
			    ru->sender_domain, sizeof(ru->sender_domain), why,
			    sizeof(why)) == -1)
				return where(err, errlen, f, path, "%s", why);
			matchers++;
			break;
		case 2:
		case 3:
			if (strlen(buf) >= CLASSIFY_NAME_MAX)
				return where(err, errlen, f, path, "too long");
			util_strlcpy(k == 2 ? ru->sasl_login : ru->daemon_name,
			    buf, CLASSIFY_NAME_MAX);
			matchers++;
			break;
		case 4:
			if (strcmp(buf, "bulk") == 0)
				ru->class_ = CLASS_BULK;
			else if (strcmp(buf, "transactional") == 0)
				ru->class_ = CLASS_TRANSACTIONAL;
			else
				return where(err, errlen, f, path, "unknown class "
				    "\"%s\" (expected bulk, transactional)", buf);
			break;
		case 5:
			if (record_list_norm(buf, ru->list, why, sizeof(why)) == -1)
				return where(err, errlen, f, path, "%s", why);
			break;
		}
	}
	if (matchers == 0)
		return where(err, errlen, g, "classify.rules", "rule %u matches "
		    "everything: give it a sender, sender_domain, sasl_login or "
		    "daemon_name", idx + 1);
	return 0;
}

static int
apply_rules(struct config *c, const config_setting_t *s, char *err,
    size_t errlen)
{
	int t = config_setting_type(s), n;

	if (t != CONFIG_TYPE_LIST)
		return where(err, errlen, s, "classify.rules", "must be a list "
		    "( { ... }, { ... } )");
	n = config_setting_length(s);
	if (n > CLASSIFY_RULES_MAX)
		return where(err, errlen, s, "classify.rules", "more than %d rules",
		    CLASSIFY_RULES_MAX);
	c->classify.nrules = 0;
	for (int i = 0; i < n; i++) {
		if (apply_rule(config_setting_get_elem(s, (unsigned)i),
		    (unsigned)i, &c->classify.rules[i], err, errlen) == -1)
			return -1;
		c->classify.nrules++;
	}
	return 0;
}

/* unsubscribe.keys = ( { id = 2; file = "..."; }, ... ): the first signs. */
static int
apply_keys(struct config *c, const config_setting_t *s, char *err,
    size_t errlen)
{
	int n;

	if (config_setting_type(s) != CONFIG_TYPE_LIST)
		return where(err, errlen, s, "unsubscribe.keys", "must be a list "
		    "( { id = 1; file = \"...\"; }, ... )");
	n = config_setting_length(s);
	if (n > CONFIG_KEYS_MAX)
		return where(err, errlen, s, "unsubscribe.keys", "more than %d "
		    "keys", CONFIG_KEYS_MAX);
	c->lu_nkeys = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
		const config_setting_t *id, *file;
		char path[64];
		long long v;

		snprintf(path, sizeof(path), "unsubscribe.keys[%d]", i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP ||
		    config_setting_length(g) != 2 ||
		    (id = config_setting_get_member(g, "id")) == NULL ||
		    (file = config_setting_get_member(g, "file")) == NULL)
			return where(err, errlen, g, path, "must be { id = N; "
			    "file = \"PATH\"; }");
		if (config_setting_type(id) != CONFIG_TYPE_INT ||
		    (v = config_setting_get_int64(id)) < 1 || v > 255)
			return where(err, errlen, id, path, "id must be 1 to 255");
		for (unsigned k = 0; k < c->lu_nkeys; k++)
			if (c->lu_keys[k].id == (unsigned)v)
				return where(err, errlen, id, path, "id %lld is "
				    "used twice", v);
		if (config_setting_type(file) != CONFIG_TYPE_STRING ||
		    config_setting_get_string(file)[0] == '\0' ||
		    strlen(config_setting_get_string(file)) >= CONFIG_PATH_MAX)
			return where(err, errlen, file, path, "file must be a path");
		c->lu_keys[c->lu_nkeys].id = (unsigned)v;
		util_strlcpy(c->lu_keys[c->lu_nkeys].file,
		    config_setting_get_string(file), CONFIG_PATH_MAX);
		c->lu_nkeys++;
	}
	return 0;
}

/* unsubscribe.lists = ( { list = "news"; url = "..."; ... } ): per list. */
static int
apply_lu_lists(struct config *c, const config_setting_t *s, char *err,
    size_t errlen)
{
	static const char *const names[] = { "list", "url", "mailto",
	    "list_url", NULL };
	int n;

	if (config_setting_type(s) != CONFIG_TYPE_LIST)
		return where(err, errlen, s, "unsubscribe.lists", "must be a list "
		    "( { list = \"news\"; url = \"...\"; }, ... )");
	n = config_setting_length(s);
	if (n > CONFIG_LU_LISTS_MAX)
		return where(err, errlen, s, "unsubscribe.lists", "more than %d "
		    "lists", CONFIG_LU_LISTS_MAX);
	c->lu_nlists = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
		struct listunsub_templates *t = &c->lu_lists[i];
		char path[96], why[256];

		memset(t, 0, sizeof(*t));
		if (config_setting_type(g) != CONFIG_TYPE_GROUP)
			return where(err, errlen, g, "unsubscribe.lists", "entry "
			    "%d must be a group", i + 1);
		for (int k = 0; k < config_setting_length(g); k++) {
			const config_setting_t *f = config_setting_get_elem(g,
			    (unsigned)k);
			const char *name = config_setting_name(f), *v;
			int j;

			snprintf(path, sizeof(path), "unsubscribe.lists[%d].%s", i,
			    name);
			for (j = 0; names[j] != NULL; j++)
				if (strcmp(names[j], name) == 0)
					break;
			if (names[j] == NULL)
				return where(err, errlen, f, path, "unknown key "
				    "(expected list, url, mailto, list_url)");
			if (config_setting_type(f) != CONFIG_TYPE_STRING ||
			    strlen(v = config_setting_get_string(f)) >=
			    CONFIG_URL_MAX)
				return where(err, errlen, f, path, "must be a string "
				    "of at most %d octets", CONFIG_URL_MAX - 1);
			if ((j == 0 && record_list_norm(v, t->list, why,
			    sizeof(why)) == -1) ||
			    (j == 1 && check_tmpl(v, "https", why, sizeof(why))) ||
			    (j == 2 && check_tmpl(v, "mailto", why, sizeof(why))) ||
			    (j == 3 && check_tmpl(v, "https", why, sizeof(why))))
				return where(err, errlen, f, path, "%s", why);
			if (j == 1)
				util_strlcpy(t->url, v, sizeof(t->url));
			else if (j == 2)
				util_strlcpy(t->mailto, v, sizeof(t->mailto));
			else if (j == 3)
				util_strlcpy(t->list_url, v, sizeof(t->list_url));
		}
		if (t->list[0] == '\0')
			return where(err, errlen, g, "unsubscribe.lists", "entry %d "
			    "names no list", i + 1);
		c->lu_nlists++;
	}
	return 0;
}

/* One feedback rule: { status = "5.4.1"; diagnostic = "..."; class = "hard"; } */
static int
apply_fb_rule(const config_setting_t *g, unsigned idx, struct fbclass_rule *ru,
    char *err, size_t errlen)
{
	static const char *const names[] = { "status", "diagnostic", "class",
	    NULL };
	char path[96], buf[FBCLASS_DIAG_MAX];
	int cls = -1;

	memset(ru, 0, sizeof(*ru));
	ru->line = (int)config_setting_source_line(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return where(err, errlen, g, "feedback.rules", "rule %u must be "
		    "a group { ... }", idx + 1);
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *f = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(f);
		int k;

		for (k = 0; names[k] != NULL; k++)
			if (strcmp(names[k], name) == 0)
				break;
		snprintf(path, sizeof(path), "feedback.rules[%u].%s", idx, name);
		if (names[k] == NULL)
			return where(err, errlen, f, path, "unknown key (expected "
			    "status, diagnostic, class)");
		if (rule_str(f, path, buf, sizeof(buf), err, errlen) == -1)
			return -1;
		if (k == 0 && (strlen(buf) >= sizeof(ru->status) ||
		    fbclass_status_check(buf) == -1))
			return where(err, errlen, f, path, "\"%s\" is not a status "
			    "code or pattern such as 5.1.1, 5.7.* or 4.*", buf);
		if (k == 0)
			util_strlcpy(ru->status, buf, sizeof(ru->status));
		else if (k == 1)
			util_strlcpy(ru->diag, buf, sizeof(ru->diag));
		else if ((cls = fbclass_parse(buf)) == -1)
			return where(err, errlen, f, path, "unknown class \"%s\" "
			    "(expected hard, soft, policy, ignore)", buf);
	}
	if (cls == -1)
		return where(err, errlen, g, "feedback.rules", "rule %u has no "
		    "class", idx + 1);
	if (ru->status[0] == '\0' && ru->diag[0] == '\0')
		return where(err, errlen, g, "feedback.rules", "rule %u matches "
		    "everything: give it a status, a diagnostic or both", idx + 1);
	ru->class_ = cls;
	return 0;
}

static int
apply_fb_rules(struct config *c, const config_setting_t *s, char *err,
    size_t errlen)
{
	int n;

	if (config_setting_type(s) != CONFIG_TYPE_LIST)
		return where(err, errlen, s, "feedback.rules", "must be a list "
		    "( { status = \"5.4.1\"; class = \"hard\"; }, ... )");
	if ((n = config_setting_length(s)) > FBCLASS_RULES_MAX)
		return where(err, errlen, s, "feedback.rules", "more than %d rules",
		    FBCLASS_RULES_MAX);
	c->fb_rules.nrules = 0;
	for (int i = 0; i < n; i++) {
		if (apply_fb_rule(config_setting_get_elem(s, (unsigned)i),
		    (unsigned)i, &c->fb_rules.rules[i], err, errlen) == -1)
			return -1;
		c->fb_rules.nrules++;
	}
	return 0;
}

/* apply_mode - an octal file mode, in quotes since libconfig has none. */
static int
apply_mode(struct config *c, const struct ckey *k, const config_setting_t *s,
    char *err, size_t errlen)
{
	const char *v;
	char *end;
	long m;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return where(err, errlen, s, k->path, "must be an octal "
		    "mode in quotes, such as \"0660\"");
	v = config_setting_get_string(s);
	m = strtol(v, &end, 8);
	if (*v == '\0' || *end != '\0' || m < 0 || m > k->max)
		return where(err, errlen, s, k->path, "\"%s\" is not an "
		    "octal mode such as \"0660\"", v);
	if (m & 02)
		return where(err, errlen, s, k->path, "a world-writable "
		    "socket lets anyone bypass the filter");
	*(int *)(void *)((char *)c + k->off) = (int)m;
	return 0;
}

/* apply_enum - one of k->enums, stored as its index. */
static int
apply_enum(struct config *c, const struct ckey *k, const config_setting_t *s,
    char *err, size_t errlen)
{
	const char *v;
	int i, t = config_setting_type(s);

	if (t != CONFIG_TYPE_STRING)
		return where(err, errlen, s, k->path, "must be a string, "
		    "not %s", type_name(t));
	v = config_setting_get_string(s);
	for (i = 0; k->enums[i] != NULL; i++)
		if (strcmp(k->enums[i], v) == 0)
			break;
	if (k->enums[i] == NULL) {
		char list[256] = "";

		for (int j = 0; k->enums[j] != NULL; j++) {
			strncat(list, j ? ", " : "", sizeof(list) - strlen(list) - 1);
			strncat(list, k->enums[j], sizeof(list) - strlen(list) - 1);
		}
		return where(err, errlen, s, k->path, "unknown value "
		    "\"%s\" (expected %s)", v, list);
	}
	*(int *)(void *)((char *)c + k->off) = i;
	return 0;
}

/* apply_key - the value of one known key, checked, into c. */
static int
apply_key(struct config *c, const struct ckey *k, const config_setting_t *s,
    char *err, size_t errlen)
{
	char *base = (char *)c;
	int t = config_setting_type(s);

	switch (k->type) {
	case K_STR: {
		const char *v;

		if (t != CONFIG_TYPE_STRING)
			return where(err, errlen, s, k->path, "must be a string, "
			    "not %s", type_name(t));
		v = config_setting_get_string(s);
		if (strlen(v) >= k->size)
			return where(err, errlen, s, k->path, "longer than %zu "
			    "octets", k->size - 1);
		if (k->min > 0 && v[0] == '\0')
			return where(err, errlen, s, k->path, "must not be empty");
		memcpy(base + k->off, v, strlen(v) + 1);
		break;
	}
	case K_INT: {
		long long v;

		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			return where(err, errlen, s, k->path, "must be an integer, "
			    "not %s", type_name(t));
		v = config_setting_get_int64(s);
		if (v < k->min || v > k->max)
			return where(err, errlen, s, k->path, "%lld is out of "
			    "range (%lld to %lld)", v, k->min, k->max);
		*(int *)(base + k->off) = (int)v;
		break;
	}
	case K_BOOL: {
		int v;

		if (t != CONFIG_TYPE_BOOL)
			return where(err, errlen, s, k->path, "must be true or "
			    "false, not %s", type_name(t));
		v = config_setting_get_bool(s);
		*(int *)(base + k->off) = v;
		break;
	}
	case K_MODE:
		if (apply_mode(c, k, s, err, errlen) == -1)
			return -1;
		break;
	case K_RULES:
		if (apply_rules(c, s, err, errlen) == -1)
			return -1;
		break;
	case K_KEYS:
		if (apply_keys(c, s, err, errlen) == -1)
			return -1;
		break;
	case K_LULISTS:
		if (apply_lu_lists(c, s, err, errlen) == -1)
			return -1;
		break;
	case K_FBRULES:
		if (apply_fb_rules(c, s, err, errlen) == -1)
			return -1;
		break;
	case K_ENUM:
		if (apply_enum(c, k, s, err, errlen) == -1)
			return -1;
		break;
	}
	if (k->post != NULL) {
		char why[256];

		if (k->post(c, why, sizeof(why)) == -1)
			return where(err, errlen, s, k->path, "%s", why);
	}
	return 0;
}

/* Walk a group: every member must be a known key or a known section. */
static int
walk(struct config *c, const config_setting_t *g, const char *prefix,
    char *err, size_t errlen)
{
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		char path[256];
		size_t j, plen;
		int section = 0;

		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "",
		    name ? name : "?");
		plen = strlen(path);
		for (j = 0; j < sizeof(keys) / sizeof(keys[0]); j++) {
			if (strcmp(keys[j].path, path) == 0)
				break;
			if (strncmp(keys[j].path, path, plen) == 0 &&
			    keys[j].path[plen] == '.')
				section = 1;
		}
		if (j < sizeof(keys) / sizeof(keys[0])) {
			if (apply_key(c, &keys[j], s, err, errlen) == -1)
				return -1;
			continue;
		}
		if (!section)
			return where(err, errlen, s, path, "unknown key");
		if (config_setting_type(s) != CONFIG_TYPE_GROUP)
			return where(err, errlen, s, path, "must be a group "
			    "{ ... }, not %s", type_name(config_setting_type(s)));
		if (walk(c, s, path, err, errlen) == -1)
			return -1;
	}
	return 0;
}

static int
load(struct config *c, config_t *cf, int ok, const char *name, char *err,
    size_t errlen)
{
	int rc;

	if (!ok) {
		if (config_error_type(cf) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read the file", name);
		else
			snprintf(err, errlen, "%s:%d: %s",
			    config_error_file(cf) ? config_error_file(cf) : name,
			    config_error_line(cf), config_error_text(cf));
		config_destroy(cf);
		return -1;
	}
	rc = walk(c, config_root_setting(cf), "", err, errlen);
	config_destroy(cf);
	config_finish(c);
	if (rc == 0)
		rc = config_check(c, err, errlen);
	return rc;
}

int
config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	config_t cf;

	config_defaults(c);
	util_strlcpy(c->file, path, sizeof(c->file));
	config_init(&cf);
	return load(c, &cf, config_read_file(&cf, path) == CONFIG_TRUE, path,
	    err, errlen);
}

int
config_load_string(struct config *c, const char *text, char *err,
    size_t errlen)
{
	config_t cf;

	config_defaults(c);
	config_init(&cf);
	return load(c, &cf, config_read_string(&cf, text) == CONFIG_TRUE,
	    "(string)", err, errlen);
}
