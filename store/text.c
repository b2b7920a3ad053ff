/* text.c -- tokenizer for the full-text index and for queries.
 *
 * Pipeline (text.h has the contract): invalid UTF-8 and NUL bytes become
 * spaces; the text is case-folded and NFKC-normalised in one pass
 * (u8_casefold); u8_wordbreaks gives the UAX #29 word boundaries. Inside and
 * between those boundaries we walk code points: letters, digits and marks
 * build a word, any other character ends it (so "tar.gz" gives "tar" "gz",
 * which UAX #29 would keep whole), apostrophes inside a word are dropped
 * ("don't" -> "dont") and a final "'s" is cut. Han, kana and Hangul never
 * join words: consecutive ones form a run that is emitted as overlapping
 * bigrams (a run of one as a unigram). Pure-ASCII input skips the libunistring
 * passes, because for ASCII they reduce to lower-casing and splitting at
 * non-alphanumerics, which we do anyway; that keeps query latency low.
 *
 * Words are stemmed with the Snowball stemmer of the current language
 * (text_set_lang; text_lang.c detects it): in English only words of ASCII
 * letters, in other languages any word without digits ("mp3" and numbers
 * stay as they are). Then combining accents are folded away, so "école",
 * "ecole" and "École" meet. Stopwords are flagged, not
 * dropped. The query-side synonym table lives here too, so that it is
 * stemmed by the same stemmer as the index.
 */
#include "text_int.h"

#include <libstemmer.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>
#include <uniwbrk.h>

/* English function words that carry no meaning in a query. Kept small:
 * words like "all", "not", "new", "first" do carry meaning in how-to text. */
static const char *const s_stopwords[] = {
    "a",     "about", "am",    "an",   "and",   "any",   "are",   "as",     "at",    "be",
    "been",  "but",   "by",    "can",  "could", "do",    "does",  "for",    "from",  "had",
    "has",   "have",  "how",   "i",    "if",    "in",    "into",  "is",     "it",    "its",
    "me",    "my",    "of",    "on",   "onto",  "or",    "our",   "should", "so",    "some",
    "that",  "the",   "their", "them", "then",  "there", "these", "this",   "those", "to",
    "using", "via",   "want",  "was",  "way",   "we",    "were",  "what",   "when",  "where",
    "which", "while", "who",   "will", "with",  "would", "you",   "your",
};

/* Query-side synonym groups (docs/SEARCH.md). Each line is a set of words
 * people use for the same action or object in how-to questions; a query word
 * also looks for the other members of its group at a lower weight. Groups
 * are deliberately about general computing vocabulary, not about particular
 * commands. Words are stemmed at text_new(). */
static const char *const s_syn_groups[] = {
    "delete remove erase rm wipe",
    "folder directory dir",
    "show display print view list output",
    "find search locate look lookup",
    "download fetch retrieve",
    "extract unpack decompress unzip uncompress unarchive",
    "compress zip pack archive",
    "kill terminate stop end",
    "start launch run execute begin",
    "create make new generate",
    "rename move mv",
    "change modify set alter",
    "copy duplicate clone cp",
    "image picture photo img",
    "audio sound music song",
    "video movie film clip",
    "webpage website site url page",
    "size space usage",
    "disk drive volume",
    "memory ram",
    "cpu processor",
    "computer machine host server",
    "user account",
    "login logon signin",
    "check verify validate test",
    "edit modify",
    "convert transform transcode",
    "combine merge join concatenate concat",
    "sort order",
    "compare diff difference",
    "password passphrase",
    "program application app software",
    "install setup",
    "uninstall remove",
    "upgrade update",
    "process task job",
    "ip address",
    "dns domain nameserver",
    "encrypt encipher",
    "decrypt decipher",
    "certificate cert",
    "hash checksum digest",
    "reboot restart",
    "shutdown poweroff halt",
    "time clock date",
    "email mail",
    "terminal console shell tty",
    "replace substitute",
    "text string",
    "first head beginning top",
    "last tail bottom",
    "largest biggest",
    "count number",
    "log logs journal",
    "monitor watch follow",
    "repository repo",
    "container docker",
    "connection connect",
    "send transfer upload",
    "environment env",
    "permission permissions mode",
    "schedule cron",
    "screenshot capture",
    "clipboard paste",
    "recursive recursively subdirectories",
    "documentation manual help man",
    "information info details",
    "current present",
    "network net",
    "internet web online",
    "wireless wifi wlan",
    "package pkg",
    "hidden dotfiles",
    "lines line",
    "occurrences matches match",
    "big large huge",
    "subfolder subdirectory",
    "own owner ownership",
    "hex hexadecimal",
    "exit quit close",
    "save write store",
    "free available unused",
};

#define S_NSTOP         (sizeof(s_stopwords) / sizeof(s_stopwords[0]))
#define S_NGROUPS       (sizeof(s_syn_groups) / sizeof(s_syn_groups[0]))
#define S_MAX_SYN_WORDS 512

typedef struct {
    char word[TEXT_MAX_TERM + 1]; /* stemmed */
    unsigned group;
} s_syn_t;

/* Direct-mapped cache of recent stems: text repeats its vocabulary, and
 * Snowball costs far more than a hash and two short copies. */
#define S_STEM_SLOTS 4096
#define S_STEM_MAXW  23
typedef struct {
    uint8_t wl, sl;
    int8_t lang;
    char word[S_STEM_MAXW];
    char stem[S_STEM_MAXW];
} s_stem_slot_t;

struct text {
    struct sb_stemmer *stem; /* of lang; NULL for TEXT_LANG_NONE */
    struct sb_stemmer *stems[TEXT_NLANGS];
    int lang;
    char surf[TEXT_MAX_TERM + 1]; /* the current term's word, unstemmed */
    text_fw_t *fw;                /* function words of every language */
    size_t nfw;
    size_t surf_len;
    s_stem_slot_t *scache;
    s_syn_t syn[S_MAX_SYN_WORDS];
    size_t nsyn;
};

/* State of one tokenize call. */
typedef struct {
    text_t *t;
    text_term_fn fn;
    void *arg;
    int rc;
    char word[4 * TEXT_MAX_TERM + 8]; /* current word (UTF-8) */
    size_t wlen;
    bool wcut;       /* word reached TEXT_MAX_TERM: ignore the rest */
    ucs4_t cjk_prev; /* previous CJK code point of the run, or 0 */
    unsigned cjk_n;  /* code points in the current CJK run */
    bool normalise;  /* text_normalise mode: no stemming */
} s_tok_t;

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool s_is_stop(const char *w)
{
    if (strnlen(w, 7) > 6) return false; /* the longest stopword is "should" */
    return bsearch(&w, s_stopwords, S_NSTOP, sizeof(s_stopwords[0]), s_cmp_str) != NULL;
}

/* Han (incl. extensions and compatibility), Hiragana, Katakana, Hangul. */
static bool s_is_cjk(ucs4_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x3FFFF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x3040 && c <= 0x30FF) || (c >= 0x31F0 && c <= 0x31FF) ||
           (c >= 0xFF66 && c <= 0xFF9F) || (c >= 0xAC00 && c <= 0xD7AF) ||
           (c >= 0x1100 && c <= 0x11FF) || (c >= 0x3130 && c <= 0x318F);
}

static bool s_is_wordch(ucs4_t c)
{
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
    return uc_is_alnum(c) || uc_is_general_category(c, UC_CATEGORY_M);
}

/* Stem the ASCII word buf[len] in place (NUL-terminated); returns the new
 * length. */
static size_t s_stem(text_t *t, char *buf, size_t len)
{
    s_stem_slot_t *e = NULL;
    if (len <= S_STEM_MAXW && t->scache) {
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)buf[i]) * 16777619u;
        e = &t->scache[(h ^ (uint32_t)t->lang * 0x9e3779b1u) & (S_STEM_SLOTS - 1)];
        if (e->wl == len && e->lang == t->lang && memcmp(e->word, buf, len) == 0) {
            memcpy(buf, e->stem, e->sl);
            buf[e->sl] = 0;
            return e->sl;
        }
    }
    const sb_symbol *st = sb_stemmer_stem(t->stem, (const sb_symbol *)buf, (int)len);
    int sl = st ? sb_stemmer_length(t->stem) : 0;
    if (!st || sl <= 0 || sl > TEXT_MAX_TERM) return len;
    if (e && sl <= S_STEM_MAXW) {
        e->wl = (uint8_t)len;
        e->lang = (int8_t)t->lang;
        memcpy(e->word, buf, len);
        e->sl = (uint8_t)sl;
        memcpy(e->stem, st, (size_t)sl);
    }
    memcpy(buf, st, (size_t)sl);
    buf[sl] = 0;
    return (size_t)sl;
}

/* Emit one term: stemmed in the current language and accent-folded,
 * unless normalising. */
static void s_emit(s_tok_t *k, const char *w, size_t len, unsigned flags)
{
    if (k->rc || len == 0) return;
    text_t *t = k->t;
    char buf[TEXT_MAX_TERM + 1];
    memcpy(buf, w, len);
    buf[len] = 0;
    bool ascii_alpha = true, digits = false;
    for (size_t i = 0; i < len; i++) {
        if (!(buf[i] >= 'a' && buf[i] <= 'z')) ascii_alpha = false;
        if (buf[i] >= '0' && buf[i] <= '9') digits = true;
    }
    if (!(flags & TEXT_F_CJK) &&
        (s_is_stop(buf) ||
         (t->lang > TEXT_LANG_EN && (text_fw_langs(t, buf, len) & (1u << t->lang)))))
        flags |= TEXT_F_STOP;
    if (!k->normalise) {
        memcpy(t->surf, buf, len + 1);
        t->surf_len = len;
        bool stem = t->lang == TEXT_LANG_EN ? ascii_alpha : !digits;
        if (stem && t->stem && !(flags & TEXT_F_CJK)) len = s_stem(t, buf, len);
        if (!ascii_alpha) len = text_fold(buf, len);
        if (len == 0) return;
    }
    k->rc = k->fn(buf, len, flags, k->arg);
}

static void s_flush_word(s_tok_t *k)
{
    if (k->wlen) s_emit(k, k->word, k->wlen, 0);
    k->wlen = 0;
    k->wcut = false;
}

/* A lone CJK character is emitted when its run ends. */
static void s_flush_cjk(s_tok_t *k)
{
    if (k->cjk_n == 1) {
        char b[8];
        int n = u8_uctomb((uint8_t *)b, k->cjk_prev, sizeof b);
        if (n > 0) s_emit(k, b, (size_t)n, TEXT_F_CJK);
    }
    k->cjk_n = 0;
    k->cjk_prev = 0;
}

static void s_add_cjk(s_tok_t *k, ucs4_t c)
{
    if (k->cjk_n > 0) {
        char b[16];
        int n1 = u8_uctomb((uint8_t *)b, k->cjk_prev, 8);
        int n2 = n1 > 0 ? u8_uctomb((uint8_t *)b + n1, c, 8) : -1;
        if (n1 > 0 && n2 > 0) s_emit(k, b, (size_t)(n1 + n2), TEXT_F_CJK);
    }
    k->cjk_prev = c;
    k->cjk_n++;
}

/* Append code point c (UTF-8 bytes u[n]) to the current word; words are cut
 * at TEXT_MAX_TERM bytes on a character boundary. */
static void s_add_wordch(s_tok_t *k, const uint8_t *u, size_t n)
{
    if (k->wcut) return;
    if (k->wlen + n > TEXT_MAX_TERM) {
        k->wcut = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = u[i];
        if (ch >= 'A' && ch <= 'Z') ch += 32;
        k->word[k->wlen++] = (char)ch;
    }
}

/* Walk normalised UTF-8 s[n]; brk (may be NULL for ASCII) marks UAX #29
 * boundaries. */
static void s_walk(s_tok_t *k, const uint8_t *s, size_t n, const char *brk)
{
    size_t i = 0;
    while (i < n && !k->rc) {
        ucs4_t c;
        int l;
        if (s[i] < 0x80) {
            c = s[i];
            l = 1;
        } else {
            l = u8_mbtoucr(&c, s + i, n - i);
            if (l <= 0) { /* cannot happen after sanitising; be safe */
                s_flush_word(k);
                s_flush_cjk(k);
                i++;
                continue;
            }
        }
        if (brk && brk[i]) s_flush_word(k);
        if (s_is_cjk(c)) {
            s_flush_word(k);
            s_add_cjk(k, c);
        } else {
            if (k->cjk_n) s_flush_cjk(k);
            if (s_is_wordch(c)) {
                s_add_wordch(k, s + i, (size_t)l);
            } else if ((c == '\'' || c == 0x2019) && k->wlen > 0) {
                /* Inside a word: "don't" -> "dont"; final "'s" dropped. */
                size_t j = i + (size_t)l;
                if (j < n && s[j] == 's' && (j + 1 >= n || !s_is_wordch(s[j + 1]))) {
                    s_flush_word(k);
                    i = j + 1;
                    continue;
                }
            } else {
                s_flush_word(k);
            }
        }
        i += (size_t)l;
    }
    s_flush_word(k);
    s_flush_cjk(k);
}

static int s_run(text_t *t, const char *s, size_t len, s_tok_t *k)
{
    if (!s || len == 0) return 0;
    const uint8_t *in = (const uint8_t *)s;
    bool ascii = true;
    for (size_t i = 0; i < len; i++)
        if (in[i] >= 0x80 || in[i] == 0) {
            ascii = false;
            break;
        }
    if (ascii) {
        s_walk(k, in, len, NULL);
        return k->rc;
    }
    /* Replace invalid sequences and NULs by spaces so later passes only see
     * valid UTF-8; nothing from the input is trusted. */
    uint8_t *clean = malloc(len);
    if (!clean) return -1;
    for (size_t i = 0; i < len;) {
        ucs4_t c;
        int l = u8_mbtoucr(&c, in + i, len - i);
        if (l <= 0 || c == 0) {
            clean[i++] = ' ';
            continue;
        }
        memcpy(clean + i, in + i, (size_t)l);
        i += (size_t)l;
    }
    size_t flen = 0;
    uint8_t *folded = u8_casefold(clean, len, NULL, UNINORM_NFKC, NULL, &flen);
    free(clean);
    if (!folded) return -1;
    char *brk = malloc(flen ? flen : 1);
    if (!brk) {
        free(folded);
        return -1;
    }
    u8_wordbreaks(folded, flen, brk);
    s_walk(k, folded, flen, brk);
    free(brk);
    free(folded);
    return k->rc;
}

int text_tokenize(text_t *t, const char *s, size_t len, text_term_fn fn, void *arg)
{
    if (!t || !fn) return -1;
    s_tok_t k = {.t = t, .fn = fn, .arg = arg};
    return s_run(t, s, len, &k);
}

typedef struct {
    char *out;
    size_t cap, len;
} s_norm_t;

static int s_norm_add(const char *term, size_t len, unsigned flags, void *arg)
{
    s_norm_t *o = arg;
    size_t need = len + (o->len ? 1 : 0);
    if (o->len + need + 1 > o->cap) return 1; /* full: stop quietly, the prefix is the result */
    if (o->len) o->out[o->len++] = ' ';
    memcpy(o->out + o->len, term, len);
    o->len += len;
    o->out[o->len] = 0;
    return 0;
}

int text_words(text_t *t, const char *s, size_t len, text_term_fn fn, void *arg)
{
    if (!t || !fn) return -1;
    s_tok_t k = {.t = t, .fn = fn, .arg = arg, .normalise = true};
    return s_run(t, s, len, &k);
}

int text_normalise(text_t *t, const char *s, size_t len, char *out, size_t cap)
{
    if (!t || !out || cap == 0) return -1;
    out[0] = 0;
    s_norm_t o = {.out = out, .cap = cap};
    s_tok_t k = {.t = t, .fn = s_norm_add, .arg = &o, .normalise = true};
    if (s_run(t, s, len, &k) < 0) return -1;
    return (int)o.len;
}

static int s_cmp_syn(const void *a, const void *b)
{
    const s_syn_t *x = a, *y = b;
    int c = strcmp(x->word, y->word);
    if (c) return c;
    return (x->group > y->group) - (x->group < y->group);
}

typedef struct {
    text_t *t;
    unsigned group;
} s_synb_t;

static int s_syn_add(const char *term, size_t len, unsigned flags, void *arg)
{
    s_synb_t *b = arg;
    if (b->t->nsyn >= S_MAX_SYN_WORDS) return 1;
    s_syn_t *e = &b->t->syn[b->t->nsyn++];
    memcpy(e->word, term, len);
    e->word[len] = 0;
    e->group = b->group;
    return 0;
}

text_t *text_new(void)
{
    text_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->stems[TEXT_LANG_EN] = sb_stemmer_new("english", NULL);
    t->stem = t->stems[TEXT_LANG_EN];
    t->lang = TEXT_LANG_EN;
    t->scache = calloc(S_STEM_SLOTS, sizeof *t->scache);
    t->nfw = text_fw_build(&t->fw);
    if (!t->stem || !t->scache || !t->fw) {
        free(t->fw);
        if (t->stem) sb_stemmer_delete(t->stem);
        free(t->scache);
        free(t);
        return NULL;
    }
    for (unsigned g = 0; g < S_NGROUPS; g++) {
        s_synb_t b = {.t = t, .group = g};
        text_tokenize(t, s_syn_groups[g], strlen(s_syn_groups[g]), s_syn_add, &b);
    }
    qsort(t->syn, t->nsyn, sizeof t->syn[0], s_cmp_syn);
    return t;
}

void text_destroy(text_t **p)
{
    if (!p || !*p) return;
    for (int l = 0; l < TEXT_NLANGS; l++)
        if ((*p)->stems[l]) sb_stemmer_delete((*p)->stems[l]);
    free((*p)->scache);
    free((*p)->fw);
    free(*p);
    *p = NULL;
}

int text_set_lang(text_t *t, int lang)
{
    if (!t || lang < TEXT_LANG_NONE || lang >= TEXT_NLANGS) return -1;
    if (lang == TEXT_LANG_NONE) {
        t->lang = lang;
        t->stem = NULL;
        return 0;
    }
    if (!t->stems[lang]) t->stems[lang] = sb_stemmer_new(text_lang_name(lang), "UTF_8");
    if (!t->stems[lang]) return -1;
    t->lang = lang;
    t->stem = t->stems[lang];
    return 0;
}

const text_fw_t *text_fw(const text_t *t, size_t *n)
{
    *n = t->nfw;
    return t->fw;
}

const char *text_surface(const text_t *t, size_t *len)
{
    *len = t->surf_len;
    return t->surf;
}

typedef struct {
    char *out;
    size_t len, n;
} s_one_t;

static int s_one_term(const char *term, size_t len, unsigned flags, void *arg)
{
    s_one_t *o = arg;
    if (o->n++ == 0 && !(flags & TEXT_F_CJK)) {
        memcpy(o->out, term, len + 1);
        o->len = len;
    }
    return 0;
}

size_t text_stem_word(text_t *t, const char *w, size_t len, char *out)
{
    if (!t || !w || len == 0 || len > TEXT_MAX_TERM) return 0;
    s_one_t o = {.out = out};
    if (text_tokenize(t, w, len, s_one_term, &o) || o.n != 1) return 0;
    return o.len;
}

size_t text_synonyms(text_t *t, const char *term, const char **out, size_t max)
{
    if (!t || !term || max == 0) return 0;
    /* Find the first entry for term, then every group it belongs to. */
    size_t lo = 0, hi = t->nsyn;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(t->syn[mid].word, term) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t n = 0;
    for (size_t i = lo; i < t->nsyn && strcmp(t->syn[i].word, term) == 0; i++) {
        unsigned g = t->syn[i].group;
        for (size_t j = 0; j < t->nsyn && n < max; j++) {
            if (t->syn[j].group != g || strcmp(t->syn[j].word, term) == 0) continue;
            bool dup = false;
            for (size_t m = 0; m < n; m++)
                if (strcmp(out[m], t->syn[j].word) == 0) dup = true;
            if (!dup) out[n++] = t->syn[j].word;
        }
    }
    return n;
}

const char *text_synonym_word(const text_t *t, size_t i)
{
    return t && i < t->nsyn ? t->syn[i].word : NULL;
}
