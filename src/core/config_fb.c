/*
 * config_fb.c - the feedback section's durations, checked and converted
 * after config.c stores them (config_int.h): the review queue's
 * retention, the soft-bounce window and expiry, the signed return path's
 * window.
 */
#include <stdio.h>

#include "core/config.h"
#include "core/config_int.h"
#include "util/time.h"

/* fb_duration - s as a duration of lo to hi seconds into *out. */
static int
fb_duration(const char *s, int64_t lo, int64_t hi, int64_t *out, char *err,
    size_t errlen)
{
	int64_t d;

	if (time_duration_parse(s, &d) == -1) {
		snprintf(err, errlen, "not a duration such as 7d or 12h");
		return -1;
	}
	if (d < lo || d > hi) {
		snprintf(err, errlen, "must be from %llds to %llds", (long long)lo,
		    (long long)hi);
		return -1;
	}
	*out = d;
	return 0;
}

/* post_fb_retention - feedback.queue_retention: a day to ten years. */
int
post_fb_retention(struct config *c, char *err, size_t errlen)
{
	return fb_duration(c->fb_queue_retention_s, 86400, 3650 * 86400LL,
	    &c->fb_queue_retention, err, errlen);
}

/* post_fb_window - feedback.soft_window: an hour to a year. */
int
post_fb_window(struct config *c, char *err, size_t errlen)
{
	return fb_duration(c->fb_soft_window_s, 3600, 365 * 86400LL,
	    &c->fb_soft_window, err, errlen);
}

/* post_fb_expires - feedback.soft_expires: an hour to ten years. */
int
post_fb_expires(struct config *c, char *err, size_t errlen)
{
	return fb_duration(c->fb_soft_expires_s, 3600, 3650 * 86400LL,
	    &c->fb_soft_expires, err, errlen);
}

/* post_fb_rp_window - feedback.return_path_window: a bounce may come
 * days late, so at least a day; at most 60. */
int
post_fb_rp_window(struct config *c, char *err, size_t errlen)
{
	return fb_duration(c->fb_rp_window_s, 86400, 60 * 86400LL,
	    &c->fb_rp_window, err, errlen);
}
