/*
 * lines.c - the line reader (lines.h).  A partial line at the end of the
 * buffer is moved to its front before the next read; the buffer doubles
 * only for a line longer than itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/lines.h"

int
lines_init(struct lines *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if ((r->buf = malloc(cap)) == NULL)
		return -1;
	r->cap = cap;
	return 0;
}

void
lines_reset(struct lines *r, int fd)
{
	r->start = r->end = 0;
	r->eof = 0;
	r->fd = fd;
}

int
lines_next(struct lines *r, const char **line, size_t *len, int *nl)
{
	for (;;) {
		char *p = r->buf + r->start, *q;
		size_t avail = r->end - r->start;
		ssize_t n;

		if (avail > 0 && (q = memchr(p, '\n', avail)) != NULL) {
			*line = p;
			*len = (size_t)(q - p);
			*nl = 1;
			r->start += *len + 1;
			return 1;
		}
		if (r->eof) {
			if (avail == 0)
				return 0;
			*line = p;
			*len = avail;
			*nl = 0;
			r->start = r->end;
			return 1;
		}
		/* Keep the partial line; grow for a line longer than that. */
		if (r->start > 0) {
			memmove(r->buf, p, avail);
			r->start = 0;
			r->end = avail;
		}
		if (r->end == r->cap) {
			size_t cap = r->cap * 2;
			char *nb = realloc(r->buf, cap);

			if (nb == NULL) {
				errno = ENOMEM;
				return -1;
			}
			r->buf = nb;
			r->cap = cap;
		}
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			r->eof = 1;
		r->end += (size_t)n;
	}
}

void
lines_free(struct lines *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->start = r->end = 0;
}
