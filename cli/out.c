/* out.c -- human and JSON output for tip: colour, wrapping, pager, tip
 * rendering.
 *
 * A pageable command writes into an in-memory stream (open_memstream); when it
 * finishes, out_end() counts the lines and either copies them to stdout or, on
 * a terminal with more lines than fit, pipes them to $PAGER. Deciding after
 * the fact means short output never starts a pager and a failing command's
 * partial output is still shown. Display widths come from libunistring so
 * wrapping stays right for accented and CJK text.
 */
#include "out.h"

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <unistr.h>
#include <uniwidth.h>

void out_setup(cli_t *cli)
{
    const char *nc = getenv("NO_COLOR");
    switch (cli->color_mode) {
    case CLI_COLOR_ALWAYS:
        cli->color = 1; /* an explicit flag wins over NO_COLOR (no-color.org) */
        break;
    case CLI_COLOR_NEVER:
        cli->color = 0;
        break;
    default:
        cli->color = isatty(STDOUT_FILENO) && !(nc && *nc) && !cli->json;
        break;
    }
}

void out_begin(cli_t *cli, int pageable)
{
    cli->pageable = pageable && !cli->json && isatty(STDOUT_FILENO);
    cli->out = stdout;
    if (cli->pageable) {
        FILE *f = open_memstream(&cli->outbuf, &cli->outlen);
        if (f) cli->out = f;
    }
}

static int s_term_rows(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) return ws.ws_row;
    const char *l = getenv("LINES");
    int n = l ? atoi(l) : 0;
    return n > 0 ? n : 24;
}

/* True if an executable called name is on $PATH. */
static int s_in_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/bin:/bin";
    char buf[PATH_MAX];
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n && snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, name) < (int)sizeof buf &&
            access(buf, X_OK) == 0)
            return 1;
        path += n;
        if (*path == ':') path++;
    }
    return 0;
}

void out_end(cli_t *cli)
{
    if (!cli->out || cli->out == stdout) {
        fflush(stdout);
        cli->out = stdout;
        return;
    }
    fclose(cli->out);
    cli->out = stdout;
    size_t lines = 0;
    for (size_t i = 0; i < cli->outlen; i++) lines += cli->outbuf[i] == '\n';
    const char *pager = getenv("PAGER");
    /* The default only where less is installed (minimal systems lack it). */
    if (!pager) pager = s_in_path("less") ? "less -FRX" : "";
    FILE *p = NULL;
    if (lines + 1 >= (size_t)s_term_rows() && *pager && strcmp(pager, "cat") != 0) {
        fflush(stdout);
        signal(SIGPIPE, SIG_IGN); /* quitting the pager early is normal */
        p = popen(pager, "w");
    }
    int st = p ? (fwrite(cli->outbuf, 1, cli->outlen, p), pclose(p)) : -1;
    if (p && WIFEXITED(st) && (WEXITSTATUS(st) == 127 || WEXITSTATUS(st) == 126)) {
        /* The shell could not run $PAGER (it said why): the page must not be
         * lost, so it goes to the terminal unpaged. */
        p = NULL;
    }
    if (!p) {
        fwrite(cli->outbuf, 1, cli->outlen, stdout);
        fflush(stdout);
    }
    free(cli->outbuf);
    cli->outbuf = NULL;
    cli->outlen = 0;
}

const char *out_c(const cli_t *cli, out_style_t style)
{
    if (!cli->color) return "";
    switch (style) {
    case OUT_RESET:
        return "\033[0m";
    case OUT_BOLD:
        return "\033[1m";
    case OUT_DIM:
        return "\033[2m";
    case OUT_ID:
        return "\033[33m";
    case OUT_TITLE:
        return "\033[1m";
    case OUT_TOPIC:
        return "\033[36m";
    case OUT_GOOD:
        return "\033[32m";
    case OUT_WARN:
        return "\033[31m";
    }
    return "";
}

int out_width(void)
{
    struct winsize ws;
    int w = 0;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) w = ws.ws_col;
    if (w <= 0) {
        const char *c = getenv("COLUMNS");
        w = c ? atoi(c) : 0;
    }
    if (w <= 0) w = 80;
    if (w < 20) w = 20;
    if (w > 200) w = 200;
    return w;
}

/* Display width of s[0..n) (invalid bytes count as one column each). */
static int s_width(const char *s, size_t n)
{
    int w = 0;
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    while (p < end) {
        ucs4_t uc;
        int k = u8_mbtoucr(&uc, p, end - p);
        if (k <= 0) {
            w++;
            p++;
            continue;
        }
        int cw = uc_width(uc, "UTF-8");
        w += cw < 0 ? 1 : cw;
        p += k;
    }
    return w;
}

/* Wrap one line (no '\n') of length n. */
/* Write n bytes of text that came from other people (events, misses): C1 control
 * characters (U+0080..U+009F, which the event format allows in a body and
 * some terminals obey as escape sequences) become U+FFFD, and so would any
 * C0 control but tab; everything else is written as is. */
void out_text(FILE *f, const char *s, size_t n)
{
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t len = 0;
        if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9F)
            len = 2;
        else if ((c < 0x20 && c != '\t') || c == 0x7F)
            len = 1;
        if (!len) continue;
        fwrite(s + from, 1, i - from, f);
        fputs("\xef\xbf\xbd", f);
        i += len - 1;
        from = i + 1;
    }
    fwrite(s + from, 1, n - from, f);
}

static void s_wrap_line(FILE *f, const char *s, size_t n, int indent, int width, int hang)
{
    int avail = width - indent;
    if (avail < 20) avail = 20;
    int col = 0;
    size_t i = 0;
    /* Keep the line's own leading whitespace (code, lists) on its first row. */
    size_t lead = 0;
    while (lead < n && (s[lead] == ' ' || s[lead] == '\t')) lead++;
    if (lead == n) { /* a blank line: no trailing spaces */
        fputc('\n', f);
        return;
    }
    /* hang: the caller already filled the first row's indent (e.g. with an id). */
    fprintf(f, "%*s", hang ? 0 : indent, "");
    out_text(f, s, lead);
    col = (int)lead;
    i = lead;
    int first = 1;
    while (i < n) {
        size_t ws = i;
        while (ws < n && s[ws] == ' ') ws++;
        size_t we = ws;
        while (we < n && s[we] != ' ') we++;
        if (we == ws) break;
        int gap = first ? 0 : (int)(ws - i);
        int ww = s_width(s + ws, we - ws);
        if (!first && col + gap + ww > avail) {
            fprintf(f, "\n%*s", indent, "");
            col = 0;
            gap = 0;
        }
        fprintf(f, "%*s", gap, "");
        out_text(f, s + ws, we - ws);
        col += gap + ww;
        first = 0;
        i = we;
    }
    fputc('\n', f);
}

void out_wrap(cli_t *cli, const char *text, int indent)
{
    int width = out_width();
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        s_wrap_line(cli->out, p, n, indent, width, 0);
        if (!nl) break;
        p = nl + 1;
    }
}

void out_json(cli_t *cli, const json_t *obj)
{
    json_t *copy = json_is_object(obj) ? json_copy((json_t *)obj) : json_incref((json_t *)obj);
    if (json_is_object(copy)) {
        json_object_del(copy, "ok");
        json_object_del(copy, "tag");
    }
    char *s = json_dumps(copy, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s) {
        fputs(s, cli->out);
        fputc('\n', cli->out);
        free(s);
    }
    json_decref(copy);
}

void out_reltime(uint64_t ms, char *buf, size_t cap)
{
    uint64_t now = event_now_ms();
    if (ms > now) {
        snprintf(buf, cap, "just now");
        return;
    }
    uint64_t s = (now - ms) / 1000;
    if (s < 60)
        snprintf(buf, cap, "just now");
    else if (s < 3600)
        snprintf(buf, cap, "%llu min ago", (unsigned long long)(s / 60));
    else if (s < 86400)
        snprintf(buf, cap, "%llu h ago", (unsigned long long)(s / 3600));
    else if (s < 86400 * 45)
        snprintf(buf, cap, "%llu day%s ago", (unsigned long long)(s / 86400),
                 s / 86400 == 1 ? "" : "s");
    else {
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(buf, cap, "%Y-%m-%d", &tm);
    }
}

static const char *s_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static uint64_t s_ms(const json_t *tip)
{
    json_int_t v = json_integer_value(json_object_get(tip, "created_at_ms"));
    return v > 0 ? (uint64_t)v : 0;
}

const char *out_short_id(const json_t *tip, char buf[65])
{
    const char *sh = s_str(tip, "short");
    const char *id = *sh ? sh : s_str(tip, "id");
    snprintf(buf, 65, "%.*s", *sh ? 64 : 8, id);
    return buf;
}

void out_author(const json_t *tip, char *buf, size_t cap)
{
    const char *name = s_str(tip, "author_name");
    const char *team = s_str(tip, "author_team");
    const char *key = s_str(tip, "author");
    if (json_is_true(json_object_get(tip, "anonymous")))
        snprintf(buf, cap, "anonymous");
    else if (*name && *team)
        snprintf(buf, cap, "%s (%s)", name, team);
    else if (*name)
        snprintf(buf, cap, "%s", name);
    else
        snprintf(buf, cap, "key %.8s", *key ? key : "?");
}

void out_rating(const json_t *tip, char *buf, size_t cap)
{
    json_int_t n = json_integer_value(json_object_get(tip, "ratings"));
    json_int_t t = json_integer_value(json_object_get(tip, "thanks"));
    double avg = json_number_value(json_object_get(tip, "rating"));
    int k;
    if (n > 0)
        k = snprintf(buf, cap, "rated %.1f/5 (%lld rating%s)", avg, (long long)n,
                     n == 1 ? "" : "s");
    else
        k = snprintf(buf, cap, "no ratings yet");
    if (k < 0 || (size_t)k >= cap) return;
    if (t > 0)
        snprintf(buf + k, cap - k, " \xc2\xb7 thanked %lld time%s", (long long)t,
                 t == 1 ? "" : "s");
    else
        snprintf(buf + k, cap - k, " \xc2\xb7 no thanks yet");
}

/* "git, ssh" into buf. */
static void s_topics(const json_t *tip, char *buf, size_t cap)
{
    size_t i, k = 0;
    json_t *t;
    buf[0] = 0;
    json_array_foreach(json_object_get(tip, "topics"), i, t)
    {
        int w = snprintf(buf + k, cap - k, "%s%s", i ? ", " : "",
                         json_string_value(t) ? json_string_value(t) : "");
        if (w < 0 || (size_t)w >= cap - k) break;
        k += (size_t)w;
    }
}

/* The meta line shared by brief and full renders. */
static void s_meta(cli_t *cli, const json_t *tip, int indent)
{
    char author[200], age[64], rating[128], topics[400];
    out_author(tip, author, sizeof author);
    out_reltime(s_ms(tip), age, sizeof age);
    out_rating(tip, rating, sizeof rating);
    s_topics(tip, topics, sizeof topics);
    const char *kind = s_str(tip, "kind");
    char tbuf[420];
    snprintf(tbuf, sizeof tbuf, "[%s]", topics);
    /* Joined with " · " so the wrap breaks between parts rather than inside. */
    const char *parts[] = {*kind && strcmp(kind, "tip") ? kind : "", *topics ? tbuf : "", author,
                           age, rating};
    char line[1200];
    size_t k = 0;
    line[0] = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (!*parts[i]) continue;
        int w = snprintf(line + k, sizeof line - k, "%s%s", k ? " \xc2\xb7 " : "", parts[i]);
        if (w < 0 || (size_t)w >= sizeof line - k) break;
        k += (size_t)w;
    }
    fprintf(cli->out, "%s", out_c(cli, OUT_DIM));
    out_wrap(cli, line, indent);
    fprintf(cli->out, "%s", out_c(cli, OUT_RESET));
}

void out_tip_brief(cli_t *cli, const json_t *tip)
{
    char sid[65];
    out_short_id(tip, sid);
    const char *title = s_str(tip, "title");
    int width = out_width();
    int indent = (int)strlen(sid) + 2;
    if (!*title) title = "(untitled)";
    fprintf(cli->out, "%s%s%s  %s", out_c(cli, OUT_ID), sid, out_c(cli, OUT_RESET),
            out_c(cli, OUT_TITLE));
    s_wrap_line(cli->out, title, strlen(title), indent, width, 1);
    fputs(out_c(cli, OUT_RESET), cli->out);
    const char *body = s_str(tip, "body");
    while (*body == '\n' || *body == ' ') body++;
    if (*body) {
        size_t n = strcspn(body, "\n");
        int avail = width - indent;
        /* Cut the first line to fit on one row, on a character boundary. */
        size_t cut = n;
        while (cut > 0 && s_width(body, cut) > avail - 1) {
            cut--;
            while (cut > 0 && ((uint8_t)body[cut] & 0xC0) == 0x80) cut--;
        }
        fprintf(cli->out, "%*s", indent, "");
        out_text(cli->out, body, cut);
        fprintf(cli->out, "%s\n", cut < n || body[n] ? "…" : "");
    }
    s_meta(cli, tip, indent);
}

/* One line per thanks story / rating from a list of objects. */
static void s_list_section(cli_t *cli, const json_t *list, const char *heading)
{
    if (!json_array_size(list)) return;
    fprintf(cli->out, "\n%s%s%s\n", out_c(cli, OUT_BOLD), heading, out_c(cli, OUT_RESET));
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        char author[200], age[64], line[EVENT_MAX_STORY + 400];
        out_author(o, author, sizeof author);
        out_reltime(s_ms(o), age, sizeof age);
        const char *story = s_str(o, "story");
        if (!*story) story = s_str(o, "body");
        json_int_t v = json_integer_value(json_object_get(o, "value"));
        if (*story)
            snprintf(line, sizeof line, "- \"%s\" -- %s, %s", story, author, age);
        else if (v > 0)
            snprintf(line, sizeof line, "- %lld/5 from %s, %s", (long long)v, author, age);
        else
            snprintf(line, sizeof line, "- %s, %s", author, age);
        out_wrap(cli, line, 2);
    }
}

void out_tip_full(cli_t *cli, const json_t *tip)
{
    const char *title = s_str(tip, "title");
    fputs(out_c(cli, OUT_TITLE), cli->out);
    out_wrap(cli, *title ? title : "(untitled)", 0);
    fputs(out_c(cli, OUT_RESET), cli->out);
    fprintf(cli->out, "%sid %s%s\n", out_c(cli, OUT_ID), s_str(tip, "id"), out_c(cli, OUT_RESET));
    s_meta(cli, tip, 0);
    const char *body = s_str(tip, "body");
    if (*body) {
        fputc('\n', cli->out);
        out_wrap(cli, body, 2);
    }
    s_list_section(cli, json_object_get(tip, "thanks_list"), "Thanks");
    /* The get op lists answers, best rated first, as answers_list;
     * "answers" is their count. */
    json_t *answers = json_object_get(tip, "answers_list");
    if (json_is_array(answers) && json_array_size(answers)) {
        fprintf(cli->out, "\n%sAnswers%s\n", out_c(cli, OUT_BOLD), out_c(cli, OUT_RESET));
        size_t i;
        json_t *a;
        json_array_foreach(answers, i, a) out_tip_brief(cli, a);
    }
}
