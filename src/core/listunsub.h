/*
 * listunsub.h - the List-Unsubscribe (RFC 2369) and List-Unsubscribe-Post
 * (RFC 8058) header values, from URL and mailto templates.
 *
 * Templates take %t (the token), %l (the list) and %% ; the token and list
 * are base64url and [a-z0-9._-], so nothing needs escaping, but the
 * templates themselves are checked: an https URL (one-click needs one), no
 * CR, LF, '<', '>', ',' or blanks inside a URI.  The value is folded only
 * between URIs and every line stays under 998 octets.
 */
#ifndef LISTUNSUB_H
#define LISTUNSUB_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/token.h"

#define LISTUNSUB_HEADER	"List-Unsubscribe"
#define LISTUNSUB_POST_HEADER	"List-Unsubscribe-Post"
#define LISTUNSUB_POST_VALUE	"List-Unsubscribe=One-Click"
#define LISTUNSUB_VALUE_MAX	2048
#define LISTUNSUB_LINE_MAX	998	/* RFC 5322 2.1.1: lines are shorter */
#define LISTUNSUB_FOLD_AT	78	/* fold when the line would be longer */

/*
 * listunsub_template_check - 0 if tmpl is a usable template for scheme
 * ("https" or "mailto"), else -1 with err.
 */
int	listunsub_template_check(const char *tmpl, const char *scheme, char *err,
	    size_t errlen);

/*
 * listunsub_build - the List-Unsubscribe value for token and list into out:
 * "<https://...>, <mailto:...>", folded with "\n\t" between the URIs when
 * the line would pass 78 octets.  mailto_tmpl may be NULL or "".  Line
 * lengths count the "List-Unsubscribe: " before the value.  Both
 * templates are checked again, the token must be base64url and the list
 * [a-z0-9._-].  Returns the length, or -1 if a template or value is
 * refused, a URI would exceed the limits, or out is too small.
 */
int	listunsub_build(const char *url_tmpl, const char *mailto_tmpl, const char *token,
	    const char *list, char *out, size_t outlen);

/*
 * listunsub_expand - one template with %t, %l, %% expanded into out; the length,
 * or -1 for an unknown escape, a NULL value the template uses, or no room.
 * The values are copied as they are: listunsub_build is the one that checks.
 */
int	listunsub_expand(const char *tmpl, const char *token, const char *list,
	    char *out, size_t outlen);

/* listunsub_templates - list's templates: its own where set, else the defaults. */
void	listunsub_templates(const struct config *cf, const char *list,
	    struct listunsub_templates *t);

/*
 * listunsub_header - the List-Unsubscribe value into out: with a token for
 * addr (a store key) on list, or, with addr NULL, the list-level link
 * (no token, not one-click).  *one_click says whether the
 * List-Unsubscribe-Post header belongs with it.  Returns the length,
 * 0 when nothing is configured for this case, -1 on error (err).
 */
int	listunsub_header(const struct config *cf, const struct token_ring *r,
	    const char *addr, const char *list, int64_t now, char *out,
	    size_t outlen, int *one_click, char *err, size_t errlen);

#endif
