/*
 * daemon.h - what both daemons do before they serve: give up root.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <pwd.h>

/*
 * daemon_drop_privileges - become pw's user and groups for good (NULL: stay
 * as we are).  Only before serving: exits through fatal() on failure.
 */
void	daemon_drop_privileges(const struct passwd *pw);

#endif
