/* text_lang.c -- which language a text is written in, for choosing its
 * Snowball stemmer (docs/SEARCH.md, "Languages"), and accent folding.
 *
 * Detection looks at the first TEXT_LANG_SCAN bytes only, so that it costs
 * the same for any tip. A script that belongs to one stemmed language
 * decides at once (Greek, Tamil, Devanagari -> Hindi; Arabic unless a
 * letter only Persian uses appears; Cyrillic when Russian function words
 * are found). Latin-script text is scored by how many of its words are
 * function words of each language (short lists of frequent, distinctive
 * words); English wins ties and texts with no evidence, because tips
 * without function words are mostly commands. The same text always gives
 * the same language, which is what lets a retraction re-tokenize a tip to
 * find its postings.
 *
 * Folding drops the combining diacritics U+0300..U+036F after canonical
 * decomposition ("é" -> "e", "ñ" -> "n", "ё" -> "е"), and nothing else:
 * "й" stays a letter of its own, and the vowel signs of Indic scripts are
 * combining marks too but carry meaning.
 */
#include "text_int.h"

#include <stdlib.h>
#include <string.h>
#include <uninorm.h>
#include <unistr.h>

#define TEXT_LANG_SCAN 1024

/* Snowball names, indexed by TEXT_LANG_*. */
static const char *const s_names[TEXT_NLANGS] = {
    "english",  "spanish", "french",    "german",  "italian", "portuguese", "dutch",
    "swedish",  "danish",  "norwegian", "finnish", "turkish", "indonesian", "catalan",
    "romanian", "russian", "greek",     "arabic",  "hindi",   "tamil",
};

/* Function words per Latin-script language (and Russian), space-separated,
 * case-folded. They also serve as the language's query stopwords. */
static const char *const s_func[TEXT_NLANGS] = {
    [TEXT_LANG_EN] = "the and of to is for with that this are from an be or it by as on your you",
    [TEXT_LANG_ES] = "el la los las de del que en un una por con para es lo como su sus al "
                     "archivo archivos y muestra especificado directorio ejecuta crea",
    [TEXT_LANG_FR] = "le la les de des du et un une est que qui pour dans sur avec par au aux ce "
                     "cette ses fichier afficher affiche spécifié fichiers répertoire",
    [TEXT_LANG_DE] = "der das und ist nicht ein eine einer eines einen dem den des mit von zu auf "
                     "für im sich datei zeige dateien verzeichnis alle",
    [TEXT_LANG_IT] =
        "il lo la gli le di del della che un una con non da nel nella dei delle mostra specificato "
        "elenca visualizza crea avvia programma codice percorso esegui originale",
    [TEXT_LANG_PT] =
        "os de da dos das que um uma para com não em por arquivo arquivos exibe ficheiro ficheiros "
        "mostra diretório ver documentação mostrar listar executar",
    [TEXT_LANG_NL] = "de het een en van dat zijn met voor niet aan ook bij",
    [TEXT_LANG_SV] = "och att det som ett på är av för med till den inte har visa ange filen filer "
                     "katalog dokumentationen ursprungliga",
    [TEXT_LANG_DA] = "og det som på er af med til den ikke har der vis angiv filen mappe "
                     "oprindelige dokumentation",
    [TEXT_LANG_NO] =
        "og det som på er av med til den ikke har vis angi filen mappe opprinnelige dokumentasjon",
    [TEXT_LANG_FI] = "ja ei että tai jos kuin tämä sen tiedosto tiedoston näytä",
    [TEXT_LANG_TR] = "ve bir bu da de ile için olarak ya veya gibi daha dosya göster dosyayı dizin "
                     "tüm belirtilen belirli listele",
    [TEXT_LANG_ID] =
        "dan yang ke dari untuk dengan pada ini itu adalah dalam atau tidak berkas tampilkan",
    [TEXT_LANG_CA] = "la els les de del que en un una amb és als al fitxer mostra directori",
    [TEXT_LANG_RO] = "și în de cu un este din pentru nu sau ale fișier afișează fișierul",
    [TEXT_LANG_RU] =
        "и в не на с что как по из к от для это или файл все файлы показать указанный файла",
};

const char *text_lang_name(int lang)
{
    return lang >= 0 && lang < TEXT_NLANGS ? s_names[lang] : NULL;
}

int text_lang_from_code(const char *code)
{
    static const struct {
        const char *code;
        int lang;
    } map[] = {{"en", TEXT_LANG_EN}, {"es", TEXT_LANG_ES}, {"fr", TEXT_LANG_FR},
               {"de", TEXT_LANG_DE}, {"it", TEXT_LANG_IT}, {"pt", TEXT_LANG_PT},
               {"nl", TEXT_LANG_NL}, {"sv", TEXT_LANG_SV}, {"da", TEXT_LANG_DA},
               {"no", TEXT_LANG_NO}, {"nb", TEXT_LANG_NO}, {"fi", TEXT_LANG_FI},
               {"tr", TEXT_LANG_TR}, {"id", TEXT_LANG_ID}, {"ca", TEXT_LANG_CA},
               {"ro", TEXT_LANG_RO}, {"ru", TEXT_LANG_RU}, {"el", TEXT_LANG_EL},
               {"ar", TEXT_LANG_AR}, {"hi", TEXT_LANG_HI}, {"ta", TEXT_LANG_TA}};
    if (!code) return -1;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strncmp(code, map[i].code, 2) && (!code[2] || code[2] == '_' || code[2] == '-'))
            return map[i].lang;
    return -1;
}

static int s_cmp_fw(const void *a, const void *b)
{
    return strcmp(((const text_fw_t *)a)->w, ((const text_fw_t *)b)->w);
}

size_t text_fw_build(text_fw_t **out)
{
    size_t cap = 0;
    for (int l = 0; l < TEXT_NLANGS; l++)
        for (const char *p = s_func[l]; p && *p; p++) cap += *p == ' ';
    cap += TEXT_NLANGS;
    text_fw_t *v = calloc(cap, sizeof *v);
    *out = v;
    if (!v) return 0;
    size_t n = 0;
    for (int l = 0; l < TEXT_NLANGS; l++)
        for (const char *p = s_func[l]; p && *p && n < cap;) {
            size_t wl = strcspn(p, " ");
            if (wl > 0 && wl < sizeof v[0].w) {
                memcpy(v[n].w, p, wl);
                v[n].langs = 1u << l;
                n++;
            }
            p += wl;
            while (*p == ' ') p++;
        }
    qsort(v, n, sizeof *v, s_cmp_fw);
    size_t w = 0; /* merge duplicates: one entry per word, every language */
    for (size_t i = 0; i < n; i++) {
        if (w > 0 && strcmp(v[w - 1].w, v[i].w) == 0)
            v[w - 1].langs |= v[i].langs;
        else
            v[w++] = v[i];
    }
    return w;
}

uint32_t text_fw_langs(const text_t *t, const char *w, size_t n)
{
    size_t nfw;
    const text_fw_t *fw = text_fw(t, &nfw);
    if (!fw || n == 0 || n >= sizeof fw[0].w) return 0;
    size_t lo = 0, hi = nfw;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strncmp(fw[mid].w, w, n);
        if (c == 0 && fw[mid].w[n]) c = 1; /* longer than w */
        if (c == 0) return fw[mid].langs;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

typedef struct {
    double score[TEXT_NLANGS];
    unsigned cyr, greek, arabic, persian, deva, tamil, words;
} s_detect_t;

/* Letters that only some Latin-script languages use, and which. */
static const struct {
    ucs4_t c;
    int lang[4];
} s_letters[] = {
    {0x0131, {TEXT_LANG_TR, -1, -1, -1}},                               /* ı */
    {0x011F, {TEXT_LANG_TR, -1, -1, -1}},                               /* ğ */
    {0x015F, {TEXT_LANG_TR, TEXT_LANG_RO, -1, -1}},                     /* ş */
    {0x00E3, {TEXT_LANG_PT, -1, -1, -1}},                               /* ã */
    {0x00F5, {TEXT_LANG_PT, -1, -1, -1}},                               /* õ */
    {0x00F1, {TEXT_LANG_ES, -1, -1, -1}},                               /* ñ */
    {0x00E6, {TEXT_LANG_DA, TEXT_LANG_NO, -1, -1}},                     /* æ */
    {0x00F8, {TEXT_LANG_DA, TEXT_LANG_NO, -1, -1}},                     /* ø */
    {0x00E5, {TEXT_LANG_SV, TEXT_LANG_DA, TEXT_LANG_NO, -1}},           /* å */
    {0x0103, {TEXT_LANG_RO, -1, -1, -1}},                               /* ă */
    {0x021B, {TEXT_LANG_RO, -1, -1, -1}},                               /* ț */
    {0x0219, {TEXT_LANG_RO, -1, -1, -1}},                               /* ș */
    {0x00E7, {TEXT_LANG_PT, TEXT_LANG_FR, TEXT_LANG_CA, TEXT_LANG_TR}}, /* ç */
    {0x00F2, {TEXT_LANG_IT, TEXT_LANG_CA, -1, -1}},                     /* ò */
    {0x00EC, {TEXT_LANG_IT, -1, -1, -1}},                               /* ì */
};

/* Count script evidence in one word of folded UTF-8; a distinctive letter
 * is worth half a function word, shared among its languages. */
static void s_script(s_detect_t *d, const uint8_t *w, size_t n)
{
    for (size_t i = 0; i < n;) {
        ucs4_t c;
        int l = u8_mbtoucr(&c, w + i, n - i);
        if (l <= 0) break;
        i += (size_t)l;
        if (c >= 0x0400 && c <= 0x04FF)
            d->cyr++;
        else if (c >= 0x0370 && c <= 0x03FF)
            d->greek++;
        else if (c >= 0x0600 && c <= 0x06FF) {
            d->arabic++;
            if (c == 0x067E || c == 0x0686 || c == 0x0698 || c == 0x06AF || c == 0x06CC ||
                c == 0x06A9)
                d->persian++;
        } else if (c >= 0x0900 && c <= 0x097F)
            d->deva++;
        else if (c >= 0x0B80 && c <= 0x0BFF)
            d->tamil++;
        else if (c >= 0xC0 && c < 0x250)
            for (size_t j = 0; j < sizeof s_letters / sizeof s_letters[0]; j++) {
                if (s_letters[j].c != c) continue;
                int k = 0;
                while (k < 4 && s_letters[j].lang[k] >= 0) k++;
                for (int m = 0; m < k; m++) d->score[s_letters[j].lang[m]] += 0.5 / k;
            }
    }
}

typedef struct {
    s_detect_t d;
    const text_t *t;
} s_detect_arg_t;

static int s_detect_word(const char *term, size_t len, unsigned flags, void *arg)
{
    s_detect_arg_t *da = arg;
    s_detect_t *d = &da->d;
    d->words++;
    s_script(d, (const uint8_t *)term, len);
    /* A word several languages share counts for each of them in part. */
    uint32_t in = text_fw_langs(da->t, term, len);
    int k = __builtin_popcount(in);
    for (int l = 0; l < TEXT_NLANGS && k; l++)
        if (in & (1u << l)) d->score[l] += 1.0 / k;
    return 0;
}

int text_detect(text_t *t, const char *s, size_t len)
{
    if (!t || !s) return TEXT_LANG_EN;
    if (len > TEXT_LANG_SCAN) {
        len = TEXT_LANG_SCAN;
        while (len > 0 && ((uint8_t)s[len] & 0xC0) == 0x80) len--; /* whole characters */
    }
    s_detect_arg_t da;
    memset(&da, 0, sizeof da);
    da.t = t;
    text_words(t, s, len, s_detect_word, &da);
    const s_detect_t d = da.d;
    unsigned letters = d.cyr + d.greek + d.arabic + d.deva + d.tamil;
    if (letters) {
        if (d.greek >= d.cyr && d.greek >= d.arabic && d.greek >= d.deva && d.greek >= d.tamil)
            return TEXT_LANG_EL;
        if (d.tamil >= d.deva && d.tamil >= d.arabic && d.tamil >= d.cyr) return TEXT_LANG_TA;
        if (d.deva >= d.arabic && d.deva >= d.cyr) return TEXT_LANG_HI;
        if (d.arabic >= d.cyr) return d.persian ? TEXT_LANG_NONE : TEXT_LANG_AR;
        return d.score[TEXT_LANG_RU] ? TEXT_LANG_RU : TEXT_LANG_NONE;
    }
    /* Half a function word's worth decides a short text (a query); a longer
     * one needs a whole, so that a stray "de" in a command line does not. */
    int best = TEXT_LANG_EN;
    for (int l = 1; l < TEXT_LANG_RU; l++)
        if (d.score[l] > d.score[best]) best = l;
    if (best != TEXT_LANG_EN && d.score[best] < (d.words > 8 ? 1.0 : 0.5)) return TEXT_LANG_EN;
    return best;
}

size_t text_fold(char *w, size_t len)
{
    bool ascii = true;
    for (size_t i = 0; i < len; i++)
        if ((uint8_t)w[i] >= 0x80) ascii = false;
    if (ascii) return len;
    size_t dl = 0;
    uint8_t *dec = u8_normalize(UNINORM_NFD, (const uint8_t *)w, len, NULL, &dl);
    if (!dec) return len;
    size_t o = 0;
    ucs4_t base = 0;
    for (size_t i = 0; i < dl;) {
        ucs4_t c;
        int l = u8_mbtoucr(&c, dec + i, dl - i);
        if (l <= 0) break;
        bool mark = c >= 0x0300 && c <= 0x036F;
        /* In Cyrillic only the diaeresis goes (ё -> е): й is a letter. */
        if (mark && base >= 0x0400 && base <= 0x04FF && c != 0x0308) mark = false;
        if (!mark) base = c;
        if (!mark) {
            memmove(dec + o, dec + i, (size_t)l);
            o += (size_t)l;
        }
        i += (size_t)l;
    }
    size_t cl = 0;
    uint8_t *comp = u8_normalize(UNINORM_NFC, dec, o, NULL, &cl);
    free(dec);
    if (!comp) return len;
    if (cl > 0 && cl <= len) {
        memcpy(w, comp, cl);
        w[cl] = 0;
        len = cl;
    }
    free(comp);
    return len;
}
