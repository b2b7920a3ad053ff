/* store_map.c -- map the database pages the page cache already holds.
 *
 * LMDB reads through one read-only mmap of data.mdb, and a process's first
 * touch of each page of it is a page fault even when the page cache has the
 * page: the kernel still has to enter it in this process's page table. A
 * freshly opened environment (daemon start, store_release_memory's reopen
 * after an import) has none entered, so its first searches pay thousands of
 * such faults: at a million tips a question walks ~25,000 tips, and the
 * first pass over 300 questions faulted 12,600 times and had a p99 of 22 ms
 * against 6.6 ms for the same questions once mapped (docs/PERFORMANCE.md).
 *
 * store_map_warm() enters the pages ahead of the readers: it asks the
 * kernel which pages of the file are resident (mincore), has it map those
 * runs (MADV_POPULATE_READ) and then reads one byte of every page. The read
 * is for virtual machines whose hypervisor shadows the guest's page tables
 * (this project's own test machines are such): there a page the kernel has
 * mapped still traps to the hypervisor on this process's first access, about
 * 1.3 us a page, so with the populate alone the first pass over 300
 * questions had a p99 of 11-14 ms against 6-9 ms (docs/PERFORMANCE.md). On
 * other machines the read is a cache miss per page, ~40 ms for 1.5 GB.
 * Pages that are not resident are left alone, so it never reads the disk:
 * it only saves the faults a reader would have taken for pages already in
 * memory. The cost is the page table itself, 8 bytes
 * per 4 KiB page mapped (2 KiB per MiB of store), kernel memory, not the
 * process's private memory. It works in slices and asks its caller between
 * them whether to stop, so the writer thread that runs it can give way to
 * a commit at once and resume later. When the whole map is entered it also
 * sizes the search's scratch (fts_prepare), the other thing a first
 * question would fault in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "store_int.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif

#define S_SLICE ((size_t)16 << 20) /* bytes looked at between two stop checks */

/* Read one byte of every page of [p, p + len): maps them on kernels without
 * MADV_POPULATE_READ, and makes the first access of each that a shadowing
 * hypervisor traps here rather than in a reader. */
static void s_touch(const unsigned char *p, size_t len, size_t pg)
{
    volatile unsigned char sink = 0;
    for (size_t o = 0; o < len; o += pg) sink ^= p[o];
    (void)sink;
}

/* Map the resident runs of one slice [base, base + len); vec holds one byte
 * per page. Adds the bytes mapped to *mapped. 0, or -1 with errno. */
static int s_slice(const unsigned char *base, size_t len, size_t pg, unsigned char *vec,
                   int *populate, size_t *mapped)
{
    if (mincore((void *)base, len, vec) != 0) return -1;
    size_t npg = (len + pg - 1) / pg;
    for (size_t i = 0; i < npg;) {
        if (!(vec[i] & 1)) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < npg && (vec[j] & 1)) j++;
        const unsigned char *p = base + i * pg;
        size_t n = (j - i) * pg;
        if (p + n > base + len) n = (size_t)(base + len - p);
        if (*populate && madvise((void *)p, n, MADV_POPULATE_READ) != 0) {
            if (errno != EINVAL) return -1;
            *populate = 0; /* an older kernel: the reads below fault them in */
        }
        s_touch(p, n, pg);
        *mapped += n;
        i = j;
    }
    return 0;
}

/* Where LMDB mapped data.mdb: the mapping of /proc/self/maps that holds a
 * value read from the store (read transactions hand out pointers into the
 * map; LMDB itself does not say where the map is). 0, or -1. */
static int s_map_find(store_t *s, const unsigned char **base, size_t *len)
{
    MDB_txn *txn;
    if (store_rtxn(s, &txn) != 0) return -1;
    MDB_val k = {6, "schema"}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    uintptr_t at = rc == 0 ? (uintptr_t)v.mv_data : 0;
    store_rtxn_close(s, txn);
    FILE *f = at ? fopen("/proc/self/maps", "re") : NULL;
    if (!f) return -1;
    char line[512];
    unsigned long lo, hi, off;
    int found = -1;
    while (found && fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &off) != 3) continue;
        if (at < lo || at >= hi || off != 0) continue;
        *base = (const unsigned char *)lo;
        *len = hi - lo;
        found = 0;
    }
    fclose(f);
    return found;
}

/* Once the map is entered, the search's own scratch and what it keeps
 * about long lists (fts_prepare): the first questions after an open would
 * otherwise fault it in and read whole lists. 0, 1 when stop said so, or a
 * code. */
static int s_prepare_search(store_t *s, int (*stop)(void *arg), void *arg)
{
    if (!s->fts) return 0;
    MDB_txn *txn;
    int rc = store_rtxn(s, &txn);
    if (rc) return rc;
    rc = fts_prepare(s->fts, txn, stop, arg);
    store_rtxn_close(s, txn);
    if (rc < 0)
        snprintf(s->err, sizeof(s->err), "%s",
                 rc == STORE_E_NOSPACE ? "no memory for the search's scratch"
                                       : "the search index's long lists could not be read");
    return rc;
}

int store_map_warm(store_t *s, size_t *from, int (*stop)(void *arg), void *arg, size_t *mapped)
{
    if (!s || s->parent || !from || !mapped) return STORE_E_ARG;
    if (!s->env) return STORE_E_IO; /* a failed reopen: store_release_memory retries */
    MDB_envinfo info;
    MDB_stat st;
    const unsigned char *base;
    size_t maplen;
    if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0 ||
        s_map_find(s, &base, &maplen) != 0) {
        snprintf(s->err, sizeof(s->err), "the database's mapping was not found in /proc/self/maps");
        return STORE_E_IO;
    }
    long sys = sysconf(_SC_PAGESIZE);
    size_t pg = sys > 0 ? (size_t)sys : 4096;
    size_t used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
    if (used > maplen) used = maplen;
    unsigned char *vec = malloc(S_SLICE / pg + 1);
    if (!vec) return STORE_E_NOMEM;
    int populate = 1, rc = 0;
    *from -= *from % pg;
    while (*from < used) {
        if (stop && stop(arg)) {
            rc = 1;
            break;
        }
        size_t len = used - *from < S_SLICE ? used - *from : S_SLICE;
        if (s_slice(base + *from, len, pg, vec, &populate, mapped) != 0) {
            snprintf(s->err, sizeof(s->err), "mincore or madvise on the database's map: %s",
                     strerror(errno));
            rc = STORE_E_IO;
            break;
        }
        *from += len;
    }
    free(vec);
    return rc ? rc : s_prepare_search(s, stop, arg);
}
