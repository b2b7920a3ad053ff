/* test_core_util.c -- the small shared helpers in core/: endpoint parsing and
 * writing, mkdir -p, and which event error codes blame the sender. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "editdist.h"
#include "endpoint.h"
#include "event.h"
#include "path.h"

static void test_endpoint_parse(void **state)
{
    (void)state;
    endpoint_t e;
    assert_int_equal(endpoint_parse("tcp://host.lan:7714", &e), ENDPOINT_OK);
    assert_string_equal(e.host, "host.lan");
    assert_int_equal(e.port, 7714);
    assert_int_equal(e.wildcard, 0);
    assert_int_equal(endpoint_parse("tcp://[fe80::1%eth0]:1", &e), ENDPOINT_OK);
    assert_string_equal(e.host, "fe80::1%eth0");
    assert_int_equal(e.port, 1);
    assert_int_equal(endpoint_parse("tcp://*:0", &e), ENDPOINT_OK);
    assert_int_equal(e.wildcard, 1);
    assert_int_equal(e.port, 0);
    assert_int_equal(endpoint_parse("tcp://[::]:9", &e), ENDPOINT_OK);
    assert_int_equal(e.wildcard, 1);
    assert_int_equal(endpoint_parse("tcp://0.0.0.0:9", &e), ENDPOINT_OK);
    assert_int_equal(e.wildcard, 1);

    assert_int_equal(endpoint_parse(NULL, &e), ENDPOINT_E_SCHEME);
    assert_int_equal(endpoint_parse("udp://h:1", &e), ENDPOINT_E_SCHEME);
    assert_int_equal(endpoint_parse("tcp://h", &e), ENDPOINT_E_HOSTPORT);
    assert_int_equal(endpoint_parse("tcp://:1", &e), ENDPOINT_E_HOSTPORT);
    assert_int_equal(endpoint_parse("tcp://[::1:7714", &e), ENDPOINT_E_BRACKETS);
    assert_int_equal(endpoint_parse("tcp://ho st:1", &e), ENDPOINT_E_HOST);
    assert_int_equal(endpoint_parse("tcp://a/b:1", &e), ENDPOINT_E_HOST);
    assert_int_equal(endpoint_parse("tcp://h:", &e), ENDPOINT_E_PORT);
    assert_int_equal(endpoint_parse("tcp://h:65536", &e), ENDPOINT_E_PORT);
    assert_int_equal(endpoint_parse("tcp://h:+1", &e), ENDPOINT_E_PORT);
    assert_int_equal(endpoint_parse("tcp://h:123456", &e), ENDPOINT_E_PORT);
    char longhost[300];
    memset(longhost, 'a', sizeof longhost);
    memcpy(longhost, "tcp://", 6);
    snprintf(longhost + 262, sizeof longhost - 262, ":1");
    assert_int_equal(endpoint_parse(longhost, &e), ENDPOINT_E_HOST);

    assert_int_equal(endpoint_port("tcp://*:7714"), 7714);
    assert_int_equal(endpoint_port("nonsense"), 0);
}

static void test_endpoint_format(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(endpoint_format("10.0.0.1", 7714, out, sizeof out), 0);
    assert_string_equal(out, "tcp://10.0.0.1:7714");
    assert_int_equal(endpoint_format("::1", 5, out, sizeof out), 0);
    assert_string_equal(out, "tcp://[::1]:5");
    assert_int_equal(endpoint_format("10.0.0.1", 7714, out, 10), -1);
    assert_int_equal(endpoint_host_dialable("host-1.lan"), 1);
    assert_int_equal(endpoint_host_dialable("fe80::1%eth0"), 1);
    assert_int_equal(endpoint_host_dialable("*"), 0);
    assert_int_equal(endpoint_host_dialable(""), 0);
    assert_int_equal(endpoint_host_dialable("a;b"), 0);
}

static void test_mkdir_p(void **state)
{
    (void)state;
    char base[] = "/tmp/tipd-path-XXXXXX";
    assert_non_null(mkdtemp(base));
    char deep[256], failed[256];
    snprintf(deep, sizeof deep, "%s/a/b/c", base);
    assert_int_equal(path_mkdir_p(deep, 0700, failed, sizeof failed), 0);
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    /* existing: fine, and left alone */
    assert_int_equal(chmod(deep, 0750), 0);
    assert_int_equal(path_mkdir_p(deep, 0700, NULL, 0), 0);
    assert_int_equal(stat(deep, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0750);
    /* a file in the way */
    char file[256], under[300];
    snprintf(file, sizeof file, "%s/f", base);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(path_mkdir_p(file, 0700, failed, sizeof failed), -1);
    assert_int_equal(errno, ENOTDIR);
    assert_string_equal(failed, file);
    snprintf(under, sizeof under, "%s/x", file);
    assert_int_equal(path_mkdir_p(under, 0700, failed, sizeof failed), -1);
    assert_string_equal(failed, under);
    assert_int_equal(path_mkdir_p("", 0700, NULL, 0), -1);

    unlink(file);
    char p[300];
    const char *parts[] = {"/a/b/c", "/a/b", "/a"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", base, parts[i]);
        assert_int_equal(rmdir(p), 0);
    }
    assert_int_equal(rmdir(base), 0);
}

/* The one edit distance: each kind of edit counts one, the bound cuts the
 * answer to max + 1, and overlong words are never near anything. */
static void test_editdist(void **state)
{
    (void)state;
    assert_int_equal(editdist_ascii("search", "search", 2), 0);
    assert_int_equal(editdist_ascii("serach", "search", 2), 1);  /* swap */
    assert_int_equal(editdist_ascii("seach", "search", 2), 1);   /* insert */
    assert_int_equal(editdist_ascii("searchh", "search", 2), 1); /* delete */
    assert_int_equal(editdist_ascii("seatch", "search", 2), 1);  /* substitute */
    assert_int_equal(editdist_ascii("SEARCH", "search", 2), 0);  /* ASCII case ignored */
    assert_int_equal(editdist_ascii("comitt", "commit", 3), 2);
    assert_int_equal(editdist_ascii("comitt", "commit", 1), 2); /* bound: max + 1 */
    assert_int_equal(editdist_ascii("ls", "list", 5), 2);
    assert_int_equal(editdist_ascii("a", "abcdef", 2), 3); /* lengths too far apart */
    assert_int_equal(editdist_ascii("", "", 0), 0);
    assert_int_equal(editdist_ascii("", "ab", 5), 2);
    /* The early exit must not cut a path that comes back: "xab" vs "ab"
     * is one deletion although the first row is all above 0. */
    assert_int_equal(editdist_ascii("xab", "ab", 1), 1);
    char big[EDITDIST_MAX_LEN + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(editdist_ascii(big, big, 3), 4);
    /* Code points, not bytes: u-umlaut vs u is one substitution. */
    const uint32_t uber[] = {0xFC, 'b', 'e', 'r'}, ub[] = {'u', 'b', 'e', 'r'};
    assert_int_equal(editdist(uber, 4, ub, 4, 2), 1);
}

static void test_malformed_predicate(void **state)
{
    (void)state;
    const int bad[] = {EVENT_E_TRUNCATED, EVENT_E_VERSION,  EVENT_E_KIND,  EVENT_E_TRAILING,
                       EVENT_E_UTF8,      EVENT_E_OVERSIZE, EVENT_E_FIELD, EVENT_E_ORDER,
                       EVENT_E_TOPIC,     EVENT_E_SIG,      EVENT_E_REFS,  EVENT_E_HEX,
                       EVENT_E_NEEDLESS};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(event_err_is_malformed(bad[i]), 1);
    assert_int_equal(event_err_is_malformed(0), 0);
    assert_int_equal(event_err_is_malformed(EVENT_E_FUTURE), 0);
    assert_int_equal(event_err_is_malformed(EVENT_E_NOSPACE), 0);
    assert_int_equal(event_err_is_malformed(-100), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_parse), cmocka_unit_test(test_endpoint_format),
        cmocka_unit_test(test_mkdir_p),        cmocka_unit_test(test_malformed_predicate),
        cmocka_unit_test(test_editdist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
