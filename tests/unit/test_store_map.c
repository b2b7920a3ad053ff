/* test_store_map.c -- store_map_warm(): the pages of data.mdb the page cache
 * holds get entered in this process's page table before any reader touches
 * them. Real LMDB in a temporary directory, real signed events.
 *
 * What must hold: after a reopen the map starts (almost) unmapped, and after
 * a warm the mapping's resident size (Rss in /proc/self/smaps) is exactly
 * the bytes the warm reports; a stop asked before the first slice maps
 * nothing and leaves the position, and a later call finishes; the store
 * reads back the same; searches after the warm (which sizes the search's
 * scratch) rank as before it and find tips that came after it; a read view, a NULL store and a
 * closed store are refused with a code, never a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_store_util.h"

enum { N = 400 };

/* A field of /proc/self/smaps ("Rss", "FilePmdMapped"), in bytes, summed
 * over this process's mappings of path (the warm's madvise on parts of the
 * map splits it in several); -1 if none. */
static long long s_smaps_of(const char *path, const char *field)
{
    char line[512], want[64];
    snprintf(want, sizeof want, "%s: %%lld kB", field);
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    long long sum = -1;
    int in = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
            line[strcspn(line, "\n")] = 0;
            size_t n = strlen(line), w = strlen(path);
            in = n >= w && strcmp(line + n - w, path) == 0;
            continue;
        }
        long long kb;
        if (in && sscanf(line, want, &kb) == 1) sum = (sum < 0 ? 0 : sum) + kb * 1024;
    }
    fclose(f);
    return sum;
}

/* Rss, in bytes, of this process's mapping of dir/data.mdb; -1 if none. */
static long long s_map_rss(const char *dir)
{
    char path[300];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    return s_smaps_of(path, "Rss");
}

static int s_stop_always(void *arg)
{
    (*(int *)arg)++;
    return 1;
}

/* Go on the first time asked, stop the second. */
static int s_stop_second(void *arg)
{
    return ++*(int *)arg >= 2;
}

/* A store in dir with N tips (*out), reopened so that its mapping is new. */
static store_t *s_filled(const char *dir, raw_t **out)
{
    store_t *s = s_open(dir, 0);
    raw_t *r = calloc(N, sizeof *r);
    assert_non_null(r);
    char title[96];
    for (int i = 0; i < N; i++) {
        snprintf(title, sizeof title, "tip %d on mapping pages ahead of readers", i);
        r[i] = s_tip(i % 2 ? &A : &B, T0 + (uint64_t)i, title, "lmdb");
    }
    s_ingest(s, r, N, NULL);
    /* A reopen: a new mapping with only the pages the open itself read. */
    assert_int_equal(store_release_memory(s, 0), 0);
    *out = r;
    return s;
}

/* Close s and remove what s_filled made. */
static void s_done(store_t *s, raw_t *r, char *dir)
{
    store_destroy(&s);
    for (int i = 0; i < N; i++) s_free(&r[i]);
    free(r);
    s_rmdir(dir);
}

static void test_warm_maps_what_is_resident(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    raw_t *r;
    store_t *s = s_filled(dir, &r);
    long long before = s_map_rss(dir);
    assert_true(before >= 0);

    size_t from = 0, mapped = 0, huge = 0;
    assert_int_equal(store_map_warm(s, &from, NULL, NULL, &mapped, &huge), 0);
    struct stat st;
    char path[300];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_true(mapped > (size_t)before); /* the ingest's pages are in the page cache */
    assert_true(mapped <= (size_t)st.st_size);
    assert_int_equal(mapped % 4096, 0);
    assert_int_equal(from, mapped); /* a freshly written file is all resident */
    assert_int_equal(s_map_rss(dir), (long long)mapped);

    /* Again: nothing new to map, the same bytes counted. */
    size_t again = 0;
    from = 0;
    assert_int_equal(store_map_warm(s, &from, NULL, NULL, &again, &huge), 0);
    assert_int_equal(again, mapped);
    assert_int_equal(s_map_rss(dir), (long long)mapped);

    store_counts_t c;
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.tips, N);
    for (int i = 0; i < N; i += 9) assert_int_equal(store_has(s, r[i].id), 1);
    s_done(s, r, dir);
}

static void test_warm_stops_and_resumes(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    raw_t *r;
    store_t *s = s_filled(dir, &r);
    long long before = s_map_rss(dir);

    size_t from = 0, mapped = 0, huge = 0;
    int asked = 0;
    assert_int_equal(store_map_warm(s, &from, s_stop_always, &asked, &mapped, &huge), 1);
    assert_int_equal(asked, 1);
    assert_int_equal(from, 0);
    assert_int_equal(mapped, 0);
    assert_int_equal(s_map_rss(dir), before);

    assert_int_equal(store_map_warm(s, &from, NULL, NULL, &mapped, &huge), 0);
    assert_true(mapped > 0);
    assert_int_equal(s_map_rss(dir), (long long)mapped);
    /* Done: a call from the end maps nothing more and asks nothing. */
    size_t more = 0;
    assert_int_equal(store_map_warm(s, &from, s_stop_always, &asked, &more, &huge), 0);
    assert_int_equal(more, 0);
    assert_int_equal(asked, 1);
    s_done(s, r, dir);
}

/* The warm sizes the search's scratch for the index it sees: a search then
 * ranks as it did before the warm, and tips that arrive after it are still
 * found (the search grows the scratch). */
static void test_warm_then_growth_is_searched(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    raw_t *r;
    store_t *s = s_filled(dir, &r);
    enum { LATE = 50, MAX = 64 };
    store_hit_t before[MAX], after[MAX], late[MAX];
    size_t nb = 0, na = 0, nl = 0;
    assert_int_equal(store_search(s, "tip 17 mapping", NULL, before, MAX, &nb), 0);
    assert_true(nb > 0);

    size_t from = 0, mapped = 0, huge = 0;
    assert_int_equal(store_map_warm(s, &from, NULL, NULL, &mapped, &huge), 0);
    assert_int_equal(store_search(s, "tip 17 mapping", NULL, after, MAX, &na), 0);
    assert_int_equal(na, nb);
    for (size_t h = 0; h < na; h++) assert_memory_equal(after[h].id, before[h].id, EVENT_ID_LEN);

    raw_t l[LATE];
    char title[96];
    for (int i = 0; i < LATE; i++) {
        snprintf(title, sizeof title, "late note %d about zephyrs", i);
        l[i] = s_tip(&A, T0 + N + (uint64_t)i, title, "weather");
    }
    s_ingest(s, l, LATE, NULL);
    assert_int_equal(store_search(s, "zephyrs", NULL, late, MAX, &nl), 0);
    assert_int_equal(nl, LATE);
    for (size_t h = 0; h < nl; h++) {
        int found = 0;
        for (int i = 0; i < LATE && !found; i++) found = !memcmp(late[h].id, l[i].id, EVENT_ID_LEN);
        assert_true(found);
    }
    for (int i = 0; i < LATE; i++) s_free(&l[i]);
    s_done(s, r, dir);
}

/* An empty store warms too (nothing mapped beyond its meta pages, an
 * empty scratch) and a search then finds nothing, without error. */
static void test_warm_empty_store(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    size_t from = 0, mapped = 0, huge = 0, n = 1;
    assert_int_equal(store_map_warm(s, &from, NULL, NULL, &mapped, &huge), 0);
    store_hit_t h[4];
    assert_int_equal(store_search(s, "anything", NULL, h, 4, &n), 0);
    assert_int_equal(n, 0);
    store_destroy(&s);
    s_rmdir(dir);
}

static void test_warm_refuses(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    char moved[256];
    snprintf(moved, sizeof moved, "%s.moved", dir);
    store_t *s = s_open(dir, 0);
    raw_t t = s_tip(&A, T0, "one tip", "x");
    s_one(s, &t);
    size_t from = 0, mapped = 0, huge = 0;
    assert_int_equal(store_map_warm(NULL, &from, NULL, NULL, &mapped, &huge), STORE_E_ARG);
    assert_int_equal(store_map_warm(s, NULL, NULL, NULL, &mapped, &huge), STORE_E_ARG);
    assert_int_equal(store_map_warm(s, &from, NULL, NULL, &mapped, NULL), STORE_E_ARG);
    store_rtxn_t *v = store_rtxn_begin(s, NULL);
    assert_non_null(v);
    assert_int_equal(store_map_warm(v, &from, NULL, NULL, &mapped, &huge), STORE_E_ARG);
    store_rtxn_end(&v);
    assert_int_equal(mapped, 0);

    /* A failed reopen leaves no environment: a code, not a crash. */
    assert_int_equal(rename(dir, moved), 0);
    assert_int_equal(store_release_memory(s, 0), STORE_E_IO);
    assert_int_equal(store_map_warm(s, &from, NULL, NULL, &mapped, &huge), STORE_E_IO);
    assert_int_equal(rename(moved, dir), 0);
    assert_int_equal(store_release_memory(s, 0), 0);
    assert_int_equal(store_map_warm(s, &from, NULL, NULL, &mapped, &huge), 0);
    assert_true(mapped > 0);
    assert_int_equal(store_has(s, t.id), 1);
    store_destroy(&s);
    s_free(&t);
    s_rmdir(dir);
}

/* Can this kernel and the file system of dir cache a file in 2 MiB folios
 * mapped by one entry, and say which pages are (PAGEMAP_SCAN)? Found
 * without the store: a 4 MiB file dropped from the page cache and read
 * back through a MADV_HUGEPAGE mapping. */
static int s_kernel_maps_huge(const char *dir)
{
    const size_t sz = (size_t)4 << 20;
    char path[300];
    snprintf(path, sizeof path, "%s/probe", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    char *buf = calloc(1, 65536);
    assert_non_null(buf);
    for (size_t o = 0; o < sz; o += 65536) assert_int_equal(write(fd, buf, 65536), 65536);
    free(buf);
    assert_int_equal(fsync(fd), 0);
    assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
    /* an aligned 2 MiB inside a 4 MiB mapping */
    unsigned char *m = mmap(NULL, sz, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(m != MAP_FAILED);
    int huge = 0;
    if (madvise(m, sz, MADV_HUGEPAGE) == 0) {
        volatile unsigned char sink = 0;
        for (size_t o = 0; o < sz; o += 4096) sink ^= m[o];
        (void)sink;
        int pm = open("/proc/self/pagemap", O_RDONLY);
        struct {
            uint64_t start, end, categories;
        } r[4];
        struct {
            uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
            uint64_t inverted, mask, anyof, ret;
        } a = {.size = sizeof a,
               .start = (uintptr_t)m,
               .end = (uintptr_t)m + sz,
               .vec = (uintptr_t)r,
               .vec_len = 4,
               .mask = 1u << 6,
               .ret = 1u << 6};
        int scan = pm >= 0 && ioctl(pm, _IOWR('f', 16, a), &a) >= 0;
        if (pm >= 0) close(pm);
        huge = scan && s_smaps_of(path, "FilePmdMapped") > 0;
    }
    munmap(m, sz);
    close(fd);
    unlink(path);
    return huge;
}

/* A reader on another thread while the warm drops and reads chunks back:
 * each pass opens a view and looks every tip up. */
typedef struct {
    store_t *s;
    raw_t *r;
    int n;
    atomic_int done;
    int passes, misses, errors;
} s_reader_t;

static void *s_reader(void *arg)
{
    s_reader_t *a = arg;
    while (!atomic_load(&a->done) || a->passes == 0) {
        store_rtxn_t *v = store_rtxn_begin(a->s, NULL);
        if (!v) {
            a->errors++;
            break;
        }
        for (int i = 0; i < a->n; i++) {
            int h = store_has(v, a->r[i].id);
            if (h < 0) a->errors++;
            if (h == 0) a->misses++;
        }
        store_rtxn_end(&v);
        a->passes++;
    }
    return NULL;
}

/* A store written 4 KiB at a time: the warm reads its whole resident 2 MiB
 * chunks back as huge pages where the kernel can (and reports them), the
 * store reads back the same, and a second warm has nothing left to read
 * back. Where the kernel cannot, nothing is read back and all else holds. */
static void test_warm_reads_chunks_back_huge(void **state)
{
    (void)state;
    enum { MANY = 4000 };
    char *dir = s_tmpdir();
    int can = s_kernel_maps_huge(dir);
    /* synced, as tipd's store is: a page not yet written back stays in the
     * page cache as it is (the kernel drops only clean pages) */
    store_opts_t o = {.no_sync = 0};
    int err = 1;
    store_t *s = store_new(dir, &o, &err);
    assert_non_null(s);
    raw_t *r = calloc(MANY, sizeof *r);
    assert_non_null(r);
    char title[128];
    for (int i = 0; i < MANY; i++) {
        snprintf(title, sizeof title, "tip %d on reading chunks back in huge pages, %08x", i,
                 (unsigned)i * 2654435761u);
        r[i] = s_tip(i % 2 ? &A : &B, T0 + (uint64_t)i, title, "hugepages");
    }
    for (int i = 0; i < MANY; i += 500) s_ingest(s, r + i, 500, NULL);
    store_hit_t before[32], after[32];
    size_t nb = 0, na = 0;
    assert_int_equal(store_search(s, "tip 1234 chunks", NULL, before, 32, &nb), 0);
    assert_true(nb > 0);
    assert_int_equal(store_release_memory(s, 0), 0);

    char path[300];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size >= (off_t)(4 << 20)); /* whole 2 MiB chunks to read back */

    /* Stopped after the first chunk (the stop is asked before each slice
     * and between chunks): nothing counted as mapped, the position kept,
     * and a later call goes on. */
    size_t from = 0, mapped = 0, huge = 0;
    int asked = 0;
    assert_int_equal(store_map_warm(s, &from, s_stop_second, &asked, &mapped, &huge), 1);
    assert_int_equal(from, 0);
    assert_int_equal(mapped, 0);
    assert_int_equal(asked, can ? 2 : 1);
    assert_int_equal(huge, can ? (size_t)(2 << 20) : 0);
    /* The rest with a reader looking every tip up meanwhile: it faults the
     * chunks back in from the page cache or the file, never misses one. */
    s_reader_t rd = {.s = s, .r = r, .n = MANY};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, s_reader, &rd), 0);
    assert_int_equal(store_map_warm(s, &from, NULL, NULL, &mapped, &huge), 0);
    atomic_store(&rd.done, 1);
    pthread_join(th, NULL);
    assert_true(rd.passes >= 1);
    assert_int_equal(rd.misses, 0);
    assert_int_equal(rd.errors, 0);
    assert_int_equal(huge % (2 << 20), 0);
    assert_true(huge <= mapped);
    assert_int_equal(s_map_rss(dir), (long long)mapped);
    if (can) {
        assert_true(huge >= (size_t)(2 << 20));
        assert_true(s_smaps_of(path, "FilePmdMapped") >= (long long)huge);
    } else {
        assert_int_equal(huge, 0);
    }
    for (int i = 0; i < MANY; i++) assert_int_equal(store_has(s, r[i].id), 1);
    assert_int_equal(store_search(s, "tip 1234 chunks", NULL, after, 32, &na), 0);
    assert_int_equal(na, nb);
    for (size_t h = 0; h < na; h++) assert_memory_equal(after[h].id, before[h].id, EVENT_ID_LEN);

    /* Again: every chunk that could be is huge already. */
    size_t again = 0, huge2 = 0;
    from = 0;
    assert_int_equal(store_map_warm(s, &from, NULL, NULL, &again, &huge2), 0);
    assert_int_equal(huge2, 0);
    assert_int_equal(again, mapped);

    /* Writes after it land in the huge pages and read back. */
    raw_t late = s_tip(&A, T0 + MANY, "a late tip about zephyrs", "weather");
    s_one(s, &late);
    assert_int_equal(store_has(s, late.id), 1);
    s_free(&late);
    store_counts_t c;
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.tips, MANY + 1);
    store_destroy(&s);
    for (int i = 0; i < MANY; i++) s_free(&r[i]);
    free(r);
    s_rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    s_keys();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_warm_maps_what_is_resident),
        cmocka_unit_test(test_warm_stops_and_resumes),
        cmocka_unit_test(test_warm_then_growth_is_searched),
        cmocka_unit_test(test_warm_empty_store),
        cmocka_unit_test(test_warm_refuses),
        cmocka_unit_test(test_warm_reads_chunks_back_huge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
