/* safefile.h -- trust checks for the directories and files a daemon keeps
 * its secrets and its store in.
 *
 * A file another local user can write, or a directory they can add entries
 * to, lets them plant a key tipd would sign with or a symbolic link it would
 * write through (as root, over any file). These checks refuse such places
 * before anything is opened, with one sentence that says what is wrong and
 * how to fix it. Once a directory passes, only its owner (us) and root can
 * change what is in it, so a later open cannot be raced.
 *
 * Functions return 0 or -1; on -1 they write one sentence into err.
 */
#ifndef TIPD_SAFEFILE_H
#define TIPD_SAFEFILE_H

#include <stddef.h>

/* PATH names an existing directory owned by the effective user, which no
 * group or other user may write to, and each of its ancestors is owned by
 * root or us and is not writable by others unless it is sticky (like /tmp).
 * what names it in messages ("data directory"). */
int safefile_check_dir(const char *path, const char *what, char *err, size_t errlen);

/* The ancestors of PATH (which need not exist yet) pass the ancestor rule
 * of safefile_check_dir: a directory created there later stays ours. */
int safefile_check_parents(const char *path, char *err, size_t errlen);

/* DIR/NAME is absent, or a regular file (not a symbolic link) owned by the
 * effective user and not writable by group or others. */
int safefile_check_entry(const char *dir, const char *name, char *err, size_t errlen);

/* Every name of the NULL-terminated list passes safefile_check_entry. */
int safefile_check_entries(const char *dir, const char *const *names, char *err, size_t errlen);

#endif
