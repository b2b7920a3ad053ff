/* cmd_io.c -- bulk in and out: tip import, tip export.
 *
 * import reads JSON Lines (title, body, topics; other fields ignored), signs
 * each tip here in the CLI and submits them in batches of S_BATCH events with
 * up to S_INFLIGHT requests outstanding on one DEALER. Signing the next batch
 * while tipd verifies and commits the previous ones keeps both cores busy;
 * waiting for each reply would leave one idle per round trip. Replies come
 * back in order, so a FIFO of batches maps each result to its line number.
 *
 * A line that carries "event" (base64 of a signed event, as export writes) is
 * submitted as-is, so ids survive an export/import round trip. Other lines
 * get created_at = the file's mtime (or now, if that is earlier or the input
 * is not a file) minus the line number in milliseconds: re-importing an
 * unchanged file yields the same ids, reported as duplicates, instead of a
 * second copy, and no line is ever stamped after the clock, however long the
 * file (counting up from the mtime put line 600 001 of a fresh file more than
 * the 10 minutes ahead that every node refuses).
 *
 * The file is streamed: one line, one batch being filled and S_INFLIGHT
 * batches are held at a time, and the per-reason tallies are capped, so
 * memory stays bounded whatever the input's size.
 *
 * export pages through the `export` op and writes one JSON line per event:
 * the readable fields plus "event", the exact signed bytes.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <unistr.h>

#include "b64.h"
#include "cmd.h"
#include "out.h"

#define S_BATCH         CONTRACT_SUBMIT_MAX                /* events per submit request */
#define S_BATCH_BYTES   (CONTRACT_MAX_REQUEST / 4 * 3)     /* well under the request cap */
#define S_INFLIGHT      CONTRACT_SUBMIT_INFLIGHT           /* requests outstanding at once */
#define S_REPLY_TIMEOUT 120000                             /* a batch commit takes far less */
#define S_MAX_LINE      (256 * 1024)                       /* longer lines are rejected unread */
#define S_SHOW_ERRORS   100                                /* bad lines printed one by one */
#define S_B64_MAX       ((EVENT_MAX_SIZE + 2) / 3 * 4 + 1) /* b64_encoded_len + NUL */

typedef struct {
    size_t n;
    size_t *lines; /* line number of each event */
} s_batch_t;

typedef struct {
    cli_t *cli;
    const char *file;
    /* the batch being filled */
    json_t *events;
    size_t bytes;
    s_batch_t cur;
    /* batches sent, oldest first */
    s_batch_t fifo[S_INFLIGHT];
    size_t head, count;
    /* tallies */
    size_t lines, imported, dups, rejected, adjusted;
    json_t *reasons; /* reason -> count */
    json_t *errors;  /* [{line, error}] */
    /* progress */
    int progress;
    off_t size, done_bytes;
    uint64_t last_draw;
    int fatal;      /* exit code once tipd failed us */
    int own;        /* --own: the importer wrote these, so no imported mark */
    size_t nospace; /* lines tipd could not store for lack of disk */
} s_import_t;

#define S_MAX_REASONS 64 /* distinct reasons tallied; the rest count as one */

static void s_reject(s_import_t *im, size_t line, const char *reason)
{
    im->rejected++;
    if (json_object_size(im->reasons) >= S_MAX_REASONS && !json_object_get(im->reasons, reason))
        reason = "other reasons";
    json_int_t c = json_integer_value(json_object_get(im->reasons, reason));
    json_object_set_new(im->reasons, reason, json_integer(c + 1));
    if (json_array_size(im->errors) < 1000)
        json_array_append_new(im->errors,
                              json_pack("{s:I, s:s}", "line", (json_int_t)line, "error", reason));
    if (!im->cli->json && im->rejected <= S_SHOW_ERRORS) {
        if (im->progress) fputs("\r\033[K", stderr);
        fprintf(stderr, "tip: %s:%zu: %s; skipped\n", im->file, line, reason);
    }
}

static void s_draw(s_import_t *im, int final)
{
    if (!im->progress) return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (!final && now - im->last_draw < 100) return;
    im->last_draw = now;
    size_t done = im->imported + im->dups + im->rejected;
    if (im->size > 0) {
        int pct = (int)(im->done_bytes * 100 / im->size);
        int w = 30, fill = pct * w / 100;
        fprintf(stderr, "\r\033[Kimporting [%.*s%*s] %3d%%  %zu lines read, %zu done", fill,
                "##############################", w - fill, "", pct, im->lines, done);
    } else {
        fprintf(stderr, "\r\033[Kimporting: %zu lines read, %zu done", im->lines, done);
    }
    if (final) fputs("\r\033[K", stderr);
}

/* 1 if an error reply or result says tipd's disk is full. */
static int s_no_space(const json_t *o)
{
    const char *e = json_string_value(json_object_get(o, "error"));
    const char *c = json_string_value(json_object_get(o, "code"));
    return (e && !strcmp(e, CONTRACT_E_NO_SPACE)) || (c && !strcmp(c, CONTRACT_E_NO_SPACE));
}

/* Apply one submit reply to the oldest outstanding batch. A full disk is
 * not the lines' fault: they are counted apart and told once, at the end. */
static void s_apply(s_import_t *im, json_t *reply)
{
    s_batch_t *b = &im->fifo[im->head];
    im->head = (im->head + 1) % S_INFLIGHT;
    im->count--;
    json_t *results = json_object_get(reply, "results");
    if (s_no_space(reply)) {
        im->nospace += b->n;
    } else if (!json_is_true(json_object_get(reply, "ok")) || json_array_size(results) != b->n) {
        const char *e = json_string_value(json_object_get(reply, "error"));
        const char *m = json_string_value(json_object_get(reply, "message"));
        char why[300];
        snprintf(why, sizeof why, "refused by tipd: %s%s%s", e ? e : "bad reply", m ? ": " : "",
                 m ? m : "");
        for (size_t i = 0; i < b->n; i++) s_reject(im, b->lines[i], why);
    } else {
        for (size_t i = 0; i < b->n; i++) {
            json_t *r = json_array_get(results, i);
            const char *st = json_string_value(json_object_get(r, "status"));
            if (st && !strcmp(st, "new")) {
                im->imported++;
            } else if (st && !strcmp(st, "duplicate")) {
                im->dups++;
            } else if (s_no_space(r)) {
                im->nospace++;
            } else {
                const char *e = json_string_value(json_object_get(r, "error"));
                char why[300];
                snprintf(why, sizeof why, "refused by tipd: %s", e ? e : "rejected");
                s_reject(im, b->lines[i], why);
            }
        }
    }
    free(b->lines);
    b->lines = NULL;
    b->n = 0;
}

/* Wait for one reply. 0, or an exit code (printed) if tipd failed us. */
static int s_wait_one(s_import_t *im, int timeout_ms)
{
    json_t *reply;
    char err[512];
    int rc = client_recv(im->cli->client, &reply, timeout_ms, err, sizeof err);
    if (rc == CLIENT_E_TIMEOUT && timeout_ms == 0) return 0;
    if (rc) {
        if (im->progress) fputs("\r\033[K", stderr);
        return cli_fail(im->cli, CLI_EXIT_UNREACHABLE,
                        "%s; %zu requests unconfirmed (importing the same file again skips "
                        "what was stored)",
                        err, im->count);
    }
    s_apply(im, reply);
    json_decref(reply);
    return 0;
}

/* Send the batch being filled (if any); blocks while S_INFLIGHT are out. */
static int s_flush(s_import_t *im)
{
    if (!im->cur.n) return 0;
    int rc;
    while (im->count >= S_INFLIGHT)
        if ((rc = s_wait_one(im, S_REPLY_TIMEOUT))) return rc;
    json_t *req = json_pack("{s:s, s:o}", "op", "submit", "events", im->events);
    char err[512];
    rc = client_send(im->cli->client, req, err, sizeof err);
    json_decref(req);
    im->events = json_array();
    if (rc) return cli_fail(im->cli, CLI_EXIT_UNREACHABLE, "%s", err);
    im->fifo[(im->head + im->count) % S_INFLIGHT] = im->cur;
    im->count++;
    im->cur.n = 0;
    im->cur.lines = NULL;
    im->bytes = 0;
    /* Take whatever replies are already there without waiting. */
    while (im->count && client_pending(im->cli->client)) {
        size_t before = im->count;
        if ((rc = s_wait_one(im, 0))) return rc;
        if (im->count == before) break;
    }
    return 0;
}

/* Queue one signed event (base64) from line. */
static int s_queue(s_import_t *im, size_t line, const char *b64)
{
    size_t len = strlen(b64);
    if (im->cur.n && (im->cur.n >= S_BATCH || im->bytes + len > S_BATCH_BYTES)) {
        int rc = s_flush(im);
        if (rc) return rc;
    }
    if (!im->cur.lines && !(im->cur.lines = malloc(S_BATCH * sizeof(size_t))))
        return cli_fail(im->cli, CLI_EXIT_ERROR, "out of memory");
    im->cur.lines[im->cur.n++] = line;
    im->bytes += len + 4;
    json_array_append_new(im->events, json_string(b64));
    return 0;
}

/* Make a topic valid (event_topic_norm's rules: letters of any script,
 * digits, . _ + # -; case-folded, NFC, <= 32 bytes): every other character
 * becomes '-', dashes are collapsed and trimmed, and characters are cut off
 * the end until it fits. Empty result = drop it. */
static void s_clean_topic(const char *in, char out[EVENT_MAX_TOPIC_LEN + 1])
{
    char buf[4 * EVENT_MAX_TOPIC_LEN + 1], one[8], tmp[EVENT_MAX_TOPIC_LEN + 1];
    size_t o = 0, n = strlen(in);
    const uint8_t *p = (const uint8_t *)in;
    for (size_t i = 0; i < n && o + 4 < sizeof buf;) {
        ucs4_t uc;
        int k = u8_mbtouc(&uc, p + i, n - i);
        if (k <= 0) k = 1;
        memcpy(one, p + i, (size_t)k);
        one[k] = 0;
        int ok = uc != 0xfffd && event_topic_norm(one, tmp, NULL) == 0;
        if (ok) {
            memcpy(buf + o, one, (size_t)k);
            o += (size_t)k;
        } else if (o && buf[o - 1] != '-') {
            buf[o++] = '-';
        }
        i += (size_t)k;
    }
    while (o && buf[o - 1] == '-') o--;
    buf[o] = 0;
    while (o && event_topic_norm(buf, out, NULL) != 0) {
        while (o > 0 && ((unsigned char)buf[--o] & 0xC0) == 0x80) {
        }
        while (o && buf[o - 1] == '-') o--;
        buf[o] = 0;
    }
    if (!o) out[0] = 0;
}

/* Title and body into ev; a title too long is cut at a word (full title kept
 * at the top of the body). NULL or the reason. */
static const char *s_set_text(event_t *ev, const char *title, size_t tl, const char *body,
                              size_t bl, int *adjusted)
{
    if (tl > EVENT_MAX_TITLE) {
        /* Keep the long title whole at the top of the body. */
        if (tl + 2 + bl > EVENT_MAX_BODY) return "title and body too long for one tip";
        char *nb = malloc(tl + 2 + bl + 1);
        if (!nb) return "out of memory";
        memcpy(nb, title, tl);
        memcpy(nb + tl, "\n\n", 2);
        if (bl) memcpy(nb + tl + 2, body, bl);
        nb[tl + 2 + bl] = 0;
        size_t cut = EVENT_MAX_TITLE - 3;
        while (cut > 0 && ((unsigned char)title[cut] & 0xC0) == 0x80) cut--;
        size_t sp = cut;
        while (sp > cut / 2 && title[sp] != ' ') sp--;
        if (title[sp] == ' ') cut = sp;
        char t[EVENT_MAX_TITLE + 1];
        memcpy(t, title, cut);
        memcpy(t + cut, "\xe2\x80\xa6", 3);
        int rc = event_set_title(ev, t, cut + 3);
        if (!rc) rc = event_set_body(ev, nb, tl + 2 + bl);
        free(nb);
        if (rc) return event_strerror(rc);
        *adjusted = 1;
    } else {
        if (bl > EVENT_MAX_BODY) return "body longer than 16384 bytes";
        int rc = event_set_title(ev, title, tl);
        if (!rc && body) rc = event_set_body(ev, body, bl);
        if (rc) return event_strerror(rc);
    }
    return NULL;
}

/* Build and sign a tip from a parsed line. Returns NULL and the reason, or
 * NULL reason on success. */
static const char *s_build(s_import_t *im, json_t *o, event_t *ev, const ident_t *id,
                           uint64_t created_at)
{
    json_t *jt = json_object_get(o, "title"), *jb = json_object_get(o, "body");
    json_t *jk = json_object_get(o, "kind"), *jtp = json_object_get(o, "topics");
    if (!json_is_string(jt)) return "no \"title\" string";
    if (!json_string_length(jt)) return "\"title\" is empty";
    if (jb && !json_is_null(jb) && !json_is_string(jb)) return "\"body\" is not a string";
    if (jtp && !json_is_null(jtp) && !json_is_array(jtp)) return "\"topics\" is not a list";
    int kind = EVENT_TIP;
    if (json_is_string(jk)) {
        kind = event_kind_from_name(json_string_value(jk));
        if (kind != EVENT_TIP && kind != EVENT_QUESTION)
            return "\"kind\" must be tip or question (other kinds need their signed \"event\")";
    }
    event_init(ev, (event_kind_t)kind);
    const char *title = json_string_value(jt), *body = jb ? json_string_value(jb) : NULL;
    size_t tl = json_string_length(jt), bl = body ? json_string_length(jb) : 0;
    if (memchr(title, 0, tl) || (body && memchr(body, 0, bl))) return "text contains NUL";
    /* Notes from other tools: CRLF bodies, titles with tabs or line breaks. */
    char *tcopy = strndup(title, tl), *bcopy = strndup(body ? body : "", bl);
    if (!tcopy || !bcopy) {
        free(tcopy);
        free(bcopy);
        return "out of memory";
    }
    int adjusted = 0;
    for (char *p = tcopy; *p; p++)
        if (*p == '\t' || *p == '\r' || *p == '\n') *p = ' ', adjusted = 1;
    bl = cli_normalize_newlines(bcopy, bl);
    const char *why = s_set_text(ev, tcopy, tl, bcopy, bl, &adjusted);
    free(tcopy);
    free(bcopy);
    if (why) return why;
    size_t i;
    json_t *t;
    json_array_foreach(jtp, i, t)
    {
        if (!json_is_string(t)) return "\"topics\" holds a non-string";
        if (strlen(json_string_value(t)) != json_string_length(t)) return "text contains NUL";
        char clean[EVENT_MAX_TOPIC_LEN + 1];
        s_clean_topic(json_string_value(t), clean);
        if (strcmp(clean, json_string_value(t)) != 0) adjusted = 1;
        if (!*clean) continue;
        if (ev->ntopics >= EVENT_MAX_TOPICS) {
            adjusted = 1;
            break;
        }
        if (event_add_topic(ev, clean)) adjusted = 1;
    }
    /* Who wrote it is not who signs it: say so, and where it came from. */
    json_t *src = json_object_get(o, "source");
    if (!im->own && event_set_imported(ev, json_is_string(src) ? json_string_value(src) : NULL))
        event_set_imported(ev, NULL); /* a source we cannot keep is left out */
    im->adjusted += adjusted;
    ev->created_at = created_at;
    int rc = event_sign(ev, id->sk);
    return rc ? event_strerror(rc) : NULL;
}

/* Read one line (with its '\n') into buf[cap + 1], NUL-terminated; *len is
 * its full length, and a line longer than cap is consumed but only its first
 * cap bytes kept, so one huge line costs no more memory than a normal one.
 * 0, or -1 at end of input. */
static int s_read_line(FILE *f, char *buf, size_t cap, size_t *len)
{
    size_t n = 0;
    int c = EOF;
    while ((c = getc_unlocked(f)) != EOF) {
        if (n < cap) buf[n] = (char)c;
        n++;
        if (c == '\n') break;
    }
    buf[n < cap ? n : cap] = '\0';
    *len = n;
    return c == EOF && n == 0 ? -1 : 0;
}

/* One input line: parse, sign or pass through, queue. */
static int s_line(s_import_t *im, char *line, size_t len, event_t *ev, const ident_t *id,
                  uint64_t base_ms, char *b64, uint8_t *raw)
{
    size_t ln = im->lines;
    if (ln == 1 && len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) {
        /* A UTF-8 byte order mark, as Windows editors write: not content. */
        line += 3;
        len -= 3;
    }
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
        i++;
    if (i == len) return 0; /* blank lines are allowed */
    json_error_t jerr;
    /* NULs are let through the parser so the line gets our own plain reason
     * ("text contains NUL") rather than jansson's flag name. */
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!o || !json_is_object(o)) {
        char why[300];
        if (!o)
            snprintf(why, sizeof why, "not valid JSON (%s at column %d)", jerr.text, jerr.column);
        else
            snprintf(why, sizeof why, "not a JSON object");
        json_decref(o);
        s_reject(im, ln, why);
        return 0;
    }
    const char *reason = NULL;
    json_t *je = json_object_get(o, "event");
    if (je) {
        const char *s = json_string_value(je);
        long got = s && strlen(s) == json_string_length(je) && strlen(s) < S_B64_MAX
                       ? b64_decode(s, strlen(s), raw, EVENT_MAX_SIZE)
                       : -1;
        if (got < 0)
            reason = "\"event\" is not base64 of a signed event";
        else if (event_decode(raw, (size_t)got, ev) != 0)
            reason = "\"event\" does not decode as a signed event";
        else
            snprintf(b64, S_B64_MAX, "%s", s);
    } else {
        /* Counting down from a time not after the clock: never ahead of it. */
        reason = s_build(im, o, ev, id, base_ms > ln ? base_ms - ln : 1);
        if (!reason) {
            size_t rawlen;
            int rc = event_encode(ev, raw, EVENT_MAX_SIZE, &rawlen);
            if (rc)
                reason = event_strerror(rc);
            else
                b64_encode(raw, rawlen, b64);
        }
    }
    json_decref(o);
    if (reason) {
        s_reject(im, ln, reason);
        return 0;
    }
    return s_queue(im, ln, b64);
}

static void s_summary(s_import_t *im)
{
    if (im->cli->json) {
        json_t *o =
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:O, s:O}", "lines", (json_int_t)im->lines,
                      "imported", (json_int_t)im->imported, "duplicates", (json_int_t)im->dups,
                      "rejected", (json_int_t)im->rejected, "adjusted", (json_int_t)im->adjusted,
                      "reasons", im->reasons, "errors", im->errors);
        if (im->nospace) {
            json_object_set_new(o, "no_space", json_integer((json_int_t)im->nospace));
            json_object_set_new(o, "stopped_at_line", json_integer((json_int_t)im->lines));
        }
        out_json(im->cli, o);
        json_decref(o);
        return;
    }
    if (im->nospace)
        fprintf(stderr,
                "tip: tipd's disk is full: the import stopped at line %zu and %zu lines sent were "
                "not stored. Free space on the disk holding tipd's data (tip status shows where), "
                "then run the same import again: what was stored is skipped as duplicates\n",
                im->lines, im->nospace);
    if (im->rejected > S_SHOW_ERRORS)
        fprintf(stderr, "tip: ... and %zu more bad lines\n", im->rejected - S_SHOW_ERRORS);
    FILE *f = im->cli->out;
    fprintf(f, "imported %zu, duplicates %zu, rejected %zu", im->imported, im->dups, im->rejected);
    const char *k;
    json_t *v;
    int first = 1;
    json_object_foreach(im->reasons, k, v)
    {
        fprintf(f, "%s%lld %s", first ? " (" : "; ", (long long)json_integer_value(v), k);
        first = 0;
    }
    fprintf(f, "%s\n", first ? "" : ")");
    if (im->adjusted)
        fprintf(f,
                "%zu tips were adjusted to fit: long titles shortened (full text kept in "
                "the body) or topics cleaned up\n",
                im->adjusted);
}

static int s_import_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    static const struct option opts[] = {{"own", no_argument, 0, 'O'}, {0, 0, 0, 0}};
    int c, own = 0;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == 'O')
            own = 1;
        else
            return cli_bad_option(cli, self, c, argv);
    }
    if (argc - optind != 1) return cli_usage(cli, self, "give one FILE (or - for stdin)");
    const char *file = argv[optind];
    char oerr[PATH_MAX + 64];
    FILE *f = cli_open_read(file, oerr, sizeof oerr);
    if (!f) return cli_fail(cli, CLI_EXIT_ERROR, "%s", oerr);

    s_import_t im = {.cli = cli, .file = file, .own = own};
    struct stat st;
    uint64_t now = event_now_ms(), base = now;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        im.size = st.st_size;
        base = (uint64_t)st.st_mtim.tv_sec * 1000 + (uint64_t)st.st_mtim.tv_nsec / 1000000;
        if (base > now) base = now;
    }
    int rc = cli_connect(cli);
    ident_t id;
    if (!rc) rc = cli_identity(cli, &id, NULL, 0);
    if (rc) {
        if (f != stdin) fclose(f);
        return rc;
    }
    im.events = json_array();
    im.reasons = json_object();
    im.errors = json_array();
    im.progress = isatty(STDERR_FILENO) && !cli->json;
    event_t *ev = malloc(sizeof *ev);
    char *b64 = malloc(S_B64_MAX);
    uint8_t *raw = malloc(EVENT_MAX_SIZE);
    char *line = malloc(S_MAX_LINE + 1);
    size_t n;
    if (!ev || !b64 || !raw || !line) rc = cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
    while (!rc && !im.nospace && s_read_line(f, line, S_MAX_LINE, &n) == 0) {
        im.lines++;
        im.done_bytes += n;
        if (n > S_MAX_LINE)
            s_reject(&im, im.lines, "line longer than 256 KiB");
        else
            rc = s_line(&im, line, n, ev, &id, base, b64, raw);
        s_draw(&im, 0);
    }
    if (!rc && ferror(f)) rc = cli_fail(cli, CLI_EXIT_ERROR, "cannot read %s", file);
    if (!rc) rc = s_flush(&im);
    while (!rc && im.count) {
        rc = s_wait_one(&im, S_REPLY_TIMEOUT);
        s_draw(&im, 0);
    }
    s_draw(&im, 1);
    ident_wipe(&id);
    if (f != stdin) fclose(f);
    if (ev && b64 && raw) {
        out_begin(cli, 0);
        s_summary(&im);
    }
    for (size_t i = 0; i < S_INFLIGHT; i++) free(im.fifo[i].lines);
    free(im.cur.lines);
    free(line);
    free(ev);
    free(b64);
    free(raw);
    json_decref(im.events);
    json_decref(im.reasons);
    json_decref(im.errors);
    if (rc) return rc;
    return im.rejected || im.nospace ? CLI_EXIT_ERROR : 0;
}

const cmd_t cmd_import = {
    .name = "import",
    .run = s_import_run,
    .synopsis = "import [--own] FILE",
    .summary = "add many tips from a JSON Lines file (- for stdin)",
    .help = "Each line is a JSON object: {\"title\": ..., \"body\": ..., \"topics\": [...],\n"
            "\"source\": ...}; other fields are ignored. Lines written by 'tip export' carry\n"
            "\"event\" (the signed event) and are stored exactly as they were, with the same ids.\n"
            "Other lines are signed by you and marked imported, with the line's \"source\" (a\n"
            "URL or path, up to 128 bytes) if it has one: everyone sees you imported them, not\n"
            "that you wrote them, and tip stats counts them apart.\n"
            "  --own     the file holds tips you wrote yourself: no imported mark\n"
            "A bad line is reported with its line number and skipped; the rest goes on. Files\n"
            "of any size are streamed; no tip is stamped later than the clock (line N gets the\n"
            "file's time, or now if earlier, minus N milliseconds), so importing the same\n"
            "unchanged file again stores nothing new (duplicates). Ends with: imported N,\n"
            "duplicates D, rejected R (reasons). Exit 0 if no line was rejected, else 1. If\n"
            "tipd's disk fills up, the import stops and says so once. A progress bar shows on\n"
            "a terminal.\n"
            "\nExamples:\n  tip import notes.jsonl\n  tip import --own my-notes.jsonl\n"
            "  tip import --json backup.jsonl\n",
};

/* ---- export ---- */

/* One export line for a decoded event. */
static json_t *s_export_obj(const event_t *ev, const char *b64)
{
    char id[65], author[65], when[40];
    event_hex(ev->id, EVENT_ID_LEN, id);
    event_hex(ev->author, EVENT_KEY_LEN, author);
    event_time_rfc3339(ev->created_at, when, sizeof when);
    json_t *topics = json_array(), *refs = json_array();
    for (int i = 0; i < ev->ntopics; i++) json_array_append_new(topics, json_string(ev->topics[i]));
    for (int i = 0; i < ev->nrefs; i++) {
        char rid[65];
        event_hex(ev->refs[i].id, EVENT_ID_LEN, rid);
        json_array_append_new(refs, json_pack("{s:s, s:s}", "role",
                                              event_ref_role_name(ev->refs[i].role), "id", rid));
    }
    const char *kind = event_kind_name(ev->kind);
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:I, s:o, s:i, s:s, s:s}", "title", ev->title,
                     "body", ev->body, "kind", kind ? kind : "unknown", "topics", topics, "id", id,
                     "author", author, "created_at_ms", (json_int_t)ev->created_at, "refs", refs,
                     "value", ev->value, "event", b64, "created_at", when)
               ?: NULL;
}

static int s_export_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", (const struct option[]){{0, 0, 0, 0}}, NULL)) != -1)
        return cli_bad_option(cli, self, c, argv);
    if (argc - optind > 1) return cli_usage(cli, self, "give at most one FILE");
    const char *file = argc - optind == 1 && strcmp(argv[optind], "-") ? argv[optind] : NULL;
    int rc = cli_connect(cli);
    if (rc) return rc;

    char tmp[PATH_MAX + 16], real[PATH_MAX];
    FILE *f = stdout;
    struct stat st;
    if (file && stat(file, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* A device, FIFO or /dev/stdout is written in place: renaming a file
         * over it would replace the device node itself. */
        if (!(f = fopen(file, "w")))
            return cli_fail(cli, CLI_EXIT_ERROR, "cannot write %s: %s", file, strerror(errno));
        tmp[0] = 0;
    } else if (file) {
        /* Write beside the target and rename, so FILE is never half-written;
         * through a symlink, beside the file it points to. */
        if (realpath(file, real)) file = real;
        snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", file);
        int fd = mkstemp(tmp);
        if (fd < 0 || !(f = fdopen(fd, "w"))) {
            if (fd >= 0) close(fd);
            return cli_fail(cli, CLI_EXIT_ERROR, "cannot write beside %s: %s", file,
                            strerror(errno));
        }
        fchmod(fd, 0644);
    }
    event_t *ev = malloc(sizeof *ev);
    uint8_t *raw = malloc(EVENT_MAX_SIZE);
    json_t *cursor = json_null();
    size_t count = 0, bad = 0;
    if (!ev || !raw) rc = cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
    while (!rc) {
        json_t *req = json_pack("{s:s, s:i, s:O}", "op", "export", "n", 1000, "after", cursor);
        if (json_is_null(cursor)) json_object_del(req, "after");
        json_t *reply;
        if ((rc = cli_call(cli, req, &reply))) break;
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(reply, "events"), i, e)
        {
            const char *s = json_string_value(e);
            long got =
                s && strlen(s) < S_B64_MAX ? b64_decode(s, strlen(s), raw, EVENT_MAX_SIZE) : -1;
            if (got < 0 || event_decode(raw, (size_t)got, ev) != 0) {
                bad++;
                continue;
            }
            json_t *o = s_export_obj(ev, s);
            char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
            if (line) {
                fputs(line, f);
                fputc('\n', f);
                count++;
            }
            free(line);
            json_decref(o);
        }
        json_decref(cursor);
        cursor = json_incref(json_object_get(reply, "next"));
        if (!cursor) cursor = json_null();
        json_decref(reply);
        if (json_is_null(cursor)) break;
    }
    json_decref(cursor);
    free(ev);
    free(raw);
    if (file && !tmp[0]) {
        int werr = fflush(f) != 0 || ferror(f);
        werr |= fclose(f) != 0;
        if (!rc && werr)
            rc = cli_fail(cli, CLI_EXIT_ERROR, "cannot write %s: %s", file, strerror(errno));
    } else if (file) {
        int werr = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
        werr |= fclose(f) != 0;
        if (!rc && werr)
            rc = cli_fail(cli, CLI_EXIT_ERROR, "cannot write %s: %s", tmp, strerror(errno));
        if (!rc && rename(tmp, file) != 0)
            rc = cli_fail(cli, CLI_EXIT_ERROR, "cannot rename %s to %s: %s", tmp, file,
                          strerror(errno));
        if (rc) unlink(tmp);
    } else if ((fflush(stdout) != 0 || ferror(stdout)) && !rc) {
        rc = cli_fail(cli, CLI_EXIT_ERROR, "cannot write to stdout: %s", strerror(errno));
    }
    if (bad) fprintf(stderr, "tip: %zu events from tipd did not decode; left out\n", bad);
    if (rc) return rc;
    if (file) {
        out_begin(cli, 0);
        if (cli->json) {
            json_t *o = json_pack("{s:I, s:s}", "exported", (json_int_t)count, "file", file);
            out_json(cli, o);
            json_decref(o);
        } else {
            fprintf(cli->out, "exported %zu events to %s\n", count, file);
        }
    }
    return 0;
}

const cmd_t cmd_export = {
    .name = "export",
    .run = s_export_run,
    .synopsis = "export [FILE]",
    .summary = "write every event as JSON Lines (to FILE or stdout)",
    .help = "Each line has title, body, topics, kind, id, author, created_at (RFC 3339),\n"
            "created_at_ms, refs, value and \"event\": the signed event in base64, which\n"
            "'tip import' stores as-is so ids survive the round trip. FILE is written\n"
            "beside itself and renamed into place, so it is never half-written.\n"
            "\nExamples:\n  tip export backup.jsonl\n  tip export | grep -c lesson\n",
};
