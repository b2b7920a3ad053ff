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
 * Pages that are not resident are left alone, so it never reads from the
 * disk a page that was not in memory: it only saves the faults a reader
 * would have taken for pages already there. The cost is the page table
 * itself, 8 bytes per 4 KiB page mapped (2 KiB per MiB of store), kernel
 * memory, not the process's private memory. It works in slices and asks its caller between
 * them whether to stop, so the writer thread that runs it can give way to
 * a commit at once and resume later. When the whole map is entered it also
 * sizes the search's scratch (fts_prepare), the other thing a first
 * question would fault in.
 *
 * On such a machine the entries do not stay warm: the host clears pages'
 * accessed bits, and a 4 KiB page untouched for some seconds traps again,
 * so the first questions after an idle spell paid for every page again
 * (first-pass p99 10.2 ms against 8.4 ms at a million tips). A huge (2 MiB)
 * entry does not. So the warm also reads each wholly resident 2 MiB chunk
 * that is not mapped huge back from the file as one folio (s_regroup):
 * what LMDB wrote 4 KiB at a time then sits in 2 MiB folios, mapped with one
 * entry each (docs/STORE.md, "Huge pages").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "store_int.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif

#define S_SLICE ((size_t)16 << 20) /* bytes looked at between two stop checks */
#define S_PMD   ((size_t)2 << 20)  /* what one page-middle-directory entry maps */
#define S_TRIES 8 /* chunks in a row re-read in vain before a warm stops re-reading */

/* PAGEMAP_SCAN (Linux 6.7, linux/fs.h, whose copy in older C libraries
 * lacks it): which pages of a range are present and mapped by a huge entry. */
typedef struct {
    uint64_t start, end, categories;
} s_pm_region_t;
typedef struct {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
} s_pm_scan_t;
#define S_PAGEMAP_SCAN _IOWR('f', 16, s_pm_scan_t)
#define S_PAGE_PRESENT (1u << 3)
#define S_PAGE_HUGE    (1u << 6)

/* The re-reading of resident chunks into huge pages, for one warm. */
typedef struct {
    int pm;          /* /proc/self/pagemap, -1: no PAGEMAP_SCAN (or the map is not aligned) */
    int fd;          /* data.mdb */
    unsigned misses; /* chunks in a row that came back in small pages */
    size_t bytes;    /* re-read into huge pages */
} s_huge_t;

/* Is the chunk at p mapped whole by a huge entry? 1, 0, or -1 when the
 * kernel cannot say. */
static int s_is_huge(int pm, const unsigned char *p)
{
    s_pm_region_t r[2];
    s_pm_scan_t a = {.size = sizeof a,
                     .start = (uintptr_t)p,
                     .end = (uintptr_t)p + S_PMD,
                     .vec = (uintptr_t)r,
                     .vec_len = 2,
                     .category_mask = S_PAGE_PRESENT | S_PAGE_HUGE,
                     .return_mask = S_PAGE_PRESENT | S_PAGE_HUGE};
    long n = ioctl(pm, S_PAGEMAP_SCAN, &a);
    if (n < 0) return -1;
    return n == 1 && r[0].start == a.start && r[0].end == a.end;
}

/* Have the page cache hold the resident chunk at p (file offset off) as
 * one huge folio, mapped by one entry. LMDB writes pages of 4 KiB, so the
 * page cache holds what tipd wrote in 4 KiB folios, each entered on its own
 * and each, on a virtual machine whose host clears pages' accessed bits, a
 * trap on the first touch after an idle spell. A chunk read back from the
 * file comes in as one 2 MiB folio (the kernel's read-ahead for a range
 * marked MADV_HUGEPAGE), which stays entered. So: drop this process's
 * entries for the chunk, drop the page cache's clean copy (never a dirty
 * page: the kernel keeps those) and read it back. Readers meanwhile fault
 * the same bytes back in from the page cache or the file. Gives up for
 * this warm after S_TRIES chunks in a row stay small (a file system or
 * kernel without large folios, or memory too fragmented for them): the
 * caller calls only while h->pm >= 0 and h->misses < S_TRIES. */
static void s_regroup(s_huge_t *h, const unsigned char *p, size_t off)
{
    if (madvise((void *)p, S_PMD, MADV_POPULATE_READ) != 0) {
        h->misses = S_TRIES;
        return;
    }
    int huge = s_is_huge(h->pm, p);
    if (huge != 0) {
        if (huge < 0) h->misses = S_TRIES;
        return;
    }
    if (madvise((void *)p, S_PMD, MADV_HUGEPAGE) != 0 ||
        madvise((void *)p, S_PMD, MADV_DONTNEED) != 0 ||
        posix_fadvise(h->fd, (off_t)off, (off_t)S_PMD, POSIX_FADV_DONTNEED) != 0 ||
        madvise((void *)p, S_PMD, MADV_POPULATE_READ) != 0) {
        h->misses = S_TRIES;
        return;
    }
    if (s_is_huge(h->pm, p) == 1) {
        h->misses = 0;
        h->bytes += S_PMD;
    } else {
        h->misses++;
    }
}

/* Ready h for the map at base: only a map aligned to S_PMD can have huge
 * entries, and only a kernel with PAGEMAP_SCAN says whether it has. */
static void s_huge_open(s_huge_t *h, store_t *s, const unsigned char *base)
{
    h->pm = h->fd = -1;
    h->misses = 0;
    h->bytes = 0;
    if ((uintptr_t)base % S_PMD || mdb_env_get_fd(s->env, &h->fd) != 0) return;
    h->pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
}

static void s_huge_close(s_huge_t *h)
{
    if (h->pm >= 0) close(h->pm);
    h->pm = -1;
}

/* Read one byte of every page of [p, p + len): maps them on kernels without
 * MADV_POPULATE_READ, and makes the first access of each that a shadowing
 * hypervisor traps here rather than in a reader. */
static void s_touch(const unsigned char *p, size_t len, size_t pg)
{
    volatile unsigned char sink = 0;
    for (size_t o = 0; o < len; o += pg) sink ^= p[o];
    (void)sink;
}

/* Re-read the whole resident chunks of a slice at file offset off into
 * huge pages (s_regroup); vec is the slice's mincore. Each chunk reads 2 MiB
 * from the file, so stop(arg) is asked before each: 1 when it said so. */
static int s_slice_huge(s_huge_t *h, const unsigned char *base, size_t off, size_t len, size_t pg,
                        const unsigned char *vec, int (*stop)(void *arg), void *arg)
{
    if (h->pm < 0) return 0;
    size_t per = S_PMD / pg;
    for (size_t c = 0; c + S_PMD <= len; c += S_PMD) {
        size_t i = c / pg, n = 0;
        while (n < per && (vec[i + n] & 1)) n++;
        if (n < per) continue;
        if (h->misses >= S_TRIES) return 0;
        if (c > 0 && stop && stop(arg)) return 1;
        s_regroup(h, base + c, off + c);
    }
    return 0;
}

/* Map the resident runs of one slice [base, base + len) at file offset off,
 * its whole resident chunks in huge pages where h can; vec holds one byte
 * per page. Adds the bytes mapped to *mapped. 0, 1 when stop said so
 * (between chunks), or -1 with errno. */
static int s_slice(const unsigned char *base, size_t off, size_t len, size_t pg, unsigned char *vec,
                   int *populate, s_huge_t *h, int (*stop)(void *arg), void *arg, size_t *mapped)
{
    if (mincore((void *)base, len, vec) != 0) return -1;
    if (off % S_PMD == 0 && s_slice_huge(h, base, off, len, pg, vec, stop, arg)) return 1;
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

/* Where LMDB mapped data.mdb (its length is the env's me_mapsize): from the
 * mapping of /proc/self/maps that holds a value read from the store (read
 * transactions hand out pointers into the map; LMDB itself does not say
 * where the map is). 0, or -1. */
static int s_map_find(store_t *s, const unsigned char **base)
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
        if (at < lo || at >= hi || off > lo) continue;
        /* LMDB maps the file from its start in one mmap; madvise on parts
         * of it (s_regroup) splits it into several entries here. */
        *base = (const unsigned char *)(lo - off);
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

int store_map_warm(store_t *s, size_t *from, int (*stop)(void *arg), void *arg, size_t *mapped,
                   size_t *huge)
{
    if (!s || s->parent || !from || !mapped || !huge) return STORE_E_ARG;
    if (!s->env) return STORE_E_IO; /* a failed reopen: store_release_memory retries */
    MDB_envinfo info;
    MDB_stat st;
    const unsigned char *base;
    if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0 ||
        s_map_find(s, &base) != 0) {
        snprintf(s->err, sizeof(s->err), "the database's mapping was not found in /proc/self/maps");
        return STORE_E_IO;
    }
    long sys = sysconf(_SC_PAGESIZE);
    size_t pg = sys > 0 ? (size_t)sys : 4096;
    size_t used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
    if (used > info.me_mapsize) used = info.me_mapsize;
    unsigned char *vec = malloc(S_SLICE / pg + 1);
    if (!vec) return STORE_E_NOMEM;
    int populate = 1, rc = 0;
    s_huge_t h;
    s_huge_open(&h, s, base);
    *from -= *from % pg;
    while (*from < used) {
        if (stop && stop(arg)) {
            rc = 1;
            break;
        }
        size_t len = used - *from < S_SLICE ? used - *from : S_SLICE;
        int sl = s_slice(base + *from, *from, len, pg, vec, &populate, &h, stop, arg, mapped);
        if (sl == 1) {
            rc = 1;
            break;
        }
        if (sl != 0) {
            snprintf(s->err, sizeof(s->err), "mincore or madvise on the database's map: %s",
                     strerror(errno));
            rc = STORE_E_IO;
            break;
        }
        *from += len;
    }
    s_huge_close(&h);
    *huge += h.bytes;
    free(vec);
    return rc ? rc : s_prepare_search(s, stop, arg);
}
