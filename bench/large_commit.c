/* large_commit.c -- `bench-large commit`: what the store's writer pays per
 * event for one transaction size, on a store of a given size.
 *
 *   bench-large commit -b BATCH [-n N] -s SKIP DIR FILE
 *
 * Opens the store in DIR (a stopped tipd's data directory; it is written
 * to, so pass a copy), reads N events (default 20000) of FILE after its
 * first SKIP lines (base64, one a line, as `gen` writes them: the lines
 * after those a store of SKIP events holds are new to it and in time
 * order), and commits them with store_ingest(STORE_INGEST_VERIFIED) in
 * batches of BATCH, fsync on, as the daemon's writer thread does. Prints
 * the CPU and wall time per event, the write system calls per event
 * (/proc/self/io syscw: LMDB writes each run of dirty pages with one) and
 * the 4 KiB pages they wrote per event (wchar).
 * Decoding the file is not timed. Like the daemon's writer in a long
 * import, the timed commits run on a mapping whose resident pages are
 * entered (store_map_warm) and after one untimed batch (-w 0 skips it),
 * which leaves LMDB its page buffers: a cold process would otherwise
 * time its own page faults and fresh heap, which tipd pays once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "event.h"
#include "store.h"

int large_commit(const char *dir, const char *path, size_t skip, size_t n, size_t batch, int warm);

static double s_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The field name (with its colon) of /proc/self/io so far, or -1:
 * "syscw:" counts write system calls, "wchar:" the bytes they wrote. */
static long s_io(const char *name)
{
    FILE *f = fopen("/proc/self/io", "r");
    char ln[128];
    long v = -1;
    size_t n = strlen(name);
    while (f && fgets(ln, sizeof ln, f))
        if (!strncmp(ln, name, n)) v = strtol(ln + n, NULL, 10);
    if (f) fclose(f);
    return v;
}

/* Read up to n events after the first skip lines of path into raw/lens;
 * returns how many. */
static size_t s_load(const char *path, size_t skip, size_t n, uint8_t **raw, size_t *lens)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char *line = NULL;
    size_t cap = 0, seen = 0, k = 0;
    ssize_t r;
    while (k < n && (r = getline(&line, &cap, f)) > 1) {
        if (seen++ < skip) continue;
        if (!(raw[k] = malloc((size_t)r))) break;
        long len = b64_decode(line, (size_t)r - 1, raw[k], (size_t)r);
        if (len <= 0 || len > EVENT_MAX_SIZE) {
            free(raw[k]);
            continue;
        }
        lens[k++] = (size_t)len;
    }
    free(line);
    fclose(f);
    return k;
}

/* Commit events [at, at + m) of raw; adds the new ones to *fresh. */
static int s_commit(store_t *s, uint8_t **raw, size_t *lens, size_t at, size_t m,
                    store_result_t *out, size_t *fresh)
{
    int e = store_ingest(s, (const uint8_t *const *)raw + at, lens + at, m, event_now_ms(),
                         STORE_INGEST_VERIFIED, out);
    if (e) {
        fprintf(stderr, "bench-large commit: %s\n", store_strerror(e));
        return -1;
    }
    for (size_t j = 0; j < m; j++) *fresh += out[j].status == STORE_NEW;
    return 0;
}

int large_commit(const char *dir, const char *path, size_t skip, size_t n, size_t batch, int warm)
{
    uint8_t **raw = calloc(n ? n : 1, sizeof(*raw));
    size_t *lens = calloc(n ? n : 1, sizeof(*lens));
    store_result_t *out = calloc(batch ? batch : 1, sizeof(*out));
    int rc = 1, err = 0;
    store_t *s = NULL;
    size_t k = 0, fresh = 0;
    if (!raw || !lens || !out || !batch) goto done;
    if (!(k = s_load(path, skip, n, raw, lens))) {
        fprintf(stderr, "bench-large commit: no events after line %zu of %s\n", skip, path);
        goto done;
    }
    store_opts_t o;
    memset(&o, 0, sizeof o);
    if (!(s = store_new(dir, &o, &err))) {
        fprintf(stderr, "bench-large commit: %s: %s\n", dir, store_strerror(err));
        goto done;
    }
    size_t at = 0, from = 0, mapped = 0, huge = 0;
    if (warm && (store_map_warm(s, &from, NULL, NULL, &mapped, &huge) ||
                 s_commit(s, raw, lens, 0, k < batch ? k : batch, out, &fresh)))
        goto done;
    if (warm) at = k < batch ? k : batch;
    if (at >= k) {
        fprintf(stderr, "bench-large commit: nothing left after the untimed batch\n");
        goto done;
    }
    size_t timed = k - at, fresh0 = fresh;
    double w0 = s_clock(CLOCK_MONOTONIC), c0 = s_clock(CLOCK_PROCESS_CPUTIME_ID);
    long w_0 = s_io("syscw:"), b_0 = s_io("wchar:");
    for (; at < k; at += batch)
        if (s_commit(s, raw, lens, at, k - at < batch ? k - at : batch, out, &fresh)) goto done;
    double w = s_clock(CLOCK_MONOTONIC) - w0, c = s_clock(CLOCK_PROCESS_CPUTIME_ID) - c0;
    long writes = s_io("syscw:") - w_0, bytes = s_io("wchar:") - b_0;
    printf("commit batch %zu events %zu new %zu cpu_us_per_ev %.1f wall_us_per_ev %.1f "
           "writes_per_ev %.2f pages_per_ev %.2f mapped_mib %.0f\n",
           batch, timed, fresh - fresh0, c / (double)timed * 1e6, w / (double)timed * 1e6,
           w_0 < 0 ? -1.0 : (double)writes / (double)timed,
           b_0 < 0 ? -1.0 : (double)bytes / 4096.0 / (double)timed, (double)mapped / 1048576.0);
    rc = 0;
done:
    store_destroy(&s);
    for (size_t i = 0; i < k; i++) free(raw[i]);
    free(raw);
    free(lens);
    free(out);
    return rc;
}
