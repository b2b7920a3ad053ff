/* test_safefile.c -- trust checks on directories and files (safefile.h).
 *
 * Each test builds the layout another local user could leave behind in its
 * own mkdtemp() directory under $TMPDIR (or /tmp, which is sticky, so the
 * temporary directory itself passes), checks the exact sentence, and removes
 * what it made. Ownership cases chown to nobody and run only as root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ident.h"
#include "safefile.h"

#define S_NOBODY 65534

typedef struct {
    char dir[256];
    char data[300];
} s_tmp_t;

static int s_setup(void **state)
{
    s_tmp_t *t = calloc(1, sizeof *t);
    const char *base = getenv("TMPDIR");
    snprintf(t->dir, sizeof t->dir, "%s/tipd-safe-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(t->dir)) return -1;
    snprintf(t->data, sizeof t->data, "%s/data", t->dir);
    if (mkdir(t->data, 0700) != 0) return -1;
    *state = t;
    return 0;
}

static int s_teardown(void **state)
{
    s_tmp_t *t = *state;
    char cmd[600];
    /* The directory name came from mkdtemp and holds no shell metacharacters. */
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s'; rm -rf '%s'", t->dir, t->dir);
    int rc = system(cmd);
    free(t);
    return rc == 0 ? 0 : -1;
}

static void s_touch(const char *path, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

/* A valid key file (64 times hex digit c, newline), mode 0600. */
static void s_write_key(const char *path, char c)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 64; i++) fputc(c, f);
    fputc('\n', f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0600), 0);
}

static void test_safe_dir_passes(void **state)
{
    s_tmp_t *t = *state;
    char err[1024] = "";
    assert_int_equal(safefile_check_dir(t->data, "data directory", err, sizeof err), 0);
    assert_int_equal(chmod(t->data, 0755), 0); /* readable is fine */
    assert_int_equal(safefile_check_dir(t->data, "data directory", err, sizeof err), 0);
}

static void test_writable_dir_refused(void **state)
{
    s_tmp_t *t = *state;
    char err[1024], want[1024];
    static const mode_t modes[] = {0777, 0770, 0702, 01777};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        assert_int_equal(chmod(t->data, modes[i]), 0);
        assert_int_equal(safefile_check_dir(t->data, "data directory", err, sizeof err), -1);
        snprintf(want, sizeof want,
                 "data directory %s is writable by other users (mode %04o), who could plant "
                 "keys or links in it; run chmod 700 %s",
                 t->data, (unsigned)modes[i], t->data);
        assert_string_equal(err, want);
    }
}

static void test_not_a_dir(void **state)
{
    s_tmp_t *t = *state;
    char path[400], err[1024], want[1024];
    snprintf(path, sizeof path, "%s/file", t->dir);
    s_touch(path, 0600);
    assert_int_equal(safefile_check_dir(path, "data directory", err, sizeof err), -1);
    snprintf(want, sizeof want, "data directory %s is not a directory", path);
    assert_string_equal(err, want);
}

static void test_entries(void **state)
{
    s_tmp_t *t = *state;
    char path[400], err[1024], want[1024];
    static const char *const names[] = {"node.key", "lock.mdb", NULL};
    /* absent entries are fine: they will be created */
    assert_int_equal(safefile_check_entries(t->data, names, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/lock.mdb", t->data);
    s_touch(path, 0600);
    assert_int_equal(safefile_check_entries(t->data, names, err, sizeof err), 0);
    assert_int_equal(chmod(path, 0666), 0);
    assert_int_equal(safefile_check_entries(t->data, names, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s is writable by other users (mode 0666); run chmod 600 %s", path,
             path);
    assert_string_equal(err, want);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    assert_int_equal(safefile_check_entries(t->data, names, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "%s is a symbolic link; tipd does not follow links in its data directory "
             "(remove it)",
             path);
    assert_string_equal(err, want);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(safefile_check_entries(t->data, names, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s is not a regular file", path);
    assert_string_equal(err, want);
}

static void test_parents(void **state)
{
    s_tmp_t *t = *state;
    char shared[400], data[500], err[1024], want[1024];
    snprintf(shared, sizeof shared, "%s/shared", t->dir);
    snprintf(data, sizeof data, "%s/a/b/data", shared);
    assert_int_equal(mkdir(shared, 0755), 0);
    /* missing components are skipped; the existing ones pass */
    assert_int_equal(safefile_check_parents(data, err, sizeof err), 0);
    assert_int_equal(chmod(shared, 0777), 0);
    assert_int_equal(safefile_check_parents(data, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "%s is writable by other users (mode 0777) and not sticky, so they could replace "
             "what is in it; run chmod go-w %s",
             shared, shared);
    assert_string_equal(err, want);
    assert_int_equal(chmod(shared, 01777), 0); /* sticky, like /tmp */
    assert_int_equal(safefile_check_parents(data, err, sizeof err), 0);
}

static void test_other_owner(void **state)
{
    if (geteuid() != 0) skip();
    s_tmp_t *t = *state;
    char path[400], err[1024], want[1024];
    assert_int_equal(chown(t->data, S_NOBODY, (gid_t)-1), 0);
    assert_int_equal(safefile_check_dir(t->data, "data directory", err, sizeof err), -1);
    snprintf(want, sizeof want,
             "data directory %s is owned by uid %d, not by the user tipd runs as (uid 0); "
             "another user's directory could hold planted keys or links (chown it, or run tipd "
             "as its owner)",
             t->data, S_NOBODY);
    assert_string_equal(err, want);
    /* a directory of nobody above ours: nobody could swap ours out */
    char sub[400];
    snprintf(sub, sizeof sub, "%s/sub", t->data);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(safefile_check_dir(sub, "data directory", err, sizeof err), -1);
    snprintf(want, sizeof want,
             "%s is owned by uid %d, not by root or the user tipd runs as, who could replace "
             "what is in it",
             t->data, S_NOBODY);
    assert_string_equal(err, want);
    assert_int_equal(chown(t->data, 0, (gid_t)-1), 0);
    /* a node key planted by nobody: refused by both checks */
    snprintf(path, sizeof path, "%s/node.key", t->data);
    s_write_key(path, 'a');
    ident_t id;
    assert_int_equal(ident_load_or_create_path(path, &id, err, sizeof err), 0);
    assert_int_equal(chown(path, S_NOBODY, (gid_t)-1), 0);
    assert_int_equal(safefile_check_entry(t->data, "node.key", err, sizeof err), -1);
    snprintf(want, sizeof want, "%s is owned by uid %d, not by the user tipd runs as (uid 0)", path,
             S_NOBODY);
    assert_string_equal(err, want);
    assert_int_equal(ident_load_or_create_path(path, &id, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "key file %s is owned by uid %d, not by the user reading it (uid 0); chown it or "
             "create a new one",
             path, S_NOBODY);
    assert_string_equal(err, want);
}

static void test_node_key_link_not_followed(void **state)
{
    s_tmp_t *t = *state;
    char target[400], path[400], err[1024], want[1024];
    snprintf(target, sizeof target, "%s/elsewhere.key", t->dir);
    snprintf(path, sizeof path, "%s/node.key", t->data);
    s_write_key(target, 'b');
    assert_int_equal(symlink(target, path), 0);
    ident_t id;
    assert_int_equal(ident_load_or_create_path(path, &id, err, sizeof err), -1);
    snprintf(want, sizeof want, "key file %s is a symbolic link; not following it (remove it)",
             path);
    assert_string_equal(err, want);
    /* ident_load (a user's own identity) still follows a link they made */
    assert_int_equal(ident_load(path, &id, err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_safe_dir_passes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_writable_dir_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_not_a_dir, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_entries, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_parents, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_other_owner, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_node_key_link_not_followed, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
