/* safefile.c -- trust checks on directories and files (safefile.h).
 *
 * The rule is the one OpenSSH applies to authorized_keys and sudo to its
 * plugins: a place is trusted when only we (or root) can change it, all the
 * way up to /. An ancestor anyone may write to is still fine when it is
 * sticky, because then nobody but its owner can rename or replace our entry
 * in it. Everything is checked with lstat, so a symbolic link where a file
 * should be is seen, never followed; the directory itself may be reached
 * through a link (stat), since what matters is whose the target is.
 */
#include "safefile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int s_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* "user 1001" for a uid; good enough for a message and needs no NSS. */
static const char *s_uid(unsigned uid, char *buf, size_t cap)
{
    snprintf(buf, cap, "uid %u", uid);
    return buf;
}

/* One ancestor directory: owned by root or us, and not writable by others
 * unless sticky. */
static int s_check_ancestor(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        int e = errno;
        return s_err(err, errlen, "cannot check %s: %s", dir, strerror(e));
    }
    char u[32];
    if (st.st_uid != 0 && st.st_uid != geteuid())
        return s_err(err, errlen,
                     "%s is owned by %s, not by root or the user tipd runs as, who could "
                     "replace what is in it",
                     dir, s_uid((unsigned)st.st_uid, u, sizeof u));
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
        return s_err(err, errlen,
                     "%s is writable by other users (mode %04o) and not sticky, so they could "
                     "replace what is in it; run chmod go-w %s",
                     dir, (unsigned)(st.st_mode & 07777), dir);
    return 0;
}

int safefile_check_parents(const char *path, char *err, size_t errlen)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return s_err(err, errlen, "path '%s' is empty or too long", path);
    memcpy(buf, path, n + 1);
    if (buf[0] != '/') {
        /* A relative path: its ancestors are the working directory's. */
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd)) {
            int e = errno;
            return s_err(err, errlen, "cannot find the working directory: %s", strerror(e));
        }
        int k = snprintf(buf, sizeof buf, "%s/%s", cwd, path);
        if (k < 0 || (size_t)k >= sizeof buf)
            return s_err(err, errlen, "path %s is too long", path);
    }
    /* Walk up from the parent to /, skipping names that do not exist yet. */
    for (;;) {
        char *slash = strrchr(buf, '/');
        if (!slash) break;
        if (slash == buf) {
            buf[1] = '\0';
            return s_check_ancestor(buf, err, errlen);
        }
        *slash = '\0';
        struct stat st;
        if (stat(buf, &st) != 0 && errno == ENOENT) continue;
        if (s_check_ancestor(buf, err, errlen) < 0) return -1;
    }
    return 0;
}

int safefile_check_dir(const char *path, const char *what, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        return s_err(err, errlen, "cannot check %s %s: %s", what, path, strerror(e));
    }
    if (!S_ISDIR(st.st_mode)) return s_err(err, errlen, "%s %s is not a directory", what, path);
    char u[32], me[32];
    if (st.st_uid != geteuid())
        return s_err(err, errlen,
                     "%s %s is owned by %s, not by the user tipd runs as (%s); another user's "
                     "directory could hold planted keys or links (chown it, or run tipd as its "
                     "owner)",
                     what, path, s_uid((unsigned)st.st_uid, u, sizeof u),
                     s_uid((unsigned)geteuid(), me, sizeof me));
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return s_err(err, errlen,
                     "%s %s is writable by other users (mode %04o), who could plant keys or "
                     "links in it; run chmod 700 %s",
                     what, path, (unsigned)(st.st_mode & 07777), path);
    return safefile_check_parents(path, err, errlen);
}

int safefile_check_entry(const char *dir, const char *name, char *err, size_t errlen)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return s_err(err, errlen, "path %s/%s is too long", dir, name);
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT) return 0;
        int e = errno;
        return s_err(err, errlen, "cannot check %s: %s", path, strerror(e));
    }
    if (S_ISLNK(st.st_mode))
        return s_err(err, errlen,
                     "%s is a symbolic link; tipd does not follow links in its data directory "
                     "(remove it)",
                     path);
    if (!S_ISREG(st.st_mode)) return s_err(err, errlen, "%s is not a regular file", path);
    char u[32], me[32];
    if (st.st_uid != geteuid())
        return s_err(err, errlen, "%s is owned by %s, not by the user tipd runs as (%s)", path,
                     s_uid((unsigned)st.st_uid, u, sizeof u),
                     s_uid((unsigned)geteuid(), me, sizeof me));
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return s_err(err, errlen, "%s is writable by other users (mode %04o); run chmod 600 %s",
                     path, (unsigned)(st.st_mode & 07777), path);
    return 0;
}

int safefile_check_entries(const char *dir, const char *const *names, char *err, size_t errlen)
{
    for (size_t i = 0; names[i]; i++)
        if (safefile_check_entry(dir, names[i], err, errlen) < 0) return -1;
    return 0;
}
