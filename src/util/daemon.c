/*
 * daemon.c - giving up root, shared by consent-milter and consent-unsubd.
 */
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "util/daemon.h"
#include "util/log.h"

void
daemon_drop_privileges(const struct passwd *pw)
{
	if (pw == NULL)
		return;
	if (setgroups(0, NULL) == -1 || initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1)
		fatal("cannot become user %s", pw->pw_name);
	/* Make sure there is no way back. */
	if (setuid(0) == 0)
		fatalx("privileges not dropped");
}
