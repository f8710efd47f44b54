/*
 * lu.h - the List-Unsubscribe (RFC 2369) and List-Unsubscribe-Post
 * (RFC 8058) header values, from URL and mailto templates.
 *
 * Templates take %t (the token), %l (the list) and %% ; the token and list
 * are base64url and [a-z0-9._-], so nothing needs escaping, but the
 * templates themselves are checked: an https URL (one-click needs one), no
 * CR, LF, '<', '>', ',' or blanks inside a URI.  The value is folded only
 * between URIs and every line stays under 998 octets.
 */
#ifndef LU_H
#define LU_H

#include <stddef.h>

#define LU_HEADER	"List-Unsubscribe"
#define LU_POST_HEADER	"List-Unsubscribe-Post"
#define LU_POST_VALUE	"List-Unsubscribe=One-Click"
#define LU_VALUE_MAX	2048
#define LU_LINE_MAX	998	/* RFC 5322 2.1.1: lines are shorter */
#define LU_FOLD_AT	78	/* fold when the line would be longer */

/*
 * lu_template_check - 0 if tmpl is a usable template for scheme
 * ("https" or "mailto"), else -1 with err.
 */
int	lu_template_check(const char *tmpl, const char *scheme, char *err,
	    size_t errlen);

/*
 * lu_build - the List-Unsubscribe value for token and list into out:
 * "<https://...>, <mailto:...>", folded with "\n\t" between the URIs when
 * the line would pass 78 octets.  mailto_tmpl may be NULL or "".  Line
 * lengths count the "List-Unsubscribe: " before the value.  Both
 * templates are checked again, the token must be base64url and the list
 * [a-z0-9._-].  Returns the length, or -1 if a template or value is
 * refused, a URI would exceed the limits, or out is too small.
 */
int	lu_build(const char *url_tmpl, const char *mailto_tmpl, const char *token,
	    const char *list, char *out, size_t outlen);

/*
 * lu_expand - one template with %t, %l, %% expanded into out; the length,
 * or -1 for an unknown escape, a NULL value the template uses, or no room.
 * The values are copied as they are: lu_build is the one that checks.
 */
int	lu_expand(const char *tmpl, const char *token, const char *list,
	    char *out, size_t outlen);

#endif
