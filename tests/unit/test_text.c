/* test_text.c -- the tokenizer shared by the index and queries (store/text.c).
 *
 * Checks the exact terms produced for: ASCII case folding and Snowball
 * stemming, non-ASCII case folding and NFKC, command-line punctuation,
 * apostrophes, stopword flags, Korean and Chinese bigrams, and hostile input
 * (empty, NUL bytes, invalid UTF-8, a megabyte of text, one enormous word),
 * plus text_normalise() and the synonym table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

#define MAXT 64

typedef struct {
    char term[MAXT][TEXT_MAX_TERM + 1];
    unsigned flags[MAXT];
    size_t n;     /* terms kept (first MAXT) */
    size_t total; /* terms seen */
    size_t maxlen;
} terms_t;

static int s_collect(const char *term, size_t len, unsigned flags, void *arg)
{
    terms_t *t = arg;
    assert_true(len >= 1 && len <= TEXT_MAX_TERM);
    assert_int_equal(strlen(term), len);
    if (t->n < MAXT) {
        memcpy(t->term[t->n], term, len + 1);
        t->flags[t->n] = flags;
        t->n++;
    }
    if (len > t->maxlen) t->maxlen = len;
    t->total++;
    return 0;
}

static terms_t s_tok(text_t *tx, const char *s, size_t len)
{
    terms_t t;
    memset(&t, 0, sizeof t);
    assert_int_equal(text_tokenize(tx, s, len, s_collect, &t), 0);
    return t;
}

/* Assert the terms of s are exactly the space-separated list want. */
static void s_expect(text_t *tx, const char *s, const char *want)
{
    terms_t t = s_tok(tx, s, strlen(s));
    char got[1024] = "";
    for (size_t i = 0; i < t.n; i++) {
        if (i) strcat(got, " ");
        strcat(got, t.term[i]);
    }
    assert_string_equal(got, want);
}

static int s_setup(void **state)
{
    *state = text_new();
    return *state ? 0 : -1;
}

static int s_teardown(void **state)
{
    text_t *t = *state;
    text_destroy(&t);
    assert_null(t);
    text_destroy(&t); /* idempotent */
    return 0;
}

static void test_ascii_fold_and_stem(void **state)
{
    text_t *t = *state;
    s_expect(t, "Running RUNNING runs", "run run run");
    s_expect(t, "Extracting archives", "extract archiv");
    s_expect(t, "Delete the directories", "delet the directori");
}

static void test_unicode_fold(void **state)
{
    text_t *t = *state;
    /* In English, non-ASCII words are case- and accent-folded but not
     * stemmed; ß folds to ss, which makes the word ASCII and so it is
     * stemmed like any other. */
    s_expect(t, "ÉCOLE Über", "ecole uber");
    s_expect(t, "STRASSE Straße", "strass strass");
    /* NFKC: full-width letters and the "ﬁ" ligature become plain ASCII. */
    s_expect(t, "ＦＩＬＥＳ ﬁles", "file file");
    s_expect(t, "ПРИВЕТ мир", "привет мир");
}

static void test_accent_fold(void **state)
{
    text_t *t = *state;
    /* Accented and plain spellings meet; NFD input folds the same. */
    s_expect(t, "Café CAFÉ cafe Cafe\xcc\x81", "cafe cafe cafe cafe");
    s_expect(t, "résumé naïve ñandú", "resume naive nandu");
    /* Cyrillic: ё folds to е, й stays a letter. */
    assert_int_equal(text_set_lang(t, TEXT_LANG_NONE), 0);
    s_expect(t, "ёлка йод", "елка йод");
    /* Marks that are not Latin diacritics stay (Devanagari vowel signs). */
    s_expect(t, "फ़ाइल", "फ़ाइल");
}

static void test_languages(void **state)
{
    text_t *t = *state;
    static const struct {
        const char *text;
        int lang;
    } det[] = {
        {"List all files in the current directory", TEXT_LANG_EN},
        {"Zeige alle Dateien im Verzeichnis an", TEXT_LANG_DE},
        {"Comprimir los archivos del directorio", TEXT_LANG_ES},
        {"Afficher les fichiers cachés dans le répertoire", TEXT_LANG_FR},
        {"Mostra un elenco dei file nella directory", TEXT_LANG_IT},
        {"Показать все файлы в каталоге", TEXT_LANG_RU},
        {"Εμφάνιση όλων των αρχείων", TEXT_LANG_EL},
        {"tar xzf backup.tar.gz", TEXT_LANG_EN},
        {"解压文件", TEXT_LANG_EN},
        {"", TEXT_LANG_EN},
    };
    for (size_t i = 0; i < sizeof det / sizeof det[0]; i++)
        assert_int_equal(text_detect(t, det[i].text, strlen(det[i].text)), det[i].lang);
    /* Each language's Snowball stemmer: inflections meet their stem. */
    assert_int_equal(text_set_lang(t, TEXT_LANG_DE), 0);
    s_expect(t, "Dateien Datei", "datei datei");
    assert_int_equal(text_set_lang(t, TEXT_LANG_ES), 0);
    s_expect(t, "archivos archivo comprimidos", "archiv archiv comprim");
    assert_int_equal(text_set_lang(t, TEXT_LANG_FR), 0);
    s_expect(t, "fichiers fichier cachés", "fichi fichi cach");
    assert_int_equal(text_set_lang(t, TEXT_LANG_RU), 0);
    s_expect(t, "файлы файл", "файл файл");
    /* The English stemmer leaves a German plural alone. */
    assert_int_equal(text_set_lang(t, TEXT_LANG_EN), 0);
    s_expect(t, "Dateien", "dateien");
    /* Numbers and words with digits are never stemmed; CJK is unchanged. */
    assert_int_equal(text_set_lang(t, TEXT_LANG_DE), 0);
    s_expect(t, "mp3 2024 解压文件", "mp3 2024 解压 压文 文件");
    assert_int_equal(text_set_lang(t, TEXT_NLANGS), -1);
    assert_int_equal(text_lang_from_code("pt_BR"), TEXT_LANG_PT);
    assert_int_equal(text_lang_from_code("ko"), -1);
    /* A word's term and its surface. */
    char out[TEXT_MAX_TERM + 1];
    assert_int_equal(text_set_lang(t, TEXT_LANG_EN), 0);
    assert_int_equal(text_stem_word(t, "directories", 11, out), 9);
    assert_string_equal(out, "directori");
    assert_int_equal(text_stem_word(t, "two words", 9, out), 0);
}

static void test_command_punctuation(void **state)
{
    text_t *t = *state;
    s_expect(t, "tar -xzf backup.tar.gz", "tar xzf backup tar gz");
    s_expect(t, "find . --max-depth=2 x86_64", "find max depth 2 x86 64");
    s_expect(t, "{{path/to/file}}", "path to file");
    s_expect(t, "don't copy the user's files", "dont copi the user file");
    s_expect(t, "...,;:!?", "");
}

static void test_stop_flags(void **state)
{
    text_t *t = *state;
    terms_t r = s_tok(t, "how to list the files", 21);
    assert_int_equal(r.n, 5);
    assert_true(r.flags[0] & TEXT_F_STOP);  /* how */
    assert_true(r.flags[1] & TEXT_F_STOP);  /* to */
    assert_false(r.flags[2] & TEXT_F_STOP); /* list */
    assert_true(r.flags[3] & TEXT_F_STOP);  /* the */
    assert_false(r.flags[4] & TEXT_F_STOP); /* file */
    r = s_tok(t, "which", 5);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.term[0], "which");
    assert_true(r.flags[0] & TEXT_F_STOP);
}

static void test_cjk(void **state)
{
    text_t *t = *state;
    /* Korean: each space-separated word becomes overlapping bigrams. */
    s_expect(t, "압축 해제", "압축 해제");
    s_expect(t, "파일압축", "파일 일압 압축");
    /* Chinese has no spaces: bigrams across the whole run. */
    s_expect(t, "解压文件", "解压 压文 文件");
    /* A lone character is a unigram; Latin words around CJK stay words. */
    s_expect(t, "用 tar 解压", "用 tar 解压");
    s_expect(t, "tar命令", "tar 命令");
    /* Japanese kana join the run too. */
    s_expect(t, "ファイル", "ファ ァイ イル");
    terms_t r = s_tok(t, "文件", strlen("文件"));
    assert_int_equal(r.n, 1);
    assert_true(r.flags[0] & TEXT_F_CJK);
}

static void test_hostile_input(void **state)
{
    text_t *t = *state;
    terms_t r = s_tok(t, "", 0);
    assert_int_equal(r.total, 0);
    r = s_tok(t, NULL, 0);
    assert_int_equal(r.total, 0);
    /* Embedded NUL and invalid UTF-8 act as word breaks. */
    r = s_tok(t, "ab\0cd", 5);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.term[0], "ab");
    assert_string_equal(r.term[1], "cd");
    const char bad[] = "\xff\xfe"
                       "files\xc3"
                       "x \xe2\x82 tar \xed\xa0\x80zz";
    r = s_tok(t, bad, sizeof bad - 1);
    assert_int_equal(r.n, 4);
    assert_string_equal(r.term[0], "file");
    assert_string_equal(r.term[1], "x");
    assert_string_equal(r.term[2], "tar");
    assert_string_equal(r.term[3], "zz");

    /* A megabyte of words, and one 100 KB word (cut to TEXT_MAX_TERM). */
    size_t n = 1 << 20;
    char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++) big[i] = "word "[i % 5];
    r = s_tok(t, big, n);
    assert_int_equal(r.total, n / 5 + (n % 5 ? 1 : 0));
    memset(big, 'a', 100000);
    r = s_tok(t, big, 100000);
    assert_int_equal(r.total, 1);
    assert_true(r.maxlen <= TEXT_MAX_TERM);
    /* The same with a multi-byte letter: the cut stays on a boundary. */
    for (size_t i = 0; i + 1 < 100000; i += 2) {
        big[i] = (char)0xc3;
        big[i + 1] = (char)0xa9; /* é */
    }
    r = s_tok(t, big, 100000);
    assert_int_equal(r.total, 1);
    assert_int_equal(r.maxlen % 2, 0);
    assert_true(r.maxlen <= TEXT_MAX_TERM);
    free(big);
}

static int s_stop_after_two(const char *term, size_t len, unsigned flags, void *arg)
{
    int *n = arg;
    return ++*n == 2 ? 42 : 0;
}

static void test_callback_stops(void **state)
{
    int n = 0;
    assert_int_equal(text_tokenize(*state, "one two three", 13, s_stop_after_two, &n), 42);
    assert_int_equal(n, 2);
}

static void test_normalise(void **state)
{
    text_t *t = *state;
    char out[64];
    const char *q = "  How do I EXTRACT tar.gz? ";
    assert_int_equal(text_normalise(t, q, strlen(q), out, sizeof out), 23);
    assert_string_equal(out, "how do i extract tar gz");
    /* Too small a buffer keeps whole words only. */
    assert_int_equal(text_normalise(t, q, strlen(q), out, 10), 8);
    assert_string_equal(out, "how do i");
    assert_int_equal(text_normalise(t, "", 0, out, sizeof out), 0);
    assert_string_equal(out, "");
}

static void test_synonyms(void **state)
{
    text_t *t = *state;
    const char *syn[16];
    size_t n = text_synonyms(t, "delet", syn, 16);
    int remov = 0, eras = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(syn[i], "remov")) remov = 1;
        if (!strcmp(syn[i], "eras")) eras = 1;
        assert_string_not_equal(syn[i], "delet");
    }
    assert_true(remov && eras);
    n = text_synonyms(t, "folder", syn, 16);
    assert_int_equal(n, 2);
    assert_int_equal(text_synonyms(t, "zzzz", syn, 16), 0);
    assert_int_equal(text_synonyms(t, "delet", syn, 1), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ascii_fold_and_stem, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unicode_fold, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_accent_fold, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_languages, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_command_punctuation, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_stop_flags, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cjk, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_input, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_callback_stops, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_normalise, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_synonyms, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
