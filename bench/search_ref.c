/* search_ref.c -- the references and query sets of bench-search
 * (search_ref.h has the contract).
 *
 * SQLite FTS5 runs in-process on an in-memory table (tokenize = 'porter
 * unicode61'); natural-language queries are turned into quoted words,
 * OR-ed (FTS5's default AND finds nothing for most questions, which would
 * make the comparison meaningless) or AND-ed. Xapian runs in a child
 * process, bench/search_xapian.py, fed the queries on stdin. The typo
 * generator is deterministic so that every engine sees the same typos and
 * a run can be repeated.
 */
#include "search_ref.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#ifdef HAVE_SQLITE3
#include <sqlite3.h>
#endif

const char *const sref_f5_name[SREF_F5_MODES] = {"fts5", "fts5-10/1/5", "fts5-and"};

static uint32_t s_fnv(const char *s, size_t n, uint32_t h)
{
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

/* ---- SQLite FTS5 ---- */

#ifdef HAVE_SQLITE3
struct sref_fts5 {
    sqlite3 *db;
    sqlite3_stmt *ins, *q[2];
};

bool sref_have_fts5(void)
{
    return true;
}

sref_fts5_t *sref_fts5_new(void)
{
    sref_fts5_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (sqlite3_open(":memory:", &s->db) ||
        sqlite3_exec(s->db,
                     "CREATE VIRTUAL TABLE t USING fts5(title, body, topics,"
                     " tokenize='porter unicode61'); BEGIN",
                     NULL, NULL, NULL) ||
        sqlite3_prepare_v2(s->db, "INSERT INTO t(rowid, title, body, topics) VALUES(?,?,?,?)", -1,
                           &s->ins, NULL)) {
        fprintf(stderr, "bench-search: sqlite: %s\n", sqlite3_errmsg(s->db));
        sref_fts5_destroy(&s);
        return NULL;
    }
    return s;
}

int sref_fts5_add(sref_fts5_t *s, long rowid, const char *title, const char *body,
                  const char *const *topics)
{
    char tp[2048] = "";
    size_t o = 0;
    for (int i = 0; topics[i] && o + 1 < sizeof tp; i++)
        o += (size_t)snprintf(tp + o, sizeof tp - o, "%s ", topics[i]);
    sqlite3_bind_int64(s->ins, 1, rowid);
    sqlite3_bind_text(s->ins, 2, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->ins, 3, body, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->ins, 4, tp, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s->ins);
    sqlite3_reset(s->ins);
    return rc == SQLITE_DONE ? 0 : -1;
}

int sref_fts5_ready(sref_fts5_t *s)
{
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) return -1;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT rowid FROM t WHERE t MATCH ?"
                           " ORDER BY bm25(t, 2.0, 1.0, 1.0) LIMIT 10",
                           -1, &s->q[0], NULL) ||
        sqlite3_prepare_v2(s->db,
                           "SELECT rowid FROM t WHERE t MATCH ?"
                           " ORDER BY bm25(t, 10.0, 1.0, 5.0) LIMIT 10",
                           -1, &s->q[1], NULL))
        return -1;
    return 0;
}

/* Natural-language text -> FTS5 query of quoted words. */
static void s_fts5_query(const char *in, bool and, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    const unsigned char *p = (const unsigned char *)in;
    while (*p) {
        while (*p && *p < 0x80 &&
               !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            p++;
        if (!*p) break;
        const unsigned char *w = p;
        while (*p && (*p >= 0x80 || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9')))
            p++;
        size_t wl = (size_t)(p - w);
        if (o + wl + 8 >= cap) break;
        o += (size_t)snprintf(out + o, cap - o, "%s\"%.*s\"", o ? (and? " " : " OR ") : "", (int)wl,
                              w);
    }
}

int sref_fts5_search(sref_fts5_t *s, int mode, const char *text, long *rows, size_t *n)
{
    char match[4096];
    *n = 0;
    s_fts5_query(text, mode == SREF_F5_AND, match, sizeof match);
    if (!match[0]) return 0;
    sqlite3_stmt *q = s->q[mode == SREF_F5_OR_W ? 1 : 0];
    sqlite3_bind_text(q, 1, match, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && *n < SREF_TOPK)
        rows[(*n)++] = (long)sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

void sref_fts5_destroy(sref_fts5_t **p)
{
    if (!p || !*p) return;
    sqlite3_finalize((*p)->ins);
    sqlite3_finalize((*p)->q[0]);
    sqlite3_finalize((*p)->q[1]);
    sqlite3_close((*p)->db);
    free(*p);
    *p = NULL;
}
#else
struct sref_fts5 {
    int unused;
};
bool sref_have_fts5(void)
{
    return false;
}
sref_fts5_t *sref_fts5_new(void)
{
    return NULL;
}
int sref_fts5_add(sref_fts5_t *s, long rowid, const char *title, const char *body,
                  const char *const *topics)
{
    return 0;
}
int sref_fts5_ready(sref_fts5_t *s)
{
    return 0;
}
int sref_fts5_search(sref_fts5_t *s, int mode, const char *text, long *rows, size_t *n)
{
    *n = 0;
    return 0;
}
void sref_fts5_destroy(sref_fts5_t **p)
{
}
#endif

/* ---- Xapian ---- */

int sref_xapian(const char *script, const char *corpus, const sref_query_t *q, size_t n, int *rank,
                double *lat_us)
{
    if (access("/usr/bin/python3", X_OK) ||
        system("/usr/bin/python3 -c 'import xapian' 2>/dev/null") != 0) {
        fprintf(stderr, "bench-search: no python3-xapian (apt-get install python3-xapian); "
                        "Xapian column skipped\n");
        return -1;
    }
    char in[] = "/tmp/bench-search-xq-XXXXXX", out[] = "/tmp/bench-search-xr-XXXXXX";
    int fi = mkstemp(in), fo = mkstemp(out);
    if (fi < 0 || fo < 0) return -1;
    close(fo);
    FILE *fp = fdopen(fi, "w");
    for (size_t i = 0; i < n; i++) {
        fputs(q[i].want, fp);
        fputc('\t', fp);
        fputs(q[i].lang, fp);
        fputc('\t', fp);
        for (const char *p = q[i].text; *p; p++) fputc(*p == '\t' || *p == '\n' ? ' ' : *p, fp);
        fputc('\n', fp);
    }
    fclose(fp);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' < '%s' > '%s'", script, corpus, in, out);
    int rc = system(cmd) == 0 ? 0 : -1;
    fp = rc ? NULL : fopen(out, "r");
    for (size_t i = 0; fp && i < n; i++)
        if (fscanf(fp, "%d %lf", &rank[i], &lat_us[i]) != 2) rc = -1;
    if (fp) fclose(fp);
    unlink(in);
    unlink(out);
    return rc;
}

/* ---- query sets ---- */

static bool s_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

void sref_typo(const char *in, uint32_t seed, char *out, size_t cap)
{
    size_t o = 0, i = 0, n = strlen(in);
    if (cap == 0) return;
    while (i < n && o + 3 < cap) {
        if (!s_letter(in[i]) || (i > 0 && ((unsigned char)in[i - 1] >= 0x80))) {
            out[o++] = in[i++];
            continue;
        }
        size_t j = i;
        while (j < n && s_letter(in[j])) j++;
        size_t wl = j - i;
        if (wl < 5 || (j < n && (unsigned char)in[j] >= 0x80) || o + wl + 2 >= cap) {
            memcpy(out + o, in + i, wl);
            o += wl;
            i = j;
            continue;
        }
        uint32_t h = s_fnv(in + i, wl, 2166136261u ^ seed) * 2654435761u;
        size_t p = (h >> 8) % wl;
        char ch = (char)('a' + (h >> 16) % 26);
        const char *w = in + i;
        switch (h % 4) {
        case 0: /* deletion */
            memcpy(out + o, w, p);
            memcpy(out + o + p, w + p + 1, wl - p - 1);
            o += wl - 1;
            break;
        case 1: /* insertion */
            memcpy(out + o, w, p);
            out[o + p] = ch;
            memcpy(out + o + p + 1, w + p, wl - p);
            o += wl + 1;
            break;
        case 3: /* transposition (of two different letters) */
            if (p + 1 < wl && w[p] != w[p + 1]) {
                memcpy(out + o, w, wl);
                out[o + p] = w[p + 1];
                out[o + p + 1] = w[p];
                o += wl;
                break;
            }
            /* substitute instead */
            __attribute__((fallthrough));
        default: /* substitution */
            memcpy(out + o, w, wl);
            if (ch == (w[p] | 0x20)) ch = ch == 'z' ? 'a' : (char)(ch + 1);
            out[o + p] = ch;
            o += wl;
            break;
        }
        i = j;
    }
    out[o] = 0;
}

int sref_page_query(const char *name, const char *body, char *out, size_t cap)
{
    const char *ex[2] = {NULL, NULL};
    size_t nex = 0;
    for (const char *p = body; p && *p && nex < 2;) {
        if (p[0] == '-' && p[1] == ' ') ex[nex++] = p + 2;
        p = strchr(p, '\n');
        if (p) p++;
    }
    const char *e = nex == 2 ? ex[1] : ex[0];
    if (!e) return -1;
    size_t el = strcspn(e, "\n");
    while (el > 0 && (e[el - 1] == ':' || e[el - 1] == ' ' || e[el - 1] == 0x3a)) el--;
    /* Drop the command's own name wherever it stands as a word. */
    size_t nl = strlen(name), o = 0;
    for (size_t i = 0; i < el && o + 1 < cap;) {
        bool at_word = i == 0 || e[i - 1] == ' ' || e[i - 1] == '`';
        if (nl && at_word && el - i >= nl && strncasecmp(e + i, name, nl) == 0 &&
            (i + nl == el || e[i + nl] == ' ' || e[i + nl] == '`')) {
            i += nl;
            continue;
        }
        out[o++] = e[i] == '`' ? ' ' : e[i];
        i++;
    }
    out[o] = 0;
    return o > 0 ? 0 : -1;
}
