/*
 * fbqueue.c - the review queue (see fbqueue.h): plain files, written
 * whole or not at all.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl/fbqueue.h"
#include "util/util.h"

#define META_MAX	4096	/* octets of a meta file */
#define LIST_MAX	1000000	/* reports listed at most */

/* id_ok - 1 if id is one fbq_add makes: no path can hide in it. */
static int
id_ok(const char *id)
{
	if (strlen(id) != FBQ_ID_LEN || id[8] != 'T' || id[15] != 'Z' ||
	    id[16] != '-')
		return 0;
	for (int i = 0; i < FBQ_ID_LEN; i++) {
		char c = id[i];

		if (i == 8 || i == 15 || i == 16)
			continue;
		if (!((c >= '0' && c <= '9') || (i > 16 && c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

/* path_of - dir/id.ext into buf; -1 if it does not fit. */
static int
path_of(char *buf, size_t len, const char *dir, const char *id,
    const char *ext)
{
	int n = snprintf(buf, len, "%s/%s.%s", dir, id, ext);

	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* write_file - data into path, through path.tmp, synced, renamed. */
static int
write_file(const char *path, const char *data, size_t len, char *err,
    size_t errlen)
{
	char tmp[4200];
	size_t off = 0;
	ssize_t w;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0640)) == -1)
		return util_fail(err, errlen, "%s: %s", tmp, strerror(errno));
	while (off < len) {
		if ((w = write(fd, data + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)w;
	}
	if (off < len || fsync(fd) == -1) {
		util_fail(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		util_fail(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* sync_dir - make the renames in dir durable. */
static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd != -1) {
		(void)fsync(fd);
		close(fd);
	}
}

/* meta_text - m as the lines of a meta file into buf; its length. */
static size_t
meta_text(const struct fbq_meta *m, char *buf, size_t len)
{
	int n = snprintf(buf, len, "v=1\ntime=%lld\nseen=%lld\nkind=%s\n"
	    "size=%zu\ntruncated=%d\nfrom=%s\nsubject=%s\nrcpts=%s\nreason=%s\n",
	    (long long)m->time, (long long)m->seen, m->kind, m->size,
	    m->truncated, m->from, m->subject, m->rcpts, m->reason);

	return n > 0 && (size_t)n < len ? (size_t)n : len - 1;
}

/* meta_field - one "name=value" line into m. */
static void
meta_field(struct fbq_meta *m, const char *name, const char *v)
{
	if (strcmp(name, "time") == 0)
		m->time = strtoll(v, NULL, 10);
	else if (strcmp(name, "seen") == 0)
		m->seen = strtoll(v, NULL, 10);
	else if (strcmp(name, "kind") == 0)
		util_strlcpy(m->kind, v, sizeof(m->kind));
	else if (strcmp(name, "size") == 0)
		m->size = (size_t)strtoull(v, NULL, 10);
	else if (strcmp(name, "truncated") == 0)
		m->truncated = atoi(v);
	else if (strcmp(name, "from") == 0)
		util_strlcpy(m->from, v, sizeof(m->from));
	else if (strcmp(name, "subject") == 0)
		util_strlcpy(m->subject, v, sizeof(m->subject));
	else if (strcmp(name, "rcpts") == 0)
		util_strlcpy(m->rcpts, v, sizeof(m->rcpts));
	else if (strcmp(name, "reason") == 0)
		util_strlcpy(m->reason, v, sizeof(m->reason));
}

/* read_all - up to max octets of path into a buffer the caller frees. */
static int
read_all(const char *path, size_t max, char **bufp, size_t *lenp)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	size_t n;

	if (fp == NULL)
		return -1;
	if ((buf = malloc(max + 1)) == NULL) {
		fclose(fp);
		return -1;
	}
	n = fread(buf, 1, max, fp);
	if (ferror(fp)) {
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	buf[n] = '\0';
	*bufp = buf;
	*lenp = n;
	return 0;
}

/* meta_read - dir/id.meta into m: 1, 0 if absent, -1 with err. */
static int
meta_read(const char *dir, const char *id, struct fbq_meta *m, char *err,
    size_t errlen)
{
	char path[4200], *buf, *line, *save = NULL;
	size_t n;

	memset(m, 0, sizeof(*m));
	if (path_of(path, sizeof(path), dir, id, "meta") == -1)
		return util_fail(err, errlen, "%s: path too long", dir);
	if (read_all(path, META_MAX, &buf, &n) == -1)
		return errno == ENOENT ? 0 : util_fail(err, errlen, "%s: %s",
		    path, strerror(errno));
	util_strlcpy(m->id, id, sizeof(m->id));
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		meta_field(m, line, eq + 1);
	}
	free(buf);
	return 1;
}

/* meta_write - m into dir/m->id.meta. */
static int
meta_write(const char *dir, const struct fbq_meta *m, char *err, size_t errlen)
{
	char path[4200], text[META_MAX];
	size_t n = meta_text(m, text, sizeof(text));

	if (path_of(path, sizeof(path), dir, m->id, "meta") == -1)
		return util_fail(err, errlen, "%s: path too long", dir);
	return write_file(path, text, n, err, errlen);
}

/* id_cmp - qsort's order of ids: by time, as they are named. */
static int
id_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ids_free - what ids() made; NULL is a no-op. */
static void
ids_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The files a report may leave, whole or cut off by a crash. */
static const char *const purge_ext[] = { ".meta", ".eml", ".meta.tmp",
    ".eml.tmp", NULL };

/* id_of - the report id a directory entry belongs to, into id; 0 or -1. */
static int
id_of(const char *name, int any, char id[FBQ_ID_LEN + 1])
{
	size_t l = strlen(name);
	int i;

	if (l <= FBQ_ID_LEN)
		return -1;
	for (i = 0; purge_ext[i] != NULL; i++)
		if (strcmp(name + FBQ_ID_LEN, purge_ext[i]) == 0)
			break;
	if (purge_ext[i] == NULL || (i > 0 && !any))
		return -1;
	memcpy(id, name, FBQ_ID_LEN);
	id[FBQ_ID_LEN] = '\0';
	return id_ok(id) ? 0 : -1;
}

/*
 * ids - the report ids in dir, sorted, once each, into an array to free
 * (its strings too): those with a meta file, or with any == 1 those with
 * any file of a report (then never cut short: -1 out of memory).
 */
static int
ids(const char *dir, int any, char ***idsp, size_t *np, char *err,
    size_t errlen)
{
	DIR *d;
	struct dirent *e;
	char **v = NULL, id[FBQ_ID_LEN + 1];
	size_t n = 0, cap = 0, u = 0;
	int rc = 0;

	*idsp = NULL;
	*np = 0;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : util_fail(err, errlen, "%s: %s", dir,
		    strerror(errno));
	while ((e = readdir(d)) != NULL && (any || n < LIST_MAX)) {
		if (id_of(e->d_name, any, id) == -1)
			continue;
		if (n == cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 64) *
			    sizeof(*v));

			if (nv == NULL)
				goto oom;
			v = nv;
		}
		if ((v[n] = strdup(id)) == NULL)
			goto oom;
		n++;
	}
	if (0) {
oom:
		/* A short list would leave a report an erasure must remove. */
		if (any)
			rc = util_fail(err, errlen, "%s: out of memory", dir);
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), id_cmp);
	for (size_t i = 0; i < n; i++) {
		if (u > 0 && strcmp(v[u - 1], v[i]) == 0)
			free(v[i]);
		else
			v[u++] = v[i];
	}
	if (rc == -1) {
		ids_free(v, u);
		return -1;
	}
	*idsp = v;
	*np = u;
	return 0;
}

/* remove_files - both files of id; 1 if the meta file was there. */
static int
remove_files(const char *dir, const char *id, char *err, size_t errlen)
{
	char meta[4200], raw[4200];

	if (path_of(meta, sizeof(meta), dir, id, "meta") == -1 ||
	    path_of(raw, sizeof(raw), dir, id, "eml") == -1)
		return util_fail(err, errlen, "%s: path too long", dir);
	/* The meta file first: without it the report is gone. */
	if (unlink(meta) == -1) {
		if (errno == ENOENT)
			return 0;
		return util_fail(err, errlen, "%s: %s", meta, strerror(errno));
	}
	if (unlink(raw) == -1 && errno != ENOENT)
		return util_fail(err, errlen, "%s: %s", raw, strerror(errno));
	return 1;
}

/* purge_one - 1 if a file of report id says what names looks for. */
static int
purge_one(const char *dir, const char *id, int (*names)(const char *,
    size_t, void *), void *arg, char *err, size_t errlen)
{
	char path[4200], *buf;
	size_t n;

	for (int i = 0; purge_ext[i] != NULL; i++) {
		int hit;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s%s", dir, id,
		    purge_ext[i]) >= sizeof(path))
			return util_fail(err, errlen, "%s: path too long", dir);
		if (read_all(path, FBQ_RAW_MAX + META_MAX, &buf, &n) == -1) {
			if (errno == ENOENT)
				continue;
			return util_fail(err, errlen, "%s: %s", path,
			    strerror(errno));
		}
		hit = names(buf, n, arg);
		free(buf);
		if (hit)
			return 1;
	}
	return 0;
}

/* purge_remove - every file of report id, the meta file first. */
static int
purge_remove(const char *dir, const char *id, char *err, size_t errlen)
{
	char path[4200];

	for (int i = 0; purge_ext[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s%s", dir, id, purge_ext[i]);
		if (unlink(path) == -1 && errno != ENOENT)
			return util_fail(err, errlen, "%s: %s", path,
			    strerror(errno));
	}
	return 0;
}

int
fbq_naming(const char *dir, int (*names)(const char *, size_t, void *),
    void *arg, int (*fn)(const char *, void *), void *fnarg, char *err,
    size_t errlen)
{
	char **v;
	size_t n;
	int rc = 0, r;

	/* Every id that has any file, not only those listed: a raw file
	 * whose meta file a crash never wrote names the person too. */
	if (ids(dir, 1, &v, &n, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if ((r = purge_one(dir, v[i], names, arg, err, errlen)) == -1)
			rc = -1;
		else if (r == 1)
			rc = fn(v[i], fnarg);
	}
	ids_free(v, n);
	return rc;
}

/* The state of one purge, for purge_hit through fbq_naming. */
struct purge {
	const char	*dir;
	unsigned	 removed;
	char		*err;
	size_t		 errlen;
};

/* purge_hit - every file of report id goes; counted. */
static int
purge_hit(const char *id, void *arg)
{
	struct purge *pu = arg;

	if (purge_remove(pu->dir, id, pu->err, pu->errlen) == -1)
		return -1;
	pu->removed++;
	return 0;
}

int
fbq_purge(const char *dir, int (*names)(const char *, size_t, void *),
    void *arg, unsigned *removed, char *err, size_t errlen)
{
	struct purge pu = { dir, 0, err, errlen };
	int rc;

	rc = fbq_naming(dir, names, arg, purge_hit, &pu, err, errlen);
	*removed = pu.removed;
	if (pu.removed > 0)
		sync_dir(dir);
	return rc;
}

/* The state of one sweep, for sweep_one through fbq_list. */
struct sweep {
	const char	*dir;
	int64_t		 cutoff;	/* shown reports older than this go */
	unsigned	 removed;
	char		*err;
	size_t		 errlen;
};

/* sweep_one - remove m's files if it was shown and is past the cutoff. */
static int
sweep_one(const struct fbq_meta *m, void *arg)
{
	struct sweep *sw = arg;
	int r;

	if (m->seen == 0 || m->time >= sw->cutoff)
		return 0;
	if ((r = remove_files(sw->dir, m->id, sw->err, sw->errlen)) == -1)
		return -1;
	sw->removed += (unsigned)r;
	return 0;
}

int
fbq_sweep(const char *dir, int64_t now, int64_t retention, unsigned *removed,
    char *err, size_t errlen)
{
	struct sweep sw = { dir, now - retention, 0, err, errlen };
	int rc;

	rc = fbq_list(dir, sweep_one, &sw, err, errlen);
	*removed = sw.removed;
	return rc;
}

/* new_id - a fresh id for now into id. */
static void
new_id(int64_t now, char *id)
{
	time_t t = (time_t)now;
	struct tm tm;
	unsigned char rnd[4];
	char buf[80];

	gmtime_r(&t, &tm);
	randombytes_buf(rnd, sizeof(rnd));
	snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d%02d%02dZ-%02x%02x%02x%02x",
	    (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, rnd[0], rnd[1], rnd[2], rnd[3]);
	util_strlcpy(id, buf, FBQ_ID_LEN + 1);
}

int
fbq_add(const char *dir, unsigned max, int64_t retention, int64_t now,
    const char *raw, size_t len, size_t size, struct fbq_meta *m, char *err,
    size_t errlen)
{
	char path[4200], **v;
	size_t n;
	unsigned removed;

	if (mkdir(dir, 0750) == -1 && errno != EEXIST)
		return util_fail(err, errlen, "%s: %s", dir, strerror(errno));
	if (ids(dir, 0, &v, &n, err, errlen) == -1)
		return -1;
	ids_free(v, n);
	if (n >= max) {
		if (fbq_sweep(dir, now, retention, &removed, err, errlen) == -1)
			return -1;
		if (n - removed >= max)
			return util_fail(err, errlen, "%s: the review queue is full "
			    "(%u reports; feedback.queue_max): review them with "
			    "'consentctl feedback queue list'", dir, max);
	}
	m->time = now;
	m->seen = 0;
	m->size = size > len ? size : len;
	m->truncated = m->size > FBQ_RAW_MAX;
	new_id(now, m->id);
	if (path_of(path, sizeof(path), dir, m->id, "eml") == -1)
		return util_fail(err, errlen, "%s: path too long", dir);
	if (write_file(path, raw, len > FBQ_RAW_MAX ? FBQ_RAW_MAX : len, err,
	    errlen) == -1)
		return -1;
	if (meta_write(dir, m, err, errlen) == -1) {
		unlink(path);
		return -1;
	}
	sync_dir(dir);
	return 0;
}

int
fbq_list(const char *dir, int (*fn)(const struct fbq_meta *, void *),
    void *arg, char *err, size_t errlen)
{
	struct fbq_meta m;
	char **v;
	size_t n;
	int rc = 0;

	if (ids(dir, 0, &v, &n, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		int r = meta_read(dir, v[i], &m, err, errlen);

		if (r == -1)
			rc = -1;
		else if (r == 1)
			rc = fn(&m, arg);
	}
	ids_free(v, n);
	return rc;
}

int
fbq_get(const char *dir, const char *id, struct fbq_meta *m, char **rawp,
    size_t *lenp, char *err, size_t errlen)
{
	char path[4200];
	int rc;

	if (rawp != NULL)
		*rawp = NULL;
	if (!id_ok(id))
		return 0;
	if ((rc = meta_read(dir, id, m, err, errlen)) != 1 || rawp == NULL)
		return rc;
	if (path_of(path, sizeof(path), dir, id, "eml") == -1 ||
	    read_all(path, FBQ_RAW_MAX, rawp, lenp) == -1)
		return util_fail(err, errlen, "%s: %s", path, strerror(errno));
	return 1;
}

int
fbq_seen(const char *dir, const char *id, int64_t now, char *err,
    size_t errlen)
{
	struct fbq_meta m;
	int rc;

	if ((rc = fbq_get(dir, id, &m, NULL, NULL, err, errlen)) != 1)
		return rc == 0 ? util_fail(err, errlen, "no report %s", id) : -1;
	if (m.seen != 0)
		return 0;
	m.seen = now;
	if (meta_write(dir, &m, err, errlen) == -1)
		return -1;
	sync_dir(dir);
	return 0;
}

int
fbq_remove(const char *dir, const char *id, char *err, size_t errlen)
{
	int rc;

	if (!id_ok(id))
		return 0;
	if ((rc = remove_files(dir, id, err, errlen)) == 1)
		sync_dir(dir);
	return rc;
}
