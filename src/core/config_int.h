/*
 * config_int.h - what config.c's schema table names from its helper
 * files: their checks after a value is stored (0, or -1 with err).
 * Private to src/core/config*.c.
 */
#ifndef CONFIG_INT_H
#define CONFIG_INT_H

#include <stddef.h>

struct config;

/* config_fb.c: the feedback section's durations. */
int	post_fb_retention(struct config *, char *, size_t);
int	post_fb_window(struct config *, char *, size_t);
int	post_fb_expires(struct config *, char *, size_t);
int	post_fb_rp_window(struct config *, char *, size_t);

#endif
