/* path.c -- `mkdir -p` for the data directory, the API socket's directory
 * and TIP_HOME.
 *
 * Each component is created in turn with the caller's mode; EEXIST is fine
 * (another process may race us, or the directory was there). The final
 * stat tells a directory from a file of the same name, which mkdir's EEXIST
 * would hide.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "path.h"

#define S_MAX_PATH 4096

static int s_fail(const char *what, char *failed, size_t cap, int err)
{
    if (failed && cap) snprintf(failed, cap, "%s", what);
    errno = err;
    return -1;
}

int path_mkdir_p(const char *dir, mode_t mode, char *failed, size_t cap)
{
    char buf[S_MAX_PATH];
    size_t n = dir ? strlen(dir) : 0;
    if (n == 0) return s_fail("", failed, cap, ENOENT);
    if (n >= sizeof buf) return s_fail(dir, failed, cap, ENAMETOOLONG);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST) return s_fail(buf, failed, cap, errno);
        buf[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) != 0) return s_fail(dir, failed, cap, errno);
    if (!S_ISDIR(st.st_mode)) return s_fail(dir, failed, cap, ENOTDIR);
    return 0;
}
