/* ident.c -- identities (Ed25519 seeds) and key files on disk.
 *
 * Every key file tipd uses -- the user's identity, the daemon's node key and
 * the network key -- has one shape: 32 secret bytes written as 64 lower-case
 * hex characters and a newline, mode 0600. One reader and one writer serve
 * them all.
 *
 * Writing never leaves a half-written or world-readable key behind: the
 * bytes go to a temporary file in the same directory, created O_EXCL with
 * mode 0600 and fsynced, which is then hard-linked to the final name. link()
 * fails if the name exists, so two processes creating an identity at the same
 * moment cannot overwrite each other (rename() would): the loser drops its
 * temporary file and loads the winner's key.
 *
 * Reading refuses anything that is not exactly a regular 65-byte file of hex
 * plus newline, and any file with a group or other permission bit, with a
 * sentence that says how to fix it.
 */
#include "ident.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"

#define S_KEY_LEN      32
#define S_KEYFILE_SIZE (2 * S_KEY_LEN + 1)

static int s_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write one sentence into err (if given); always returns -1. */
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

int ident_home(char *out, size_t cap, char *err, size_t errlen)
{
    const char *v = getenv("TIP_HOME");
    int n;
    if (v && *v) {
        n = snprintf(out, cap, "%s", v);
    } else if ((v = getenv("XDG_CONFIG_HOME")) && v[0] == '/') {
        /* The XDG spec says relative values are invalid and to be ignored. */
        n = snprintf(out, cap, "%s/tip", v);
    } else if ((v = getenv("HOME")) && *v) {
        n = snprintf(out, cap, "%s/.config/tip", v);
    } else {
        return s_err(err, errlen, "cannot find the tip home: set TIP_HOME or HOME");
    }
    if (n < 0 || (size_t)n >= cap) return s_err(err, errlen, "the tip home path is too long");
    return 0;
}

/* mkdir -p with mode 0700 for every directory it creates; existing ones are
 * left as they are. */
static int s_mkdirs(const char *dir, char *err, size_t errlen)
{
    char failed[256];
    if (path_mkdir_p(dir, 0700, failed, sizeof failed) == 0) return 0;
    int e = errno;
    if ((e == ENOENT && !dir[0]) || e == ENAMETOOLONG)
        return s_err(err, errlen, "directory path '%s' is empty or too long", dir);
    if (e == ENOTDIR && strcmp(failed, dir) == 0)
        return s_err(err, errlen, "%s is not a directory", dir);
    return s_err(err, errlen, "cannot create directory %s: %s", failed, strerror(e));
}

/* Read a key file: regular, no group/other bits, exactly 64 hex + '\n'.
 * what names the file in messages ("identity file", "network key file"). */
static int s_read_key(const char *path, const char *what, uint8_t key[S_KEY_LEN], char *err,
                      size_t errlen)
{
    /* O_NONBLOCK: a FIFO put in place of a key must not hang us before the
     * regular-file check; it has no effect on regular files. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return s_err(err, errlen, "cannot open %s %s: %s", what, path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return s_err(err, errlen, "%s %s is not a regular file", what, path);
    }
    if (st.st_mode & 077) {
        close(fd);
        return s_err(err, errlen, "%s %s is readable by others (mode %04o); run chmod 600 %s", what,
                     path, (unsigned)(st.st_mode & 07777), path);
    }
    char buf[S_KEYFILE_SIZE + 1];
    size_t got = 0;
    while (got < sizeof buf) {
        ssize_t r = read(fd, buf + got, sizeof buf - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return s_err(err, errlen, "cannot read %s %s: %s", what, path, strerror(e));
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != S_KEYFILE_SIZE || buf[S_KEYFILE_SIZE - 1] != '\n') {
        sodium_memzero(buf, sizeof buf);
        return s_err(err, errlen,
                     "%s %s is damaged: expected 64 hex characters and a newline (%d bytes)", what,
                     path, S_KEYFILE_SIZE);
    }
    int rc = event_unhex(buf, key, S_KEY_LEN);
    sodium_memzero(buf, sizeof buf);
    if (rc)
        return s_err(err, errlen, "%s %s is damaged: it holds characters that are not hex", what,
                     path);
    return 0;
}

/* Give the finished temporary file its final name without ever replacing
 * an existing file: link() where the filesystem has hard links, else
 * rename with RENAME_NOREPLACE. The temporary name is gone on success; on
 * failure errno says why (EEXIST: someone else's file is there). */
static int s_publish(const char *tmp, const char *path)
{
    if (link(tmp, path) == 0) {
        unlink(tmp);
        return 0;
    }
    if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS && errno != EMLINK) return -1;
    return renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
}

/* Write key to path as a new 0600 file, never replacing an existing one.
 * Returns 0, 1 if path already existed (nothing written), or -1. */
static int s_write_key(const char *path, const char *what, const uint8_t key[S_KEY_LEN], char *err,
                       size_t errlen)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return s_err(err, errlen, "%s path %s is too long", what, path);
    /* mkstemp creates O_EXCL with mode 0600 regardless of umask. */
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return s_err(err, errlen, "cannot create %s %s: %s", what, path, strerror(e));
    }
    char buf[S_KEYFILE_SIZE + 1];
    event_hex(key, S_KEY_LEN, buf);
    buf[S_KEYFILE_SIZE - 1] = '\n';
    size_t done = 0;
    int rc = 0, e = 0;
    while (done < S_KEYFILE_SIZE) {
        ssize_t w = write(fd, buf + done, S_KEYFILE_SIZE - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            rc = -1;
            break;
        }
        done += (size_t)w;
    }
    sodium_memzero(buf, sizeof buf);
    if (rc == 0 && (fchmod(fd, 0600) != 0 || fsync(fd) != 0)) {
        e = errno;
        rc = -1;
    }
    if (close(fd) != 0 && rc == 0) {
        e = errno;
        rc = -1;
    }
    if (rc != 0) {
        unlink(tmp);
        return s_err(err, errlen, "cannot write %s %s: %s", what, path, strerror(e));
    }
    if (s_publish(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        if (e == EEXIST) return 1;
        return s_err(err, errlen, "cannot create %s %s: %s", what, path, strerror(e));
    }
    /* Make the new name durable too. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* What to call an Ed25519 key file in messages: the user's identity file,
 * or (e.g. the daemon's node.key) just a key file. */
static const char *s_what(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strcmp(base, IDENT_FILE) == 0 ? "identity file" : "key file";
}

static void s_from_seed(ident_t *id, const uint8_t seed[S_KEY_LEN])
{
    crypto_sign_seed_keypair(id->pk, id->sk, seed);
}

int ident_load(const char *path, ident_t *id, char *err, size_t errlen)
{
    if (!path || !id) return s_err(err, errlen, "no identity file given");
    if (sodium_init() < 0) return s_err(err, errlen, "libsodium failed to initialise");
    uint8_t seed[S_KEY_LEN];
    if (s_read_key(path, s_what(path), seed, err, errlen)) return -1;
    s_from_seed(id, seed);
    sodium_memzero(seed, sizeof seed);
    return 0;
}

int ident_load_or_create_path(const char *path, ident_t *id, char *err, size_t errlen)
{
    if (!path || !id) return s_err(err, errlen, "no identity file given");
    if (sodium_init() < 0) return s_err(err, errlen, "libsodium failed to initialise");
    struct stat st;
    if (lstat(path, &st) == 0 || errno != ENOENT) return ident_load(path, id, err, errlen);

    char dir[4096];
    int n = snprintf(dir, sizeof dir, "%s", path);
    if (n < 0 || (size_t)n >= sizeof dir)
        return s_err(err, errlen, "identity file path %s is too long", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (s_mkdirs(dir, err, errlen)) return -1;
    }
    uint8_t seed[S_KEY_LEN];
    randombytes_buf(seed, sizeof seed);
    int rc = s_write_key(path, s_what(path), seed, err, errlen);
    if (rc == 0) s_from_seed(id, seed);
    sodium_memzero(seed, sizeof seed);
    if (rc == 1) /* someone else created it first: use theirs */
        return ident_load(path, id, err, errlen);
    return rc;
}

int ident_load_or_create(const char *dir, ident_t *id, char *err, size_t errlen)
{
    if (!dir || !*dir) return s_err(err, errlen, "no tip home directory given");
    if (s_mkdirs(dir, err, errlen)) return -1;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, IDENT_FILE);
    if (n < 0 || (size_t)n >= sizeof path)
        return s_err(err, errlen, "tip home path %s is too long", dir);
    return ident_load_or_create_path(path, id, err, errlen);
}

void ident_ephemeral(ident_t *id)
{
    if (sodium_init() < 0) abort(); /* no randomness source: nothing safe to sign with */
    crypto_sign_keypair(id->pk, id->sk);
}

void ident_wipe(ident_t *id)
{
    if (id) sodium_memzero(id, sizeof *id);
}

int ident_netkey_generate(const char *path, char *err, size_t errlen)
{
    if (!path || !*path) return s_err(err, errlen, "no network key file given");
    if (sodium_init() < 0) return s_err(err, errlen, "libsodium failed to initialise");
    uint8_t key[S_KEY_LEN];
    randombytes_buf(key, sizeof key);
    int rc = s_write_key(path, "network key file", key, err, errlen);
    sodium_memzero(key, sizeof key);
    if (rc == 1)
        return s_err(err, errlen, "network key file %s already exists; not overwriting it", path);
    return rc;
}

int ident_netkey_load(const char *path, uint8_t key[32], char *err, size_t errlen)
{
    if (!path || !key) return s_err(err, errlen, "no network key file given");
    return s_read_key(path, "network key file", key, err, errlen);
}

void ident_net_id(const uint8_t key[32], char out[17])
{
    static const char dom[] = "tipd-net-id"; /* sizeof includes the 0x00 */
    uint8_t h[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)dom, sizeof dom);
    crypto_generichash_update(&st, key, 32);
    crypto_generichash_final(&st, h, sizeof h);
    event_hex(h, 8, out);
}
