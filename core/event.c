/* event.c -- canonical encoding, ids and signatures of tipd events.
 *
 * The format (docs/PROTOCOL.md section 1) has exactly one byte string per
 * event. The encoder only writes events that pass event_validate(), and the
 * decoder parses field by field with an explicit cursor that checks every
 * length against its bound and against the bytes left before touching them,
 * then runs the same event_validate() on the result. So "decodes" and
 * "re-encodes to the same bytes" are the same property, which the fuzz
 * target checks.
 *
 * Error precedence when several things are wrong: the decoder reports the
 * first problem in byte order, and for a length field it reports an
 * over-bound length (EVENT_E_OVERSIZE) before a short buffer
 * (EVENT_E_TRUNCATED). Ref roles, the order of refs and topics and the
 * topic alphabet are checked while parsing; the text rules and the per-kind
 * rules come after, in event_validate()'s order. The word-at-a-time ASCII
 * test in s_utf8_check may send a word to the byte-by-byte path needlessly,
 * never the other way, so it changes speed only.
 *
 * Version 2 differs from version 1 in two places only: topics may hold
 * letters of any script (case-folded, NFC; libunistring does both), and an
 * imported mark with its source follows the body. The setters switch an
 * event to version 2 only when it uses one of these, and the decoder refuses
 * a version 2 event that uses neither, so every event that version 1 can
 * express keeps exactly one encoding, the one older nodes accept.
 *
 * The id hashes a domain-separation string plus the unsigned encoding with
 * BLAKE2b-256, and the Ed25519 signature is over that 32-byte id, so a
 * verifier hashes the (up to 17 KiB) event once and signs/verifies a short
 * message.
 */
#include "event.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#define S_DOMAIN     "tipd-event-v1"
#define S_DOMAIN_LEN (sizeof(S_DOMAIN)) /* includes the 0x00 separator */

/* Which control characters a text field may hold. */
enum { S_TEXT_LINE, S_TEXT_BODY };

uint64_t event_anon_time(uint64_t ms)
{
    return ms - ms % EVENT_ANON_GRAIN_MS;
}

int event_on_anon_grain(uint64_t ms)
{
    return ms % EVENT_ANON_GRAIN_MS == 0;
}

int event_err_is_malformed(int code)
{
    switch (code) {
    case EVENT_E_TRUNCATED:
    case EVENT_E_VERSION:
    case EVENT_E_KIND:
    case EVENT_E_TRAILING:
    case EVENT_E_UTF8:
    case EVENT_E_OVERSIZE:
    case EVENT_E_FIELD:
    case EVENT_E_ORDER:
    case EVENT_E_TOPIC:
    case EVENT_E_SIG:
    case EVENT_E_REFS:
    case EVENT_E_HEX:
    case EVENT_E_NEEDLESS:
        return 1;
    default:
        return 0;
    }
}

const char *event_strerror(int code)
{
    switch (code) {
    case EVENT_OK:
        return "ok";
    case EVENT_E_TRUNCATED:
        return "event is truncated";
    case EVENT_E_VERSION:
        return "unknown event format version";
    case EVENT_E_KIND:
        return "unknown event kind";
    case EVENT_E_TRAILING:
        return "unexpected bytes after the signature";
    case EVENT_E_UTF8:
        return "text is not valid UTF-8 or holds control characters";
    case EVENT_E_OVERSIZE:
        return "a field is longer than its limit";
    case EVENT_E_FIELD:
        return "a field is out of range for this kind of event";
    case EVENT_E_ORDER:
        return "topics or references are not sorted and unique";
    case EVENT_E_TOPIC:
        return "a topic is letters, digits and . _ + # -, lower case (version 1: a-z only)";
    case EVENT_E_SIG:
        return "signature does not verify";
    case EVENT_E_FUTURE:
        return "event is stamped more than 10 minutes in the future";
    case EVENT_E_NOSPACE:
        return "output buffer too small";
    case EVENT_E_REFS:
        return "references are wrong for this kind of event";
    case EVENT_E_NEEDLESS:
        return "a version 2 event must use Unicode topics or the imported mark";
    case EVENT_E_HEX:
        return "not a hex id or id prefix (4-64 hex characters)";
    default:
        return "unknown event error";
    }
}

static const char *const s_kind_names[] = {
    NULL, "tip", "question", "rating", "thanks", "retract", "profile",
};

const char *event_kind_name(int kind)
{
    if (kind < EVENT_TIP || kind > EVENT_PROFILE) return NULL;
    return s_kind_names[kind];
}

int event_kind_from_name(const char *name)
{
    if (!name) return -1;
    for (int k = EVENT_TIP; k <= EVENT_PROFILE; k++)
        if (strcmp(name, s_kind_names[k]) == 0) return k;
    return -1;
}

const uint8_t *event_ref(const event_t *ev, int role)
{
    for (unsigned i = 0; i < ev->nrefs && i < EVENT_MAX_REFS; i++)
        if (ev->refs[i].role == role) return ev->refs[i].id;
    return NULL;
}

const char *event_ref_role_name(int role)
{
    switch (role) {
    case EVENT_REF_TARGET:
        return "target";
    case EVENT_REF_ANSWERS:
        return "answers";
    case EVENT_REF_SUPERSEDES:
        return "supersedes";
    case EVENT_REF_RELATED:
        return "related";
    default:
        return "unknown";
    }
}

void event_init(event_t *ev, event_kind_t kind)
{
    memset(ev, 0, sizeof *ev);
    ev->version = EVENT_VERSION;
    ev->kind = (uint8_t)kind;
}

/* ---- text checks ---- */

/* 1 if all 8 bytes at p are printable ASCII (0x20..0x7e). Word-at-a-time
 * tests from "Bit Twiddling Hacks": each term is non-zero iff some byte has
 * the high bit, is below 0x20, or equals 0x7f. */
static int s_printable8(const uint8_t *p)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t below = (w - ones * 0x20) & ~w & highs;
    uint64_t x = w ^ (ones * 0x7f);
    uint64_t del = (x - ones) & ~x & highs;
    return ((w & highs) | below | del) == 0;
}

/* Check s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF) with no NUL and no DEL. S_TEXT_LINE refuses every
 * C0 and C1 control; S_TEXT_BODY allows tab and newline and refuses other C0
 * controls. Returns 0 or EVENT_E_UTF8. */
static int s_utf8_check(const uint8_t *s, size_t n, int mode)
{
    size_t i = 0;
    while (i < n) {
        /* Most text is printable ASCII: take it 8 bytes at a time. */
        if (n - i >= 8 && s_printable8(s + i)) {
            i += 8;
            continue;
        }
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c < 0x20) {
                if (mode == S_TEXT_LINE || (c != '\t' && c != '\n')) return EVENT_E_UTF8;
            } else if (c == 0x7f) {
                return EVENT_E_UTF8;
            }
            i++;
            continue;
        }
        uint32_t cp;
        size_t need;
        uint32_t min;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return EVENT_E_UTF8; /* continuation byte, C0/C1 overlong lead, or > U+13FFFF */
        }
        if (n - i - 1 < need) return EVENT_E_UTF8;
        for (size_t k = 1; k <= need; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xc0) != 0x80) return EVENT_E_UTF8;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return EVENT_E_UTF8;
        if (mode == S_TEXT_LINE && cp <= 0x9f) /* C1 controls U+0080..U+009F */
            return EVENT_E_UTF8;
        i += need + 1;
    }
    return 0;
}

static int s_topic_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '+' ||
           c == '#' || c == '-';
}

/* 1 if t[0..n) has a byte outside ASCII. */
static int s_non_ascii(const uint8_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (t[i] & 0x80) return 1;
    return 0;
}

/* A version 2 topic character: a letter, a combining mark, a decimal digit
 * or one of . _ + # - (upper-case letters never survive case folding). */
static int s_topic_uc(ucs4_t uc)
{
    if (uc < 0x80) return s_topic_char((uint8_t)uc);
    return uc_is_general_category(uc, UC_LETTER) || uc_is_general_category(uc, UC_MARK) ||
           uc_is_general_category(uc, UC_DECIMAL_DIGIT_NUMBER);
}

/* Case-fold and NFC-normalise n bytes of UTF-8 into out[cap]; its length,
 * or 0 when it is not valid UTF-8 or does not fit. */
static size_t s_fold(const uint8_t *t, size_t n, uint8_t *out, size_t cap)
{
    size_t len = cap;
    uint8_t *r = u8_casefold(t, n, NULL, UNINORM_NFC, out, &len);
    if (!r) return 0;
    if (r != out) { /* did not fit: longer than any topic may be */
        free(r);
        return 0;
    }
    return len;
}

/* Check a topic of n bytes against version's alphabet: version 1, 1..32
 * bytes of a-z 0-9 . _ + # -; version 2 also letters and marks of any
 * script and decimal digits, in the form case folding and NFC give (so
 * "Büro" and "bu\u0308ro" are both "büro"). The first bad character's
 * offset goes to *bad when bad is not NULL. */
static int s_topic_check_v(const uint8_t *t, size_t n, int version, size_t *bad)
{
    if (n == 0) return EVENT_E_TOPIC;
    if (n > EVENT_MAX_TOPIC_LEN) return EVENT_E_OVERSIZE;
    if (version == EVENT_VERSION || !s_non_ascii(t, n)) {
        for (size_t i = 0; i < n; i++)
            if (!s_topic_char(t[i])) {
                if (bad) *bad = i;
                return EVENT_E_TOPIC;
            }
        return 0;
    }
    if (u8_check(t, n) || memchr(t, 0, n)) {
        if (bad) *bad = 0;
        return EVENT_E_TOPIC;
    }
    for (size_t i = 0; i < n;) {
        ucs4_t uc;
        int k = u8_mbtouc(&uc, t + i, n - i);
        if (k <= 0 || !s_topic_uc(uc)) {
            if (bad) *bad = i;
            return EVENT_E_TOPIC;
        }
        i += (size_t)k;
    }
    uint8_t norm[4 * EVENT_MAX_TOPIC_LEN];
    size_t m = s_fold(t, n, norm, sizeof norm);
    if (m != n || memcmp(norm, t, n)) {
        if (bad) *bad = 0;
        return EVENT_E_TOPIC;
    }
    return 0;
}

int event_topic_norm(const char *in, char out[EVENT_MAX_TOPIC_LEN + 1], size_t *bad)
{
    size_t n = in ? strlen(in) : 0, dummy;
    if (!bad) bad = &dummy;
    *bad = 0;
    out[0] = '\0';
    if (n == 0) return EVENT_E_TOPIC;
    uint8_t norm[4 * EVENT_MAX_TOPIC_LEN + 4];
    size_t m;
    if (n > 4 * EVENT_MAX_TOPIC_LEN) return EVENT_E_OVERSIZE;
    if (!s_non_ascii((const uint8_t *)in, n)) {
        for (m = 0; m < n; m++)
            norm[m] = (uint8_t)(in[m] >= 'A' && in[m] <= 'Z' ? in[m] + 32 : in[m]);
    } else if (u8_check((const uint8_t *)in, n)) {
        return EVENT_E_TOPIC;
    } else if (!(m = s_fold((const uint8_t *)in, n, norm, sizeof norm))) {
        return EVENT_E_OVERSIZE;
    }
    /* Characters first: "a b" is refused for its space, whatever its length. */
    for (size_t i = 0; i < m;) {
        ucs4_t uc;
        int k = u8_mbtouc(&uc, norm + i, m - i);
        if (k <= 0 || !s_topic_uc(uc)) {
            *bad = i;
            size_t cl = k > 0 ? (size_t)k : 1, show = i + cl < m ? i + cl : m;
            memcpy(out, norm, show < EVENT_MAX_TOPIC_LEN ? show : EVENT_MAX_TOPIC_LEN);
            out[show < EVENT_MAX_TOPIC_LEN ? show : EVENT_MAX_TOPIC_LEN] = '\0';
            return EVENT_E_TOPIC;
        }
        i += (size_t)k;
    }
    if (m > EVENT_MAX_TOPIC_LEN) return EVENT_E_OVERSIZE;
    memcpy(out, norm, m);
    out[m] = '\0';
    return 0;
}

/* Bytewise comparison of two topics as length-prefixed strings: shorter
 * prefix sorts first, as strcmp does on NUL-terminated strings. */
static int s_topic_cmp(const char *a, const char *b)
{
    return strcmp(a, b);
}

static int s_ref_cmp(const event_ref_t *a, const event_ref_t *b)
{
    if (a->role != b->role) return a->role < b->role ? -1 : 1;
    return memcmp(a->id, b->id, EVENT_ID_LEN);
}

/* ---- setters ---- */

int event_set_title(event_t *ev, const char *s, size_t len)
{
    if (len > EVENT_MAX_TITLE) return EVENT_E_OVERSIZE;
    if (len && !s) return EVENT_E_FIELD;
    int rc = s_utf8_check((const uint8_t *)s, len, S_TEXT_LINE);
    if (rc) return rc;
    if (len) memcpy(ev->title, s, len);
    ev->title[len] = '\0';
    ev->title_len = (uint16_t)len;
    return 0;
}

int event_set_body(event_t *ev, const char *s, size_t len)
{
    if (len > EVENT_MAX_BODY) return EVENT_E_OVERSIZE;
    if (len && !s) return EVENT_E_FIELD;
    int rc = s_utf8_check((const uint8_t *)s, len, S_TEXT_BODY);
    if (rc) return rc;
    if (len) memcpy(ev->body, s, len);
    ev->body[len] = '\0';
    ev->body_len = (uint16_t)len;
    return 0;
}

/* Normalises the topic (event_topic_norm); adding a topic already present
 * is a no-op. */
int event_add_topic(event_t *ev, const char *topic)
{
    if (!topic) return EVENT_E_TOPIC;
    char t[EVENT_MAX_TOPIC_LEN + 1];
    int rc = event_topic_norm(topic, t, NULL);
    if (rc) return rc;
    size_t n = strlen(t);
    if (s_non_ascii((const uint8_t *)t, n) && ev->ntopics < EVENT_MAX_TOPICS)
        ev->version = EVENT_VERSION_2;
    if (ev->ntopics > EVENT_MAX_TOPICS) return EVENT_E_OVERSIZE;
    size_t pos = 0;
    while (pos < ev->ntopics) {
        int c = s_topic_cmp(ev->topics[pos], t);
        if (c == 0) return 0;
        if (c > 0) break;
        pos++;
    }
    if (ev->ntopics == EVENT_MAX_TOPICS) return EVENT_E_OVERSIZE;
    memmove(ev->topics[pos + 1], ev->topics[pos],
            (size_t)(ev->ntopics - pos) * sizeof ev->topics[0]);
    memcpy(ev->topics[pos], t, n + 1);
    ev->ntopics++;
    return 0;
}

int event_set_imported(event_t *ev, const char *source)
{
    if (ev->kind != EVENT_TIP && ev->kind != EVENT_QUESTION) return EVENT_E_FIELD;
    size_t n = source ? strlen(source) : 0;
    if (n > EVENT_MAX_SOURCE) {
        n = EVENT_MAX_SOURCE;
        while (n > 0 && ((uint8_t)source[n] & 0xC0) == 0x80) n--;
    }
    int rc = s_utf8_check((const uint8_t *)source, n, S_TEXT_LINE);
    if (rc) return rc;
    if (n) memcpy(ev->source, source, n);
    ev->source[n] = '\0';
    ev->source_len = (uint8_t)n;
    ev->imported = 1;
    ev->version = EVENT_VERSION_2;
    return 0;
}

/* Inserts in (role, id) order; an identical reference is a no-op. */
int event_add_ref(event_t *ev, event_ref_role_t role, const uint8_t id[EVENT_ID_LEN])
{
    if (role < EVENT_REF_TARGET || role > EVENT_REF_RELATED || !id) return EVENT_E_REFS;
    if (ev->nrefs > EVENT_MAX_REFS) return EVENT_E_OVERSIZE;
    event_ref_t r;
    r.role = (uint8_t)role;
    memcpy(r.id, id, EVENT_ID_LEN);
    size_t pos = 0;
    while (pos < ev->nrefs) {
        int c = s_ref_cmp(&ev->refs[pos], &r);
        if (c == 0) return 0;
        if (c > 0) break;
        pos++;
    }
    if (ev->nrefs == EVENT_MAX_REFS) return EVENT_E_OVERSIZE;
    memmove(&ev->refs[pos + 1], &ev->refs[pos], (size_t)(ev->nrefs - pos) * sizeof r);
    ev->refs[pos] = r;
    ev->nrefs++;
    return 0;
}

/* ---- validation ---- */

/* Per-kind rules on references: counts by role. */
static int s_check_refs(const event_t *ev)
{
    unsigned by_role[5] = {0};
    for (size_t i = 0; i < ev->nrefs; i++) by_role[ev->refs[i].role]++;
    switch (ev->kind) {
    case EVENT_TIP:
        if (by_role[EVENT_REF_TARGET] || by_role[EVENT_REF_ANSWERS] > 1 ||
            by_role[EVENT_REF_SUPERSEDES] > 1)
            return EVENT_E_REFS;
        return 0;
    case EVENT_QUESTION:
        if (by_role[EVENT_REF_TARGET] || by_role[EVENT_REF_ANSWERS] ||
            by_role[EVENT_REF_SUPERSEDES] > 1)
            return EVENT_E_REFS;
        return 0;
    case EVENT_RATING:
    case EVENT_THANKS:
    case EVENT_RETRACT:
        if (ev->nrefs != 1 || ev->refs[0].role != EVENT_REF_TARGET) return EVENT_E_REFS;
        return 0;
    case EVENT_PROFILE:
        return ev->nrefs ? EVENT_E_REFS : 0;
    }
    return EVENT_E_KIND;
}

/* Per-kind rules on value, topics, title and body. */
static int s_check_kind(const event_t *ev)
{
    switch (ev->kind) {
    case EVENT_TIP:
    case EVENT_QUESTION:
        if (ev->value != 0 || ev->title_len == 0) return EVENT_E_FIELD;
        return 0;
    case EVENT_RATING:
        if (ev->value < 1 || ev->value > 5 || ev->ntopics || ev->title_len || ev->body_len)
            return EVENT_E_FIELD;
        return 0;
    case EVENT_THANKS:
        if (ev->value || ev->ntopics || ev->title_len || ev->body_len > EVENT_MAX_STORY)
            return EVENT_E_FIELD;
        return 0;
    case EVENT_RETRACT:
        if (ev->value || ev->ntopics || ev->title_len || ev->body_len) return EVENT_E_FIELD;
        return 0;
    case EVENT_PROFILE:
        if (ev->value || ev->ntopics || ev->title_len == 0 || ev->title_len > EVENT_MAX_NAME ||
            ev->body_len > EVENT_MAX_TEAM)
            return EVENT_E_FIELD;
        /* The team is one line, held to the title's rules (no controls). */
        if (s_utf8_check((const uint8_t *)ev->body, ev->body_len, S_TEXT_LINE))
            return EVENT_E_FIELD;
        return 0;
    }
    return EVENT_E_KIND;
}

int event_validate(const event_t *ev)
{
    if (!ev) return EVENT_E_FIELD;
    if (ev->version != EVENT_VERSION && ev->version != EVENT_VERSION_2) return EVENT_E_VERSION;
    if (ev->kind < EVENT_TIP || ev->kind > EVENT_PROFILE) return EVENT_E_KIND;
    if (ev->created_at == 0) return EVENT_E_FIELD;
    if (ev->nrefs > EVENT_MAX_REFS || ev->ntopics > EVENT_MAX_TOPICS) return EVENT_E_OVERSIZE;
    for (size_t i = 0; i < ev->nrefs; i++) {
        if (ev->refs[i].role < EVENT_REF_TARGET || ev->refs[i].role > EVENT_REF_RELATED)
            return EVENT_E_REFS;
        if (i && s_ref_cmp(&ev->refs[i - 1], &ev->refs[i]) >= 0) return EVENT_E_ORDER;
    }
    int v2_needed = 0;
    for (size_t i = 0; i < ev->ntopics; i++) {
        size_t n = strnlen(ev->topics[i], EVENT_MAX_TOPIC_LEN + 1);
        int rc = s_topic_check_v((const uint8_t *)ev->topics[i], n, ev->version, NULL);
        if (rc) return rc;
        if (i && s_topic_cmp(ev->topics[i - 1], ev->topics[i]) >= 0) return EVENT_E_ORDER;
        v2_needed |= s_non_ascii((const uint8_t *)ev->topics[i], n);
    }
    if (ev->version == EVENT_VERSION && (ev->imported || ev->source_len)) return EVENT_E_FIELD;
    if (ev->imported > 1 || (!ev->imported && ev->source_len) || ev->source_len > EVENT_MAX_SOURCE)
        return EVENT_E_FIELD;
    if (ev->imported && ev->kind != EVENT_TIP && ev->kind != EVENT_QUESTION) return EVENT_E_FIELD;
    if (s_utf8_check((const uint8_t *)ev->source, ev->source_len, S_TEXT_LINE)) return EVENT_E_UTF8;
    if (ev->version == EVENT_VERSION_2 && !v2_needed && !ev->imported) return EVENT_E_NEEDLESS;
    if (ev->title_len > EVENT_MAX_TITLE || ev->body_len > EVENT_MAX_BODY) return EVENT_E_OVERSIZE;
    if (s_utf8_check((const uint8_t *)ev->title, ev->title_len, S_TEXT_LINE) ||
        s_utf8_check((const uint8_t *)ev->body, ev->body_len, S_TEXT_BODY))
        return EVENT_E_UTF8;
    int rc = s_check_refs(ev);
    if (rc) return rc;
    return s_check_kind(ev);
}

/* ---- encoding ---- */

static void s_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void s_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* Length of the unsigned encoding of a valid event. */
static size_t s_unsigned_len(const event_t *ev)
{
    size_t n = 1 + 1 + EVENT_KEY_LEN + 8 + 1 + (size_t)ev->nrefs * (1 + EVENT_ID_LEN) + 1;
    for (size_t i = 0; i < ev->ntopics; i++) n += 1 + strlen(ev->topics[i]);
    n += 1 + 2 + ev->title_len + 2 + ev->body_len;
    return ev->version == EVENT_VERSION_2 ? n + 2 + ev->source_len : n;
}

/* Write the unsigned encoding of a validated event; out has room. */
static size_t s_write_unsigned(const event_t *ev, uint8_t *out)
{
    uint8_t *p = out;
    *p++ = ev->version;
    *p++ = ev->kind;
    memcpy(p, ev->author, EVENT_KEY_LEN);
    p += EVENT_KEY_LEN;
    s_put_u64(p, ev->created_at);
    p += 8;
    *p++ = ev->nrefs;
    for (size_t i = 0; i < ev->nrefs; i++) {
        *p++ = ev->refs[i].role;
        memcpy(p, ev->refs[i].id, EVENT_ID_LEN);
        p += EVENT_ID_LEN;
    }
    *p++ = ev->ntopics;
    for (size_t i = 0; i < ev->ntopics; i++) {
        size_t n = strlen(ev->topics[i]);
        *p++ = (uint8_t)n;
        memcpy(p, ev->topics[i], n);
        p += n;
    }
    *p++ = ev->value;
    s_put_u16(p, ev->title_len);
    p += 2;
    memcpy(p, ev->title, ev->title_len);
    p += ev->title_len;
    s_put_u16(p, ev->body_len);
    p += 2;
    memcpy(p, ev->body, ev->body_len);
    p += ev->body_len;
    if (ev->version == EVENT_VERSION_2) {
        *p++ = ev->imported;
        *p++ = ev->source_len;
        memcpy(p, ev->source, ev->source_len);
        p += ev->source_len;
    }
    return (size_t)(p - out);
}

int event_encode_unsigned(const event_t *ev, uint8_t *out, size_t cap, size_t *len)
{
    int rc = event_validate(ev);
    if (rc) return rc;
    size_t n = s_unsigned_len(ev);
    if (n + EVENT_SIG_LEN > EVENT_MAX_SIZE) return EVENT_E_OVERSIZE;
    if (!out || n > cap) return EVENT_E_NOSPACE;
    s_write_unsigned(ev, out);
    if (len) *len = n;
    return 0;
}

void event_compute_id(const uint8_t *unsigned_enc, size_t len, uint8_t id[EVENT_ID_LEN])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, EVENT_ID_LEN);
    crypto_generichash_update(&st, (const unsigned char *)S_DOMAIN, S_DOMAIN_LEN);
    crypto_generichash_update(&st, unsigned_enc, len);
    crypto_generichash_final(&st, id, EVENT_ID_LEN);
}

int event_sign(event_t *ev, const uint8_t sk[EVENT_SECRET_LEN])
{
    if (sodium_init() < 0) return EVENT_E_SIG;
    /* libsodium's secret key is seed || public key. */
    memcpy(ev->author, sk + EVENT_SEED_LEN, EVENT_KEY_LEN);
    uint8_t buf[EVENT_MAX_SIZE];
    size_t n;
    int rc = event_encode_unsigned(ev, buf, sizeof buf, &n);
    if (rc) return rc;
    event_compute_id(buf, n, ev->id);
    crypto_sign_detached(ev->sig, NULL, ev->id, EVENT_ID_LEN, sk);
    return 0;
}

int event_encode(const event_t *ev, uint8_t *out, size_t cap, size_t *len)
{
    size_t n;
    int rc = event_validate(ev);
    if (rc) return rc;
    n = s_unsigned_len(ev);
    if (n + EVENT_SIG_LEN > EVENT_MAX_SIZE) return EVENT_E_OVERSIZE;
    if (!out || n + EVENT_SIG_LEN > cap) return EVENT_E_NOSPACE;
    s_write_unsigned(ev, out);
    memcpy(out + n, ev->sig, EVENT_SIG_LEN);
    if (len) *len = n + EVENT_SIG_LEN;
    return 0;
}

/* ---- decoding ---- */

typedef struct {
    const uint8_t *p;
    size_t left;
} s_cur_t;

static int s_take(s_cur_t *c, size_t n, const uint8_t **out)
{
    if (c->left < n) return EVENT_E_TRUNCATED;
    *out = c->p;
    c->p += n;
    c->left -= n;
    return 0;
}

static int s_u8(s_cur_t *c, uint8_t *v)
{
    const uint8_t *p;
    if (s_take(c, 1, &p)) return EVENT_E_TRUNCATED;
    *v = p[0];
    return 0;
}

static int s_u16(s_cur_t *c, uint16_t *v)
{
    const uint8_t *p;
    if (s_take(c, 2, &p)) return EVENT_E_TRUNCATED;
    *v = (uint16_t)((p[0] << 8) | p[1]);
    return 0;
}

int event_decode(const uint8_t *buf, size_t len, event_t *ev)
{
    if (!ev) return EVENT_E_FIELD;
    /* Clear everything but the big text arrays, which get NUL-terminated. */
    memset(ev, 0, offsetof(event_t, title));
    ev->title[0] = '\0';
    ev->body_len = 0;
    ev->body[0] = '\0';
    memset(ev->id, 0, sizeof ev->id);
    memset(ev->sig, 0, sizeof ev->sig);
    if (!buf || len == 0) return EVENT_E_TRUNCATED;
    if (len > EVENT_MAX_SIZE) return EVENT_E_OVERSIZE;

    s_cur_t c = {buf, len};
    const uint8_t *p;
    int rc;
    if ((rc = s_u8(&c, &ev->version))) return rc;
    if (ev->version != EVENT_VERSION && ev->version != EVENT_VERSION_2) return EVENT_E_VERSION;
    if ((rc = s_u8(&c, &ev->kind))) return rc;
    if (ev->kind < EVENT_TIP || ev->kind > EVENT_PROFILE) return EVENT_E_KIND;
    if ((rc = s_take(&c, EVENT_KEY_LEN, &p))) return rc;
    memcpy(ev->author, p, EVENT_KEY_LEN);
    if ((rc = s_take(&c, 8, &p))) return rc;
    for (int i = 0; i < 8; i++) ev->created_at = (ev->created_at << 8) | p[i];
    if (ev->created_at == 0) return EVENT_E_FIELD;

    if ((rc = s_u8(&c, &ev->nrefs))) return rc;
    if (ev->nrefs > EVENT_MAX_REFS) return EVENT_E_OVERSIZE;
    for (size_t i = 0; i < ev->nrefs; i++) {
        if ((rc = s_take(&c, 1 + EVENT_ID_LEN, &p))) return rc;
        ev->refs[i].role = p[0];
        memcpy(ev->refs[i].id, p + 1, EVENT_ID_LEN);
        if (p[0] < EVENT_REF_TARGET || p[0] > EVENT_REF_RELATED) return EVENT_E_REFS;
        if (i && s_ref_cmp(&ev->refs[i - 1], &ev->refs[i]) >= 0) return EVENT_E_ORDER;
    }

    if ((rc = s_u8(&c, &ev->ntopics))) return rc;
    if (ev->ntopics > EVENT_MAX_TOPICS) return EVENT_E_OVERSIZE;
    for (size_t i = 0; i < ev->ntopics; i++) {
        uint8_t tl;
        if ((rc = s_u8(&c, &tl))) return rc;
        if (tl > EVENT_MAX_TOPIC_LEN) return EVENT_E_OVERSIZE;
        if ((rc = s_take(&c, tl, &p))) return rc;
        /* Checked on the wire bytes: a NUL would hide in a C string. */
        if ((rc = s_topic_check_v(p, tl, ev->version, NULL))) return rc;
        memcpy(ev->topics[i], p, tl);
        ev->topics[i][tl] = '\0';
        if (i && s_topic_cmp(ev->topics[i - 1], ev->topics[i]) >= 0) return EVENT_E_ORDER;
    }

    if ((rc = s_u8(&c, &ev->value))) return rc;
    if ((rc = s_u16(&c, &ev->title_len))) return rc;
    if (ev->title_len > EVENT_MAX_TITLE) return EVENT_E_OVERSIZE;
    if ((rc = s_take(&c, ev->title_len, &p))) return rc;
    memcpy(ev->title, p, ev->title_len);
    ev->title[ev->title_len] = '\0';
    if ((rc = s_u16(&c, &ev->body_len))) return rc;
    if (ev->body_len > EVENT_MAX_BODY) return EVENT_E_OVERSIZE;
    if ((rc = s_take(&c, ev->body_len, &p))) return rc;
    memcpy(ev->body, p, ev->body_len);
    ev->body[ev->body_len] = '\0';
    if (ev->version == EVENT_VERSION_2) {
        if ((rc = s_u8(&c, &ev->imported))) return rc;
        if (ev->imported > 1) return EVENT_E_FIELD;
        if ((rc = s_u8(&c, &ev->source_len))) return rc;
        if (ev->source_len > EVENT_MAX_SOURCE) return EVENT_E_OVERSIZE;
        if ((rc = s_take(&c, ev->source_len, &p))) return rc;
        memcpy(ev->source, p, ev->source_len);
    }
    ev->source[ev->source_len] = '\0';

    size_t ulen = len - c.left;
    if ((rc = s_take(&c, EVENT_SIG_LEN, &p))) return rc;
    memcpy(ev->sig, p, EVENT_SIG_LEN);
    if (c.left) return EVENT_E_TRAILING;

    if ((rc = event_validate(ev))) return rc;
    event_compute_id(buf, ulen, ev->id);
    return 0;
}

int event_verify(const event_t *ev)
{
    if (!ev || sodium_init() < 0) return EVENT_E_SIG;
    if (crypto_sign_verify_detached(ev->sig, ev->id, EVENT_ID_LEN, ev->author) != 0)
        return EVENT_E_SIG;
    return 0;
}

int event_check_time(const event_t *ev, uint64_t now_ms)
{
    if (ev->created_at > now_ms && ev->created_at - now_ms > (uint64_t)EVENT_MAX_FUTURE_MS)
        return EVENT_E_FUTURE;
    return 0;
}

/* ---- hex ---- */

void event_hex(const uint8_t *bin, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 15];
    }
    out[2 * n] = '\0';
}

/* A hex digit's value plus one; 0 for any other byte. A table, not
 * comparisons: ids are random, so branches on the digit's range mispredict
 * about every other character (a `today` request carries up to 320,000). */
static const uint8_t s_hex[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int s_hexval(char c)
{
    return (int)s_hex[(unsigned char)c] - 1;
}

/* Reads exactly 2n characters; a NUL among them is not hex, so this never
 * reads past the end of a shorter string. What follows is not examined. */
int event_unhex(const char *hex, uint8_t *bin, size_t n)
{
    if (!hex) return EVENT_E_HEX;
    for (size_t i = 0; i < n; i++) {
        int hi = s_hexval(hex[2 * i]);
        if (hi < 0) return EVENT_E_HEX;
        int lo = s_hexval(hex[2 * i + 1]);
        if (lo < 0) return EVENT_E_HEX;
        bin[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int event_prefix_norm(const char *s, char out[2 * EVENT_ID_LEN + 1])
{
    if (!s) return EVENT_E_HEX;
    size_t n = strnlen(s, 2 * EVENT_ID_LEN + 1);
    if (n < 4 || n > 2 * EVENT_ID_LEN) return EVENT_E_HEX;
    for (size_t i = 0; i < n; i++) {
        int v = s_hexval(s[i]);
        if (v < 0) return EVENT_E_HEX;
        out[i] = "0123456789abcdef"[v];
    }
    out[n] = '\0';
    return (int)n;
}

/* ---- time ---- */

uint64_t event_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Any u64 is formatted; years past 9999 simply get more digits, and a time
 * gmtime cannot represent prints as "invalid-time". */
void event_time_rfc3339(uint64_t ms, char *out, size_t cap)
{
    if (!out || cap == 0) return;
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    if ((uint64_t)secs != ms / 1000 || !gmtime_r(&secs, &tm)) {
        snprintf(out, cap, "invalid-time");
        return;
    }
    snprintf(out, cap, "%04lld-%02d-%02dT%02d:%02d:%02d.%03uZ", (long long)tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}
