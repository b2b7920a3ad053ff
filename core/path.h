/* path.h -- file-system paths: the one `mkdir -p` of tip and tipd. */
#ifndef TIPD_PATH_H
#define TIPD_PATH_H

#include <stddef.h>
#include <sys/types.h>

/* Create dir and every missing parent with mode (existing directories are
 * left as they are, whatever their mode). 0 when dir then is a directory;
 * -1 with errno set otherwise (ENAMETOOLONG, ENOTDIR, or mkdir's), and the
 * path that failed copied into failed[cap] when failed is not NULL. */
int path_mkdir_p(const char *dir, mode_t mode, char *failed, size_t cap);

#endif
