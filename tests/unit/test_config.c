/* test_config.c -- cmocka tests of tipd's config parsing (daemon/config.c):
 * defaults, every key from a file and from the command line, precedence,
 * and the exact "FILE:LINE: message" of every kind of bad line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static void test_defaults(void **state)
{
    (void)state;
    cfg_t c;
    cfg_defaults(&c);
    assert_string_equal(c.data, "/var/lib/tipd");
    assert_string_equal(c.api, "/run/tipd/tipd.sock");
    assert_string_equal(c.listen, "tcp://*:7714");
    assert_int_equal(c.npeers, 0);
    assert_int_equal(c.no_discovery, 0);
    assert_string_equal(c.network_key, "");
    assert_string_equal(c.name, "");
    assert_int_equal(c.log_level, LOG_I);
}

static void test_every_key(void **state)
{
    (void)state;
    cfg_t c;
    cfg_errors_t e = {0};
    cfg_defaults(&c);
    const char *text = "; comment\n"
                       "# another\n"
                       "\n"
                       "data = /srv/tipd\n"
                       "api=/run/x.sock\n"
                       "listen = tcp://0.0.0.0:9000\n"
                       "peer = tcp://10.0.0.1:7714\n"
                       "peer = tcp://[fe80::1%eth0]:7714\n"
                       "peer = tcp://10.0.0.1:7714\n" /* duplicate: listed once */
                       "[tipd]\n"
                       "no_discovery = true\n" /* underscore spelling works too */
                       "Network-Key = /etc/tipd/network.key\n"
                       "name = Front desk  ; inline comment\n"
                       "log-level = warning\n";
    assert_int_equal(cfg_load_string(&c, "t.conf", text, &e), 0);
    assert_int_equal(e.n, 0);
    assert_string_equal(c.data, "/srv/tipd");
    assert_string_equal(c.api, "/run/x.sock");
    assert_string_equal(c.listen, "tcp://0.0.0.0:9000");
    assert_int_equal(c.npeers, 2);
    assert_string_equal(c.peers[0], "tcp://10.0.0.1:7714");
    assert_string_equal(c.peers[1], "tcp://[fe80::1%eth0]:7714");
    assert_int_equal(c.no_discovery, 1);
    assert_string_equal(c.network_key, "/etc/tipd/network.key");
    assert_string_equal(c.name, "Front desk");
    assert_int_equal(c.log_level, LOG_W);
}

static void test_bad_lines(void **state)
{
    (void)state;
    cfg_t c;
    cfg_errors_t e = {0};
    cfg_defaults(&c);
    const char *text = "data = /ok\n"                /* 1 */
                       "colour = blue\n"             /* 2 */
                       "listen = tcp://*\n"          /* 3 */
                       "just words\n"                /* 4 */
                       "[unterminated\n"             /* 5 */
                       "peer = tcp://*:7714\n"       /* 6 */
                       "peer = tcp://h:0\n"          /* 7 */
                       "no-discovery = sometimes\n"  /* 8 */
                       "name = \n"                   /* 9 */
                       "log-level = verbose\n"       /* 10 */
                       "[gossip]\n"                  /* 11 */
                       "listen = tcp://*:1\n"        /* 12 */
                       "[tipd]\n"                    /* 13 */
                       "listen = tcp://[::1:7714\n"; /* 14 */
    assert_int_equal(cfg_load_string(&c, "x.conf", text, &e), -1);
    const char *want[] = {
        "x.conf:2: unknown key 'colour'",
        "x.conf:3: 'tcp://*' needs a host and a port (like tcp://*:7714)",
        "x.conf:4: expected 'key = value', a [section] or a comment",
        "x.conf:5: expected 'key = value', a [section] or a comment",
        "x.conf:6: 'tcp://*:7714': a peer needs a host, not '*'",
        "x.conf:7: 'tcp://h:0': port must be a number from 1 to 65535",
        "x.conf:8: no-discovery must be yes or no, not 'sometimes'",
        "x.conf:9: name must not be empty",
        "x.conf:10: log-level must be one of error, warning, notice, info, debug, not 'verbose'",
        "x.conf:12: unknown section [gossip] (keys go at the top or under [tipd])",
        "x.conf:14: 'tcp://[::1:7714': an IPv6 address goes in brackets ([::1]:7714)",
    };
    assert_int_equal(e.n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < e.n; i++) assert_string_equal(e.msg[i], want[i]);
}

static void test_long_line(void **state)
{
    (void)state;
    char text[600];
    memset(text, 'a', sizeof(text));
    memcpy(text, "name = ", 7);
    text[400] = '\n';
    snprintf(text + 401, sizeof(text) - 401, "data = /d\n");
    cfg_t c;
    cfg_errors_t e = {0};
    cfg_defaults(&c);
    assert_int_equal(cfg_load_string(&c, "l.conf", text, &e), -1);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.msg[0], "l.conf:1: line too long (at most 198 bytes)");
    assert_string_equal(c.data, "/d"); /* the next line is line 2 and still read */
}

static void test_too_many_errors_capped(void **state)
{
    (void)state;
    char text[64 * 20];
    text[0] = '\0';
    for (int i = 0; i < 60; i++) strcat(text, "x = 1\n");
    cfg_t c;
    cfg_errors_t e = {0};
    cfg_defaults(&c);
    assert_int_equal(cfg_load_string(&c, "m.conf", text, &e), -1);
    assert_int_equal(e.n, CFG_MAX_ERRORS);
    assert_string_equal(e.msg[CFG_MAX_ERRORS - 1], "m.conf:32: unknown key 'x'");
}

static void test_files_and_precedence(void **state)
{
    (void)state;
    char dir[] = "/tmp/tipd-cfgtest-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/tipd.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("\xEF\xBB\xBFlisten = tcp://*:1111\npeer = tcp://a:1\nname = file\n", f);
    fclose(f);

    cfg_args_t a;
    memset(&a, 0, sizeof(a));
    cfg_defaults(&a.cfg);
    char msg[256];
    assert_int_equal(cfg_set(&a.cfg, "name", "cli", msg, sizeof(msg)), 0);
    a.set |= CFG_SET_NAME;
    assert_int_equal(cfg_set(&a.cfg, "peer", "tcp://b:2", msg, sizeof(msg)), 0);
    a.config = path;

    cfg_t c;
    cfg_errors_t e = {0};
    const char *used = NULL;
    assert_int_equal(cfg_build(&c, &a, &used, &e), 0);
    assert_string_equal(used, path);
    assert_string_equal(c.listen, "tcp://*:1111"); /* file over default */
    assert_string_equal(c.name, "cli");            /* command line over file */
    assert_int_equal(c.npeers, 2);                 /* --peer adds */
    assert_string_equal(c.peers[0], "tcp://a:1");
    assert_string_equal(c.peers[1], "tcp://b:2");

    /* An explicit missing file is an error ... */
    char missing[160];
    snprintf(missing, sizeof(missing), "%s/none.conf", dir);
    a.config = missing;
    memset(&e, 0, sizeof(e));
    assert_int_equal(cfg_build(&c, &a, &used, &e), -1);
    assert_int_equal(e.n, 1);
    char want[256];
    snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", missing);
    assert_string_equal(e.msg[0], want);
    /* ... a missing default is not. */
    cfg_defaults(&c);
    assert_int_equal(cfg_load_file(&c, missing, 0, &e), 1);

    unlink(path);
    rmdir(dir);
}

static void test_endpoints(void **state)
{
    (void)state;
    char m[256];
    assert_int_equal(cfg_check_endpoint("tcp://*:7714", 1, m, sizeof(m)), 0);
    assert_int_equal(cfg_check_endpoint("tcp://127.0.0.1:0", 1, m, sizeof(m)), 0);
    assert_int_equal(cfg_check_endpoint("tcp://127.0.0.1:0", 0, m, sizeof(m)), -1);
    assert_int_equal(cfg_check_endpoint("tcp://host.lan:7714", 0, m, sizeof(m)), 0);
    assert_int_equal(cfg_check_endpoint("tcp://[::1]:7714", 0, m, sizeof(m)), 0);
    assert_int_equal(cfg_check_endpoint("tcp://ho st:1", 0, m, sizeof(m)), -1);
    assert_string_equal(m, "'tcp://ho st:1': the host has a space or '/'");
    assert_int_equal(cfg_check_endpoint("tcp://h:12x", 0, m, sizeof(m)), -1);
    assert_int_equal(cfg_check_endpoint("tcp://h:", 0, m, sizeof(m)), -1);
    assert_int_equal(cfg_check_endpoint("ipc:///x", 0, m, sizeof(m)), -1);
}

static void test_log_levels(void **state)
{
    (void)state;
    assert_int_equal(cfg_log_level_from_name("error"), LOG_E);
    assert_int_equal(cfg_log_level_from_name("WARN"), LOG_W);
    assert_int_equal(cfg_log_level_from_name("debug"), LOG_D);
    assert_int_equal(cfg_log_level_from_name("trace"), -1);
    assert_string_equal(cfg_log_level_name(LOG_N), "notice");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_too_many_errors_capped),
        cmocka_unit_test(test_files_and_precedence),
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_log_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
