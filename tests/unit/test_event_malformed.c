/* test_event_malformed.c -- the decoder refuses each malformed encoding with
 * the expected code.
 *
 * Malformed encodings are built byte by byte with a small raw writer (s_raw_t)
 * that, unlike the real encoder, will write any field value. Each row of the
 * table names one defect and the exact code the decoder must return; the
 * rest of the event stays valid so the row tests that one rule. A few rows
 * are valid events of each kind, so the table also shows the baseline each
 * per-kind mutation starts from is accepted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"
/* ---- raw writer for malformed input ---- */

typedef struct {
    uint8_t version, kind;
    uint8_t author[32];
    uint64_t created_at;
    unsigned nrefs; /* written as given (may exceed 8) */
    event_ref_t refs[12];
    unsigned ntopics;
    const char *topics[12];
    int topic_len[12]; /* -1 = strlen */
    uint8_t value;
    const char *title;
    size_t title_len;
    unsigned title_len_field; /* if non-zero, overrides the length written */
    const char *body;
    size_t body_len;
    unsigned body_len_field;
    size_t trailing; /* extra zero bytes after the signature */
    /* version 2 fields, written when version is 2 */
    uint8_t imported;
    const char *source;
    int source_len; /* -1 = strlen */
} s_raw_t;

static uint8_t s_buf[70000];

/* A valid tip with two refs and two topics, as raw fields. */
static void s_raw_tip(s_raw_t *r)
{
    memset(r, 0, sizeof *r);
    r->version = 1;
    r->kind = EVENT_TIP;
    memset(r->author, 0x11, 32);
    r->created_at = 1764432219123ULL;
    r->nrefs = 2;
    r->refs[0].role = EVENT_REF_ANSWERS;
    memset(r->refs[0].id, 0x22, 32);
    r->refs[1].role = EVENT_REF_RELATED;
    memset(r->refs[1].id, 0x33, 32);
    r->ntopics = 2;
    r->topics[0] = "git";
    r->topics[1] = "shell";
    r->topic_len[0] = r->topic_len[1] = -1;
    r->title = "A title";
    r->title_len = 7;
    r->body = "Some body\ntext";
    r->body_len = 14;
}

static size_t s_raw_write(const s_raw_t *r, uint8_t *out)
{
    uint8_t *p = out;
    *p++ = r->version;
    *p++ = r->kind;
    memcpy(p, r->author, 32);
    p += 32;
    for (int i = 7; i >= 0; i--) *p++ = (uint8_t)(r->created_at >> (8 * i));
    *p++ = (uint8_t)r->nrefs;
    for (unsigned i = 0; i < r->nrefs; i++) {
        *p++ = r->refs[i].role;
        memcpy(p, r->refs[i].id, 32);
        p += 32;
    }
    *p++ = (uint8_t)r->ntopics;
    for (unsigned i = 0; i < r->ntopics; i++) {
        size_t n = r->topic_len[i] < 0 ? strlen(r->topics[i]) : (size_t)r->topic_len[i];
        *p++ = (uint8_t)n;
        memcpy(p, r->topics[i], n);
        p += n;
    }
    *p++ = r->value;
    unsigned tl = r->title_len_field ? r->title_len_field : (unsigned)r->title_len;
    *p++ = (uint8_t)(tl >> 8);
    *p++ = (uint8_t)tl;
    memcpy(p, r->title, r->title_len);
    p += r->title_len;
    unsigned bl = r->body_len_field ? r->body_len_field : (unsigned)r->body_len;
    *p++ = (uint8_t)(bl >> 8);
    *p++ = (uint8_t)bl;
    memcpy(p, r->body, r->body_len);
    p += r->body_len;
    if (r->version == 2) {
        /* The length field may claim more than is written (source_len). */
        const char *src = r->source ? r->source : "";
        size_t n = strlen(src);
        *p++ = r->imported;
        *p++ = (uint8_t)(r->source_len < 0 ? n : (size_t)r->source_len);
        memcpy(p, src, n);
        p += n;
    }
    memset(p, 0x5a, 64); /* signature bytes: decode does not check them */
    p += 64;
    memset(p, 0, r->trailing);
    p += r->trailing;
    return (size_t)(p - out);
}

static int s_raw_decode(const s_raw_t *r)
{
    static event_t ev;
    size_t n = s_raw_write(r, s_buf);
    return event_decode(s_buf, n, &ev);
}

static void test_raw_valid_baseline(void **state)
{
    (void)state;
    s_raw_t r;
    s_raw_tip(&r);
    assert_int_equal(s_raw_decode(&r), 0);
}
/* One malformed encoding: a mutation of the baseline tip and the code. */
typedef struct {
    const char *name;
    void (*mutate)(s_raw_t *r);
    int expect;
} s_case_t;

#define MUT(fn) static void fn(s_raw_t *r)
MUT(m_version0)
{
    r->version = 0;
}
MUT(m_version2)
{
    r->version = 2; /* laid out as version 2, but using nothing of it */
    r->source_len = -1;
}
MUT(m_version3)
{
    r->version = 3;
}
MUT(m_v2_imported)
{
    r->version = 2;
    r->imported = 1;
    r->source = "tldr-pages/pages/common/git.md";
    r->source_len = -1;
}
MUT(m_v2_unicode_topic)
{
    r->version = 2;
    r->topics[0] = "b\xc3\xbcro"; /* büro */
    r->topics[1] = "drucker";
    r->source_len = -1;
}
MUT(m_v2_topic_upper)
{
    r->version = 2;
    r->topics[0] = "B\xc3\xbcro";
    r->topics[1] = "drucker";
    r->source_len = -1;
}
MUT(m_v2_topic_upper_nonascii)
{
    r->version = 2;
    r->topics[0] = "b\xc3\x9cro"; /* bÜro: not case-folded */
    r->topics[1] = "drucker";
    r->source_len = -1;
}
MUT(m_v2_topic_nfd)
{
    r->version = 2;
    r->topics[0] = "bu\xcc\x88ro"; /* u + combining diaeresis: not NFC */
    r->topics[1] = "drucker";
    r->source_len = -1;
}
MUT(m_v2_topic_symbol)
{
    r->version = 2;
    r->topics[0] = "caf\xc3\xa9\xe2\x9c\x93"; /* café✓: a symbol */
    r->topics[1] = "drucker";
    r->source_len = -1;
}
MUT(m_v2_topic_nbsp)
{
    r->version = 2;
    r->topics[0] = "a\xc2\xa0"
                   "b"; /* no-break space */
    r->topics[1] = "drucker";
    r->source_len = -1;
}
MUT(m_v2_imported_2)
{
    m_v2_imported(r);
    r->imported = 2;
}
MUT(m_v2_source_unimported)
{
    m_v2_unicode_topic(r);
    r->source = "somewhere";
}
MUT(m_v2_source_129)
{
    static char src[130];
    memset(src, 'a', 129);
    m_v2_imported(r);
    r->source = src;
}
MUT(m_v2_source_newline)
{
    m_v2_imported(r);
    r->source = "a\nb";
}
MUT(m_v2_source_truncated)
{
    m_v2_imported(r);
    r->source_len = 40; /* longer than the source written: runs into the signature */
    r->trailing = 0;
}
MUT(m_v2_rating_imported)
{
    r->version = 2;
    r->kind = EVENT_RATING;
    r->nrefs = 1;
    r->refs[0].role = EVENT_REF_TARGET;
    r->ntopics = 0;
    r->value = 5;
    r->title_len = r->body_len = 0;
    r->imported = 1;
    r->source_len = -1;
}
MUT(m_version255)
{
    r->version = 255;
}
MUT(m_kind0)
{
    r->kind = 0;
}
MUT(m_kind7)
{
    r->kind = 7;
}
MUT(m_kind255)
{
    r->kind = 255;
}
MUT(m_trailing)
{
    r->trailing = 1;
}
MUT(m_created0)
{
    r->created_at = 0;
}
MUT(m_title_overlong)
{
    r->title = "a\xc0\x80";
    r->title_len = 3;
}
MUT(m_title_overlong3)
{
    r->title = "\xe0\x80\xaf";
    r->title_len = 3;
}
MUT(m_title_surrogate)
{
    r->title = "\xed\xa0\x80";
    r->title_len = 3;
}
MUT(m_title_above_max)
{
    r->title = "\xf4\x90\x80\x80";
    r->title_len = 4;
}
MUT(m_title_f5)
{
    r->title = "\xf5\x80\x80\x80";
    r->title_len = 4;
}
MUT(m_title_lone_cont)
{
    r->title = "ab\x80";
    r->title_len = 3;
}
MUT(m_title_cut_seq)
{
    r->title = "ab\xe2\x82";
    r->title_len = 4;
}
MUT(m_title_nul)
{
    r->title = "a\0b";
    r->title_len = 3;
}
MUT(m_title_newline)
{
    r->title = "a\nb";
    r->title_len = 3;
}
MUT(m_title_tab)
{
    r->title = "a\tb";
    r->title_len = 3;
}
MUT(m_title_c1)
{
    r->title = "a\xc2\x85";
    r->title_len = 3;
}
MUT(m_title_del)
{
    r->title = "a\x7f";
    r->title_len = 2;
}
MUT(m_body_cr)
{
    r->body = "a\r\nb";
    r->body_len = 4;
}
MUT(m_body_nul)
{
    r->body = "a\0b";
    r->body_len = 3;
}
MUT(m_body_del)
{
    r->body = "a\x7f";
    r->body_len = 2;
}
MUT(m_body_esc)
{
    r->body = "a\x1b[0m";
    r->body_len = 5;
}
MUT(m_body_bad_utf8)
{
    r->body = "caf\xe9";
    r->body_len = 4;
}
MUT(m_body_surrogate)
{
    r->body = "x\xed\xbf\xbf";
    r->body_len = 4;
}
MUT(m_topic_upper)
{
    r->topics[0] = "Git";
}
MUT(m_topic_space)
{
    r->topics[0] = "g t";
}
MUT(m_topic_utf8)
{
    r->topics[0] = "caf\xc3\xa9";
}
MUT(m_topic_badutf8)
{
    r->topics[0] = "\xff";
}
MUT(m_topic_nul)
{
    r->topics[0] = "a\0b";
    r->topic_len[0] = 3;
}
MUT(m_topic_empty)
{
    r->topics[0] = "";
}
MUT(m_topic_33)
{
    r->topics[0] = "abcdefghijabcdefghijabcdefghijabc";
}
MUT(m_topics_unsorted)
{
    r->topics[0] = "shell";
    r->topics[1] = "git";
}
MUT(m_topics_dup)
{
    r->topics[1] = "git";
}
MUT(m_topics_prefix)
{
    r->topics[0] = "gitx";
    r->topics[1] = "git";
}
MUT(m_topics_9)
{
    static const char *t[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    r->ntopics = 9;
    for (int i = 0; i < 9; i++) r->topics[i] = t[i], r->topic_len[i] = -1;
}
MUT(m_refs_unsorted_role)
{
    r->refs[0].role = EVENT_REF_RELATED;
    r->refs[1].role = EVENT_REF_ANSWERS;
}
MUT(m_refs_unsorted_id)
{
    r->refs[0].role = r->refs[1].role = EVENT_REF_RELATED;
    memset(r->refs[0].id, 0x44, 32);
}
MUT(m_refs_dup)
{
    r->refs[0].role = EVENT_REF_RELATED;
    memset(r->refs[0].id, 0x33, 32);
}
MUT(m_refs_9)
{
    r->nrefs = 9;
    for (int i = 0; i < 9; i++) {
        r->refs[i].role = EVENT_REF_RELATED;
        memset(r->refs[i].id, i + 1, 32);
    }
}
MUT(m_ref_role0)
{
    r->refs[0].role = 0;
}
MUT(m_ref_role5)
{
    r->refs[1].role = 5;
}
MUT(m_title_201)
{
    static char t[201];
    memset(t, 'x', sizeof t);
    r->title = t;
    r->title_len = 201;
}
MUT(m_title_len_huge)
{
    r->title_len_field = 0xffff;
}
MUT(m_title_len_past_end)
{
    r->title_len_field = 150;
} /* in bounds, runs off the end */
MUT(m_body_16385)
{
    static char b[16385];
    memset(b, 'x', sizeof b);
    r->body = b;
    r->body_len = sizeof b;
}
MUT(m_body_len_huge)
{
    r->body_len_field = 0xffff;
}
MUT(m_tip_no_title)
{
    r->title_len = 0;
}
MUT(m_tip_value)
{
    r->value = 1;
}
MUT(m_tip_target)
{
    r->refs[0].role = EVENT_REF_TARGET;
}
MUT(m_tip_two_answers)
{
    r->refs[1].role = EVENT_REF_ANSWERS;
}
MUT(m_tip_two_supersedes)
{
    r->refs[0].role = r->refs[1].role = EVENT_REF_SUPERSEDES;
}
MUT(m_question_answers)
{
    r->kind = EVENT_QUESTION;
}
MUT(m_question_ok)
{
    r->kind = EVENT_QUESTION;
    r->refs[0].role = EVENT_REF_SUPERSEDES;
}
MUT(m_question_no_title)
{
    m_question_ok(r);
    r->title_len = 0;
}
/* Turn the baseline into a valid rating, then break one rule. */
MUT(m_rating_ok)
{
    r->kind = EVENT_RATING;
    r->value = 3;
    r->nrefs = 1;
    r->refs[0].role = EVENT_REF_TARGET;
    r->ntopics = 0;
    r->title_len = r->body_len = 0;
}
MUT(m_rating_value0)
{
    m_rating_ok(r);
    r->value = 0;
}
MUT(m_rating_value6)
{
    m_rating_ok(r);
    r->value = 6;
}
MUT(m_rating_norefs)
{
    m_rating_ok(r);
    r->nrefs = 0;
}
MUT(m_rating_related)
{
    m_rating_ok(r);
    r->refs[0].role = EVENT_REF_RELATED;
}
MUT(m_rating_two_targets)
{
    m_rating_ok(r);
    r->nrefs = 2;
    r->refs[1].role = EVENT_REF_TARGET;
}
MUT(m_rating_title)
{
    m_rating_ok(r);
    r->title_len = 3;
}
MUT(m_rating_body)
{
    m_rating_ok(r);
    r->body_len = 3;
}
MUT(m_rating_topic)
{
    m_rating_ok(r);
    r->ntopics = 1;
}
MUT(m_thanks_ok)
{
    m_rating_ok(r);
    r->kind = EVENT_THANKS;
    r->value = 0;
    r->body_len = 9;
}
MUT(m_thanks_value)
{
    m_thanks_ok(r);
    r->value = 1;
}
MUT(m_thanks_title)
{
    m_thanks_ok(r);
    r->title_len = 1;
}
MUT(m_thanks_topic)
{
    m_thanks_ok(r);
    r->ntopics = 1;
}
MUT(m_thanks_story_1025)
{
    static char b[1025];
    memset(b, 's', sizeof b);
    m_thanks_ok(r);
    r->body = b;
    r->body_len = sizeof b;
}
MUT(m_thanks_story_1024)
{
    m_thanks_story_1025(r);
    r->body_len = 1024;
}
MUT(m_thanks_norefs)
{
    m_thanks_ok(r);
    r->nrefs = 0;
}
MUT(m_retract_ok)
{
    m_rating_ok(r);
    r->kind = EVENT_RETRACT;
    r->value = 0;
}
MUT(m_retract_body)
{
    m_retract_ok(r);
    r->body_len = 2;
}
MUT(m_retract_value)
{
    m_retract_ok(r);
    r->value = 1;
}
MUT(m_retract_answers)
{
    m_retract_ok(r);
    r->refs[0].role = EVENT_REF_ANSWERS;
}
MUT(m_profile_ok)
{
    r->kind = EVENT_PROFILE;
    r->nrefs = r->ntopics = 0;
    r->title = "Grace";
    r->title_len = 5;
    r->body = "Compilers";
    r->body_len = 9;
}
MUT(m_profile_ref)
{
    m_profile_ok(r);
    r->nrefs = 1;
}
MUT(m_profile_topic)
{
    m_profile_ok(r);
    r->ntopics = 1;
}
MUT(m_profile_noname)
{
    m_profile_ok(r);
    r->title_len = 0;
}
MUT(m_profile_name65)
{
    static char t[65];
    memset(t, 'n', sizeof t);
    m_profile_ok(r);
    r->title = t;
    r->title_len = 65;
}
MUT(m_profile_team65)
{
    static char b[65];
    memset(b, 't', sizeof b);
    m_profile_ok(r);
    r->body = b;
    r->body_len = 65;
}
MUT(m_profile_team_newline)
{
    m_profile_ok(r);
    r->body = "a\nb";
    r->body_len = 3;
}
MUT(m_profile_team_tab)
{
    m_profile_ok(r);
    r->body = "a\tb";
    r->body_len = 3;
}
MUT(m_profile_value)
{
    m_profile_ok(r);
    r->value = 2;
}
#undef MUT

static const s_case_t s_cases[] = {
    {"version 0", m_version0, EVENT_E_VERSION},
    {"version 2 using nothing of it", m_version2, EVENT_E_NEEDLESS},
    {"version 3", m_version3, EVENT_E_VERSION},
    {"v2 imported, with source", m_v2_imported, 0},
    {"v2 Unicode topic", m_v2_unicode_topic, 0},
    {"v2 topic upper case ASCII", m_v2_topic_upper, EVENT_E_TOPIC},
    {"v2 topic upper case non-ASCII", m_v2_topic_upper_nonascii, EVENT_E_TOPIC},
    {"v2 topic not NFC", m_v2_topic_nfd, EVENT_E_TOPIC},
    {"v2 topic with a symbol", m_v2_topic_symbol, EVENT_E_TOPIC},
    {"v2 topic with a no-break space", m_v2_topic_nbsp, EVENT_E_TOPIC},
    {"v2 imported 2", m_v2_imported_2, EVENT_E_FIELD},
    {"v2 source without imported", m_v2_source_unimported, EVENT_E_FIELD},
    {"v2 source 129 bytes", m_v2_source_129, EVENT_E_OVERSIZE},
    {"v2 source with newline", m_v2_source_newline, EVENT_E_UTF8},
    {"v2 source runs into the signature", m_v2_source_truncated, EVENT_E_TRUNCATED},
    {"v2 rating marked imported", m_v2_rating_imported, EVENT_E_FIELD},
    {"version 255", m_version255, EVENT_E_VERSION},
    {"kind 0", m_kind0, EVENT_E_KIND},
    {"kind 7", m_kind7, EVENT_E_KIND},
    {"kind 255", m_kind255, EVENT_E_KIND},
    {"trailing byte", m_trailing, EVENT_E_TRAILING},
    {"created_at 0", m_created0, EVENT_E_FIELD},
    {"title overlong NUL", m_title_overlong, EVENT_E_UTF8},
    {"title overlong 3-byte", m_title_overlong3, EVENT_E_UTF8},
    {"title surrogate", m_title_surrogate, EVENT_E_UTF8},
    {"title > U+10FFFF", m_title_above_max, EVENT_E_UTF8},
    {"title F5 lead", m_title_f5, EVENT_E_UTF8},
    {"title lone continuation", m_title_lone_cont, EVENT_E_UTF8},
    {"title cut sequence", m_title_cut_seq, EVENT_E_UTF8},
    {"title NUL", m_title_nul, EVENT_E_UTF8},
    {"title newline", m_title_newline, EVENT_E_UTF8},
    {"title tab", m_title_tab, EVENT_E_UTF8},
    {"title C1 control", m_title_c1, EVENT_E_UTF8},
    {"title DEL", m_title_del, EVENT_E_UTF8},
    {"body CR", m_body_cr, EVENT_E_UTF8},
    {"body NUL", m_body_nul, EVENT_E_UTF8},
    {"body DEL", m_body_del, EVENT_E_UTF8},
    {"body ESC", m_body_esc, EVENT_E_UTF8},
    {"body latin-1", m_body_bad_utf8, EVENT_E_UTF8},
    {"body surrogate", m_body_surrogate, EVENT_E_UTF8},
    {"topic upper case", m_topic_upper, EVENT_E_TOPIC},
    {"topic space", m_topic_space, EVENT_E_TOPIC},
    {"topic non-ASCII", m_topic_utf8, EVENT_E_TOPIC},
    {"topic bad UTF-8", m_topic_badutf8, EVENT_E_TOPIC},
    {"topic NUL", m_topic_nul, EVENT_E_TOPIC},
    {"topic empty", m_topic_empty, EVENT_E_TOPIC},
    {"topic 33 bytes", m_topic_33, EVENT_E_OVERSIZE},
    {"topics unsorted", m_topics_unsorted, EVENT_E_ORDER},
    {"topics duplicate", m_topics_dup, EVENT_E_ORDER},
    {"topics prefix after longer", m_topics_prefix, EVENT_E_ORDER},
    {"9 topics", m_topics_9, EVENT_E_OVERSIZE},
    {"refs unsorted by role", m_refs_unsorted_role, EVENT_E_ORDER},
    {"refs unsorted by id", m_refs_unsorted_id, EVENT_E_ORDER},
    {"refs duplicate", m_refs_dup, EVENT_E_ORDER},
    {"9 refs", m_refs_9, EVENT_E_OVERSIZE},
    {"ref role 0", m_ref_role0, EVENT_E_REFS},
    {"ref role 5", m_ref_role5, EVENT_E_REFS},
    {"title 201 bytes", m_title_201, EVENT_E_OVERSIZE},
    {"title_len 65535", m_title_len_huge, EVENT_E_OVERSIZE},
    {"title_len past end", m_title_len_past_end, EVENT_E_TRUNCATED},
    {"body 16385 bytes", m_body_16385, EVENT_E_OVERSIZE},
    {"body_len 65535", m_body_len_huge, EVENT_E_OVERSIZE},
    {"tip without title", m_tip_no_title, EVENT_E_FIELD},
    {"tip with value", m_tip_value, EVENT_E_FIELD},
    {"tip with TARGET ref", m_tip_target, EVENT_E_REFS},
    {"tip answering twice", m_tip_two_answers, EVENT_E_REFS},
    {"tip superseding twice", m_tip_two_supersedes, EVENT_E_REFS},
    {"question with ANSWERS ref", m_question_answers, EVENT_E_REFS},
    {"question valid", m_question_ok, 0},
    {"question without title", m_question_no_title, EVENT_E_FIELD},
    {"rating valid", m_rating_ok, 0},
    {"rating value 0", m_rating_value0, EVENT_E_FIELD},
    {"rating value 6", m_rating_value6, EVENT_E_FIELD},
    {"rating without ref", m_rating_norefs, EVENT_E_REFS},
    {"rating RELATED ref", m_rating_related, EVENT_E_REFS},
    {"rating two targets", m_rating_two_targets, EVENT_E_REFS},
    {"rating with title", m_rating_title, EVENT_E_FIELD},
    {"rating with body", m_rating_body, EVENT_E_FIELD},
    {"rating with topic", m_rating_topic, EVENT_E_FIELD},
    {"thanks valid", m_thanks_ok, 0},
    {"thanks with value", m_thanks_value, EVENT_E_FIELD},
    {"thanks with title", m_thanks_title, EVENT_E_FIELD},
    {"thanks with topic", m_thanks_topic, EVENT_E_FIELD},
    {"thanks story 1025", m_thanks_story_1025, EVENT_E_FIELD},
    {"thanks story 1024", m_thanks_story_1024, 0},
    {"thanks without ref", m_thanks_norefs, EVENT_E_REFS},
    {"retract valid", m_retract_ok, 0},
    {"retract with body", m_retract_body, EVENT_E_FIELD},
    {"retract with value", m_retract_value, EVENT_E_FIELD},
    {"retract ANSWERS ref", m_retract_answers, EVENT_E_REFS},
    {"profile valid", m_profile_ok, 0},
    {"profile with ref", m_profile_ref, EVENT_E_REFS},
    {"profile with topic", m_profile_topic, EVENT_E_FIELD},
    {"profile without name", m_profile_noname, EVENT_E_FIELD},
    {"profile name 65", m_profile_name65, EVENT_E_FIELD},
    {"profile team 65", m_profile_team65, EVENT_E_FIELD},
    {"profile team newline", m_profile_team_newline, EVENT_E_FIELD},
    {"profile team tab", m_profile_team_tab, EVENT_E_FIELD},
    {"profile with value", m_profile_value, EVENT_E_FIELD},
};

static void test_malformed_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        s_raw_t r;
        s_raw_tip(&r);
        s_cases[i].mutate(&r);
        int rc = s_raw_decode(&r);
        if (rc != s_cases[i].expect)
            fail_msg("case '%s': got %d (%s), want %d", s_cases[i].name, rc, event_strerror(rc),
                     s_cases[i].expect);
    }
}

static void test_oversize_whole(void **state)
{
    (void)state;
    static uint8_t big[EVENT_MAX_SIZE + 1];
    static event_t ev;
    s_raw_t r;
    s_raw_tip(&r);
    size_t n = s_raw_write(&r, big);
    assert_int_equal(event_decode(big, n, &ev), 0);
    assert_int_equal(event_decode(big, sizeof big, &ev), EVENT_E_OVERSIZE);
}

/* The decoder must not be fooled by stale fields: decoding a short event
 * into a struct that held a long one leaves no trace of the old one. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_valid_baseline),
        cmocka_unit_test(test_malformed_table),
        cmocka_unit_test(test_oversize_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
