/* test_ident.c -- identity, node key and network key files on a real disk.
 *
 * Every test works in its own mkdtemp() directory under $TMPDIR (or /tmp)
 * and removes what it made. Permission checks look at mode bits, so they
 * behave the same when the tests run as root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "event.h"
#include "ident.h"

typedef struct {
    char dir[256];
} s_tmp_t;

static int s_setup(void **state)
{
    s_tmp_t *t = calloc(1, sizeof *t);
    const char *base = getenv("TMPDIR");
    snprintf(t->dir, sizeof t->dir, "%s/tipd-ident-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(t->dir)) return -1;
    *state = t;
    return 0;
}

static int s_teardown(void **state)
{
    s_tmp_t *t = *state;
    char cmd[512];
    /* The directory name came from mkdtemp and holds no shell metacharacters. */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
    int rc = system(cmd);
    free(t);
    return rc == 0 ? 0 : -1;
}

static void s_write(const char *path, const char *data, size_t n, mode_t mode)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static size_t s_read(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static mode_t s_mode(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void test_home_env(void **state)
{
    (void)state;
    char out[256], err[256];
    setenv("TIP_HOME", "/x/tiphome", 1);
    setenv("XDG_CONFIG_HOME", "/x/xdg", 1);
    setenv("HOME", "/x/home", 1);
    assert_int_equal(ident_home(out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "/x/tiphome");
    unsetenv("TIP_HOME");
    assert_int_equal(ident_home(out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "/x/xdg/tip");
    setenv("XDG_CONFIG_HOME", "relative", 1); /* invalid per XDG: ignored */
    assert_int_equal(ident_home(out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "/x/home/.config/tip");
    unsetenv("XDG_CONFIG_HOME");
    assert_int_equal(ident_home(out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "/x/home/.config/tip");
    unsetenv("HOME");
    assert_int_equal(ident_home(out, sizeof out, err, sizeof err), -1);
    assert_non_null(strstr(err, "TIP_HOME"));
    setenv("HOME", "/x/home", 1);
    assert_int_equal(ident_home(out, 8, err, sizeof err), -1);
}

static void test_create_and_reload(void **state)
{
    s_tmp_t *t = *state;
    char home[512], path[600], err[512], buf[100];
    snprintf(home, sizeof home, "%s/a/b/tip", t->dir);
    snprintf(path, sizeof path, "%s/identity", home);
    mode_t old = umask(0); /* creation must not depend on the caller's umask */
    ident_t id, again;
    assert_int_equal(ident_load_or_create(home, &id, err, sizeof err), 0);
    umask(old);
    assert_int_equal(s_mode(home), 0700);
    assert_int_equal(s_mode(path), 0600);
    size_t n = s_read(path, buf, sizeof buf);
    assert_int_equal(n, 65);
    assert_int_equal(buf[64], '\n');
    for (int i = 0; i < 64; i++) assert_non_null(strchr("0123456789abcdef", buf[i]));
    /* The file holds the seed: the secret key's first half. */
    uint8_t seed[32];
    assert_int_equal(event_unhex(buf, seed, 32), 0);
    assert_memory_equal(seed, id.sk, 32);
    assert_memory_equal(id.pk, id.sk + 32, 32);

    assert_int_equal(ident_load_or_create(home, &again, err, sizeof err), 0);
    assert_memory_equal(&again, &id, sizeof id);
    assert_int_equal(ident_load(path, &again, err, sizeof err), 0);
    assert_memory_equal(&again, &id, sizeof id);

    /* A key that signs verifiably. */
    event_t *ev = calloc(1, sizeof *ev);
    event_init(ev, EVENT_PROFILE);
    ev->created_at = 1;
    assert_int_equal(event_set_title(ev, "me", 2), 0);
    assert_int_equal(event_sign(ev, id.sk), 0);
    assert_int_equal(event_verify(ev), 0);
    free(ev);

    /* No temporary files left behind. */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A '%s')\" = identity", home);
    assert_int_equal(system(cmd), 0);
}

static void test_node_key_path(void **state)
{
    s_tmp_t *t = *state;
    char path[600], err[1400];
    snprintf(path, sizeof path, "%s/data/node.key", t->dir);
    ident_t id, again;
    assert_int_equal(ident_load_or_create_path(path, &id, err, sizeof err), 0);
    assert_int_equal(s_mode(path), 0600);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/data", t->dir);
    assert_int_equal(s_mode(dir), 0700);
    assert_int_equal(ident_load_or_create_path(path, &again, err, sizeof err), 0);
    assert_memory_equal(&again, &id, sizeof id);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(ident_load_or_create_path(path, &again, err, sizeof err), -1);
    char want[1400];
    snprintf(want, sizeof want, "key file %s is readable by others (mode 0640); run chmod 600 %s",
             path, path);
    assert_string_equal(err, want);
}

/* Several processes creating the same identity at once all end up with the
 * one key that was written first: none overwrites another's file. */
static void test_concurrent_create(void **state)
{
    s_tmp_t *t = *state;
    char path[600];
    snprintf(path, sizeof path, "%s/race/identity", t->dir);
    enum { KIDS = 6 };
    int fds[KIDS][2];
    pid_t pids[KIDS];
    for (int k = 0; k < KIDS; k++) {
        assert_int_equal(pipe(fds[k]), 0);
        pids[k] = fork();
        assert_true(pids[k] >= 0);
        if (pids[k] == 0) {
            char err[1400];
            ident_t id;
            close(fds[k][0]);
            int rc = ident_load_or_create_path(path, &id, err, sizeof err);
            if (rc == 0 && write(fds[k][1], id.pk, 32) == 32) _exit(0);
            _exit(1);
        }
        close(fds[k][1]);
    }
    uint8_t pk[KIDS][32];
    for (int k = 0; k < KIDS; k++) {
        int status = 0;
        assert_int_equal(read(fds[k][0], pk[k], 32), 32);
        close(fds[k][0]);
        assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    for (int k = 1; k < KIDS; k++) assert_memory_equal(pk[k], pk[0], 32);
    ident_t id;
    char err[1400];
    assert_int_equal(ident_load(path, &id, err, sizeof err), 0);
    assert_memory_equal(id.pk, pk[0], 32);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A '%s/race')\" = identity", t->dir);
    assert_int_equal(system(cmd), 0);
}

static void test_refuse_readable(void **state)
{
    s_tmp_t *t = *state;
    char home[512], path[600], err[1400], want[1400];
    snprintf(home, sizeof home, "%s/tip", t->dir);
    snprintf(path, sizeof path, "%s/identity", home);
    ident_t id;
    assert_int_equal(ident_load_or_create(home, &id, err, sizeof err), 0);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(ident_load_or_create(home, &id, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "identity file %s is readable by others (mode 0644); run chmod 600 %s", path, path);
    assert_string_equal(err, want);
    assert_int_equal(ident_load(path, &id, err, sizeof err), -1);
    assert_string_equal(err, want);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(ident_load(path, &id, err, sizeof err), -1);
    assert_non_null(strstr(err, "(mode 0640)"));
    assert_int_equal(chmod(path, 0601), 0);
    assert_int_equal(ident_load(path, &id, err, sizeof err), -1);
    assert_int_equal(chmod(path, 0400), 0); /* read-only for the owner is fine */
    assert_int_equal(ident_load(path, &id, err, sizeof err), 0);
}

static void test_refuse_damaged(void **state)
{
    s_tmp_t *t = *state;
    char path[600], err[600];
    snprintf(path, sizeof path, "%s/identity", t->dir);
    ident_t id;
    char good[66];
    memset(good, 'a', 64);
    good[64] = '\n';
    good[65] = '\0';

    s_write(path, good, 30, 0600); /* truncated */
    assert_int_equal(ident_load(path, &id, err, sizeof err), -1);
    assert_non_null(strstr(err, "is damaged"));
    /* load_or_create must not replace a damaged key with a new one. */
    assert_int_equal(ident_load_or_create_path(path, &id, err, sizeof err), -1);
    char buf[100];
    assert_int_equal(s_read(path, buf, sizeof buf), 30);

    s_write(path, good, 64, 0600); /* no newline */
    assert_int_equal(ident_load(path, &id, err, sizeof err), -1);
    assert_non_null(strstr(err, "is damaged"));

    s_write(path, "aa", 2, 0600);
    char longer[80];
    memcpy(longer, good, 65);
    longer[65] = '\n';
    s_write(path, longer, 66, 0600); /* one byte too many */
    assert_int_equal(ident_load(path, &id, err, sizeof err), -1);

    char bad[66];
    memcpy(bad, good, 66);
    bad[10] = 'g';
    s_write(path, bad, 65, 0600);
    assert_int_equal(ident_load(path, &id, err, sizeof err), -1);
    assert_non_null(strstr(err, "not hex"));

    s_write(path, good, 65, 0600);
    assert_int_equal(ident_load(path, &id, err, sizeof err), 0);
    uint8_t seed[32];
    memset(seed, 0xaa, 32);
    assert_memory_equal(id.sk, seed, 32);

    char missing[700];
    snprintf(missing, sizeof missing, "%s/nope", t->dir);
    assert_int_equal(ident_load(missing, &id, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open"));

    assert_int_equal(ident_load(t->dir, &id, err, sizeof err), -1); /* a directory */
    assert_non_null(strstr(err, "not a regular file"));

    char fifo[700];
    snprintf(fifo, sizeof fifo, "%s/fifo", t->dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(ident_load(fifo, &id, err, sizeof err), -1); /* must not block */
    assert_non_null(strstr(err, "not a regular file"));
}

static void test_netkey(void **state)
{
    s_tmp_t *t = *state;
    char path[600], err[600], buf[100], buf2[100];
    snprintf(path, sizeof path, "%s/net.key", t->dir);
    uint8_t key[32], key2[32];
    assert_int_equal(ident_netkey_generate(path, err, sizeof err), 0);
    assert_int_equal(s_mode(path), 0600);
    assert_int_equal(s_read(path, buf, sizeof buf), 65);
    assert_int_equal(buf[64], '\n');
    assert_int_equal(ident_netkey_load(path, key, err, sizeof err), 0);
    assert_int_equal(event_unhex(buf, key2, 32), 0);
    assert_memory_equal(key, key2, 32);

    assert_int_equal(ident_netkey_generate(path, err, sizeof err), -1);
    assert_non_null(strstr(err, "already exists"));
    assert_int_equal(s_read(path, buf2, sizeof buf2), 65);
    assert_memory_equal(buf, buf2, 65);

    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(ident_netkey_load(path, key, err, sizeof err), -1);
    assert_non_null(strstr(err, "network key file"));
    assert_non_null(strstr(err, "run chmod 600"));

    char nodir[700];
    snprintf(nodir, sizeof nodir, "%s/missing/net.key", t->dir);
    assert_int_equal(ident_netkey_generate(nodir, err, sizeof err), -1);
}

static void test_net_id(void **state)
{
    (void)state;
    uint8_t key[32];
    char out[17];
    /* Expected values computed independently with Python's hashlib.blake2b. */
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)(i + 1);
    ident_net_id(key, out);
    assert_string_equal(out, "8c0a843564b53158");
    memset(key, 0, 32);
    ident_net_id(key, out);
    assert_string_equal(out, "35388e2eac2a6d01");
}

static void test_ephemeral_and_wipe(void **state)
{
    (void)state;
    ident_t a, b;
    ident_ephemeral(&a);
    ident_ephemeral(&b);
    assert_memory_not_equal(a.pk, b.pk, 32);
    assert_memory_equal(a.pk, a.sk + 32, 32);
    ident_wipe(&a);
    ident_t zero;
    memset(&zero, 0, sizeof zero);
    assert_memory_equal(&a, &zero, sizeof a);
    ident_wipe(NULL);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_home_env),
        cmocka_unit_test_setup_teardown(test_create_and_reload, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_node_key_path, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_create, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_refuse_readable, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_refuse_damaged, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_netkey, s_setup, s_teardown),
        cmocka_unit_test(test_net_id),
        cmocka_unit_test(test_ephemeral_and_wipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
