/*
 * lines.h - a line reader for files of millions of lines: one buffer,
 * refilled by read(2) and reused from file to file, lines handed out as
 * views into it.  Generic.
 */
#ifndef UTIL_LINES_H
#define UTIL_LINES_H

#include <stddef.h>

struct lines {
	char	*buf;
	size_t	cap, start, end;
	int	fd;
	int	eof;
};

/*
 * lines_init - a reader with a cap-octet buffer (it grows for a longer
 * line) and no file yet; 0, or -1 out of memory.  The buffer is the
 * reader's until lines_free().
 */
int	lines_init(struct lines *r, size_t cap);

/* lines_reset - read fd from here on; fd stays the caller's. */
void	lines_reset(struct lines *r, int fd);

/*
 * lines_next - the next line, without its newline, valid until the next
 * call; *nl is 0 for a last line without one.  1, 0 at the end, or -1
 * with errno (ENOMEM, or read(2)'s).
 */
int	lines_next(struct lines *r, const char **line, size_t *len, int *nl);

/* lines_free - the buffer; a zeroed or freed reader is a no-op. */
void	lines_free(struct lines *r);

#endif
