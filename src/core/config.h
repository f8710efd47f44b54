/*
 * config.h - the configuration: libconfig file -> one typed, validated,
 * immutable struct.  Unknown keys, wrong types and values out of range are
 * errors naming the file, the line and the key.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/classify.h"
#include "core/fbclass.h"
#include "core/policy.h"

#define CONFIG_DEFAULT_PATH	"/etc/consent-milter/consent-milter.conf"
#define CONFIG_PATH_MAX		1024
#define CONFIG_URL_MAX		512
#define CONFIG_KEYS_MAX		16
#define CONFIG_LU_LISTS_MAX	64
#define CONFIG_CONNINFO_MAX	512
#define CONFIG_HOST_MAX		64

/* The sync section: the fleet journal in PostgreSQL (README, "Fleet"). */
struct sync_conf {
	int	enabled;			/* derived: conninfo is set */
	int	seen;				/* derived: some sync key is set */
	char	conninfo[CONFIG_CONNINFO_MAX];	/* libpq: where replicas read */
	char	writer_conninfo[CONFIG_CONNINFO_MAX];	/* where writers insert;
						   "" for conninfo */
	char	host_id[CONFIG_HOST_MAX + 1];	/* this host; default hostname */
	char	max_lag_s[16];			/* as written: "24h" */
	int64_t	max_lag;			/* derived: seconds */
	char	poll_s[16];			/* as written: "10s" */
	int64_t	poll;				/* derived: seconds */
	int	batch;				/* rows per store transaction */
	char	user[64];			/* consent-syncd runs as */
	char	pid_file[CONFIG_PATH_MAX];
};

/* Unsubscribe templates: the defaults, or one list's own. */
struct listunsub_templates {
	char	list[REC_LIST_MAX + 1];		/* "" for the defaults */
	char	url[CONFIG_URL_MAX];		/* https://...%t... */
	char	mailto[CONFIG_URL_MAX];		/* mailto:...%t..., or "" */
	char	list_url[CONFIG_URL_MAX];	/* several recipients: no %t */
};

struct config {
	char	file[CONFIG_PATH_MAX];		/* "" when built from defaults */

	/* store */
	char	store_path[CONFIG_PATH_MAX];
	int	map_size_mb;			/* initial map, for a new store */
	int	import_memory_mb;		/* consentctl import's sort budget */
	int	case_sensitive;			/* local parts keep their case */
	uint64_t map_size;			/* derived: bytes */
	int	addr_flags;			/* derived: ADDR_* */
	char	delims[8];			/* recipient delimiters */

	/* policy */
	struct policy_conf policy;
	char	default_list[REC_LIST_MAX + 1];

	/* milter */
	char	socket[CONFIG_PATH_MAX];	/* unix:/path or inet:port@host */
	int	socket_mode;			/* of a unix socket */
	char	socket_group[64];		/* group of a unix socket, "" keeps it */
	char	user[64];			/* to run as, "" stays */
	char	pid_file[CONFIG_PATH_MAX];
	int	timeout;			/* seconds, MTA I/O */
	int	shutdown_timeout;		/* seconds to finish sessions at SIGTERM */
	int	one_rcpt_per_msg;		/* 452 4.5.3 to a second bulk recipient */
	int	max_recipients;			/* per message, beyond: 452 4.5.3 */

	/* classification */
	struct classify_conf classify;

	/* audit trail */
	char	audit_file[CONFIG_PATH_MAX];	/* "" for none */
	char	audit_key_file[CONFIG_PATH_MAX];
	int	audit_pseudonymize;
	int	audit_fail_closed;
	char	audit_seal_key[CONFIG_PATH_MAX];	/* "" for no sealing */
	char	audit_seal_interval_s[16];	/* as written: "15m" */
	int64_t	audit_seal_interval;		/* derived: seconds */
	char	audit_checkpoints[CONFIG_PATH_MAX];	/* the witness copy, or "" */

	/* List-Unsubscribe headers and the one-click endpoint */
	int	lu_enable;
	unsigned lu_nkeys;
	struct { unsigned id; char file[CONFIG_PATH_MAX]; } lu_keys[CONFIG_KEYS_MAX];
	char	lu_lifetime_s[16];		/* as written: "90d" */
	int64_t	lu_lifetime;			/* derived: seconds */
	int	lu_keep_existing;		/* "keep" rather than "replace" */
	struct listunsub_templates lu_default;
	unsigned lu_nlists;
	struct listunsub_templates lu_lists[CONFIG_LU_LISTS_MAX];
	char	unsubd_listen[128];		/* host:port */
	char	unsubd_trusted[256];		/* proxies whose X-Forwarded-For counts */
	char	unsubd_tls_cert[CONFIG_PATH_MAX];
	char	unsubd_tls_key[CONFIG_PATH_MAX];
	char	unsubd_user[64];
	char	unsubd_org[128];		/* shown on the pages */
	int	unsubd_max_conns;		/* connections at once */
	int	unsubd_max_per_client;		/* of one client; 0: no cap */
	int	unsubd_request_timeout;		/* seconds for a whole request */

	/* Double opt-in confirmation links (consentctl optin, consent-unsubd) */
	char	optin_url[CONFIG_URL_MAX];	/* "https://example.com/c/%t" */
	char	optin_lifetime_s[16];		/* as written: "7d" */
	int64_t	optin_lifetime;			/* derived: seconds */

	/* Prometheus metrics: off unless a listener is set */
	char	metrics_listen[128];		/* consent-milter's, host:port */
	char	metrics_unsubd_listen[128];	/* consent-unsubd's */
	int	metrics_max_lists;		/* list labels kept; others "other" */

	/* feedback: bounces and complaints (consentctl feedback) */
	char	fb_queue_dir[CONFIG_PATH_MAX];	/* reports kept for review */
	int	fb_queue_max;			/* reports in the queue at most */
	char	fb_queue_retention_s[16];	/* "90d": seen reports kept */
	int64_t	fb_queue_retention;		/* derived: seconds */
	int	fb_soft_threshold;		/* soft bounces that suppress... */
	char	fb_soft_window_s[16];		/* ...within this long */
	int64_t	fb_soft_window;
	char	fb_soft_expires_s[16];		/* for this long */
	int64_t	fb_soft_expires;
	int	fb_sign_return_path;		/* the milter signs MAIL FROM */
	char	fb_rp_window_s[16];		/* a signed return path's life */
	int64_t	fb_rp_window;
	struct fbclass_conf fb_rules;		/* the operator's, before the built-in */
	char	fb_audit_file[CONFIG_PATH_MAX];	/* feedback lines, chained; "" none */

	/* actions, per deny reason */
	int	action[PR_MAX_];		/* derived: ACTION_* per deny reason */
	int	action_cfg[PR_MAX_];		/* as set in the file, or -1 */
	int	action_default;			/* for reasons not set */
	char	redirect_to[ADDR_MAX + 1];

	/* the fleet journal; sync.enabled = 0: the local store alone */
	struct sync_conf sync;
};

#define ACTION_REJECT		0
#define ACTION_DROP		1
#define ACTION_REDIRECT		2
#define ACTION_TAG		3
#define ACTION_QUARANTINE	4

const char *config_action_name(int);

/*
 * config_socket_path - the path of a milter socket spec ("unix:PATH",
 * "local:PATH", or a bare absolute path), pointing into spec; NULL for
 * an inet socket.
 */
const char *config_socket_path(const char *spec);

/* config_defaults - fill c with the built-in defaults. */
void	config_defaults(struct config *c);

/*
 * config_load - defaults, then the file at path.  Returns 0, or -1 with
 * "file:line: key: what is wrong" in err.
 */
int	config_load(struct config *c, const char *path, char *err, size_t errlen);

/* config_load_string - the same from a string (tests). */
int	config_load_string(struct config *c, const char *text, char *err,
	    size_t errlen);

#endif
