/* cli.c -- shared plumbing for tip's commands: error lines and exit codes,
 * talking to tipd, the user's identity, reading text from files and stdin,
 * and turning that text (or an id argument) into event fields, one way for
 * every command that writes (add, ask, answer, edit, thanks).
 *
 * Every failure a command can meet ends up here as exactly one line on
 * stderr ("tip: ...") and one of the documented exit codes, so commands stay
 * short and consistent: `if ((rc = cli_call(...))) return rc;`.
 */
#include "cli.h"

#include "b64.h"
#include "editdist.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <unistd.h>

int cli_fail(cli_t *cli, int code, const char *fmt, ...)
{
    (void)cli;
    va_list ap;
    fflush(stdout);
    fputs("tip: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

const char *cli_suggest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    int bestd = 99, ties = 0;
    size_t wl = strlen(word);
    /* Up to one edit for short words, two from five characters on: "serach"
     * is "search", but "ls" is not "list". */
    int limit = wl < 5 ? 1 : 2;
    for (size_t i = 0; i < n; i++) {
        int d = editdist_ascii(word, cands[i], limit);
        if (d < bestd) {
            bestd = d;
            best = cands[i];
            ties = 0;
        } else if (d == bestd && strcmp(best, cands[i]) != 0) {
            ties++;
        }
    }
    if (best && bestd <= limit && !ties) return best;
    /* A unique candidate that starts with the word ("stat" -> "stats"). */
    const char *pre = NULL;
    for (size_t i = 0; wl >= 2 && i < n; i++)
        if (!strncmp(cands[i], word, wl)) {
            if (pre && strcmp(pre, cands[i]) != 0) return NULL;
            pre = cands[i];
        }
    return pre;
}

/* The long options a command documents: every "--name" in its synopsis and
 * help, and the global ones. Names (without "--") go into out. */
static size_t s_long_options(const cmd_t *cmd, char out[][32], size_t max)
{
    const char *texts[] = {cmd ? cmd->synopsis : NULL, cmd ? cmd->help : NULL,
                           "--socket --json --color --help --version"};
    size_t n = 0;
    for (size_t t = 0; t < 3; t++) {
        for (const char *p = texts[t]; p && (p = strstr(p, "--")); p += 2) {
            if (p > texts[t] && (isalnum((unsigned char)p[-1]) || p[-1] == '-')) continue;
            size_t k = 0;
            while (k < 31 && (isalnum((unsigned char)p[2 + k]) || p[2 + k] == '-')) k++;
            if (k < 2) continue;
            int seen = 0;
            for (size_t i = 0; i < n && !seen; i++)
                seen = strlen(out[i]) == k && !strncmp(out[i], p + 2, k);
            if (seen || n == max) continue;
            memcpy(out[n], p + 2, k);
            out[n++][k] = 0;
        }
    }
    return n;
}

int cli_usage(cli_t *cli, const cmd_t *cmd, const char *fmt, ...)
{
    (void)cli;
    va_list ap;
    fputs("tip: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (cmd)
        fprintf(stderr, "usage: tip %s\nTry 'tip help %s'.\n", cmd->synopsis, cmd->name);
    else
        fprintf(stderr, "Try 'tip help'.\n");
    return CLI_EXIT_USAGE;
}

int cli_bad_option(cli_t *cli, const cmd_t *cmd, int c, char **argv)
{
    extern int optind, optopt;
    const char *arg = argv[optind - 1];
    if (c == ':') return cli_usage(cli, cmd, "option '%s' needs a value", arg);
    if (optopt && (!arg || strncmp(arg, "--", 2) != 0))
        return cli_usage(cli, cmd, "unknown option '-%c'", optopt);
    return cli_unknown_option(cli, cmd, arg ? arg : "?");
}

int cli_unknown_option(cli_t *cli, const cmd_t *cmd, const char *arg)
{
    char names[48][32], word[32];
    const char *cands[48];
    size_t n = s_long_options(cmd, names, 48);
    for (size_t i = 0; i < n; i++) cands[i] = names[i];
    /* "--titel=x" is judged by its name */
    const char *w = arg;
    while (*w == '-') w++;
    snprintf(word, sizeof word, "%.*s", (int)strcspn(w, "="), w);
    const char *s = *word ? cli_suggest(word, cands, n) : NULL;
    if (s) return cli_usage(cli, cmd, "unknown option '%s'; did you mean '--%s'?", arg, s);
    return cli_usage(cli, cmd, "unknown option '%s'", arg);
}

static int s_connect(cli_t *cli);

/* True if a process is listening on the Unix socket at path (a plain
 * connect() succeeds), which tells a stuck tipd from a stale socket file. */
static int s_listening(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) return 0;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

int cli_connect(cli_t *cli)
{
    if (cli->down) return cli->down;
    int rc = s_connect(cli);
    cli->down = rc == CLI_EXIT_UNREACHABLE ? rc : 0;
    return rc;
}

static int s_connect(cli_t *cli)
{
    char err[512];
    if (!cli->client && !(cli->client = client_new(cli->socket)))
        return cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
    int rc = client_connect(cli->client, CLIENT_CONNECT_TIMEOUT_MS, err, sizeof err);
    switch (rc) {
    case 0:
        return 0;
    case CLIENT_E_NOANSWER:
        if (s_listening(cli->socket))
            return cli_fail(cli, CLI_EXIT_UNREACHABLE,
                            "tipd is not answering at %s (it is running but stuck or overloaded); "
                            "see: systemctl status tipd",
                            cli->socket);
        /* A socket file nobody listens on is a stopped tipd. */
        __attribute__((fallthrough));
    case CLIENT_E_NOSOCKET:
        return cli_fail(cli, CLI_EXIT_UNREACHABLE,
                        "tipd is not running (%s); start it with: sudo systemctl start tipd  "
                        "(or: tipd --api %s --data DIR)",
                        err, cli->socket);
    case CLIENT_E_PERM:
        return cli_fail(cli, CLI_EXIT_UNREACHABLE,
                        "cannot reach tipd: %s (the socket's group decides who may use it)", err);
    default:
        return cli_fail(cli, CLI_EXIT_UNREACHABLE, "cannot reach tipd: %s", err);
    }
}

int cli_reply_code(const json_t *reply)
{
    if (json_is_true(json_object_get(reply, "ok"))) return 0;
    const char *e = json_string_value(json_object_get(reply, "error"));
    if (!e) return CLI_EXIT_ERROR;
    if (!strcmp(e, CONTRACT_E_NOT_FOUND) || !strcmp(e, CONTRACT_E_AMBIGUOUS))
        return CLI_EXIT_NOTFOUND;
    if (!strcmp(e, "refused") || !strcmp(e, "forbidden")) return CLI_EXIT_REFUSED;
    return CLI_EXIT_ERROR;
}

int cli_reply_fail(cli_t *cli, const json_t *reply)
{
    int code = cli_reply_code(reply);
    const char *e = json_string_value(json_object_get(reply, "error"));
    const char *m = json_string_value(json_object_get(reply, "message"));
    if (!e) e = "error";
    json_t *cands = json_object_get(reply, "candidates");
    if (!strcmp(e, CONTRACT_E_AMBIGUOUS) && json_is_array(cands)) {
        fflush(stdout);
        fprintf(stderr, "tip: %s; it matches:\n",
                m ? m : "ambiguous id prefix; give more characters");
        size_t i;
        json_t *c;
        json_array_foreach(cands, i, c)
        {
            /* Candidates may be bare ids or tip objects; a bare id gets its
             * kind and title looked up, so the user can tell them apart. */
            const char *id = json_is_string(c) ? json_string_value(c)
                                               : json_string_value(json_object_get(c, "id"));
            json_t *got = NULL;
            if (json_is_string(c) && id && cli->client) {
                json_t *req = json_pack("{s:s, s:s}", "op", "get", "id", id);
                char err[128];
                if (req &&
                    client_call(cli->client, req, &got, CLI_CALL_TIMEOUT_MS, err, sizeof err) != 0)
                    got = NULL;
                json_decref(req);
            }
            const json_t *o = got ? json_object_get(got, "event") : c;
            const char *kind = json_string_value(json_object_get(o, "kind"));
            const char *title = json_string_value(json_object_get(o, "title"));
            fprintf(stderr, "  %s%s%s%s%s\n", id ? id : "?", kind ? "  " : "", kind ? kind : "",
                    title && *title ? ": " : "", title && *title ? title : "");
            json_decref(got);
        }
        return code;
    }
    if (!strcmp(e, CONTRACT_E_NOT_FOUND) && m && !strncmp(m, "no event with id ", 17) &&
        !json_is_true(json_object_get(reply, "retracted")))
        /* People look for tips, not "events": say it in their words. */
        return cli_fail(cli, code,
                        "no tip has id %s (nor any question, answer, rating or thanks); find "
                        "tips with: tip search WORDS, or tip list",
                        m + 17);
    if (!strcmp(e, CONTRACT_E_NOT_FOUND)) return cli_fail(cli, code, "%s", m ? m : "not found");
    if (!strcmp(e, CONTRACT_E_NO_SPACE)) {
        cli->no_space = 1; /* not the request's fault: what was typed is kept */
        return cli_fail(cli, code, "%s",
                        m ? m
                          : "tipd's disk is full, so nothing was stored; free space on the disk "
                            "holding tipd's data (tip status shows where), then try again");
    }
    if (!strcmp(e, "refused"))
        return cli_fail(cli, code, "tipd refused it: %s", m ? m : "invalid event");
    return cli_fail(cli, code, "tipd: %s%s%s", e, m ? ": " : "", m ? m : "");
}

int cli_call(cli_t *cli, json_t *req, json_t **reply)
{
    char err[512];
    *reply = NULL;
    int rc = cli_connect(cli);
    if (rc) {
        json_decref(req);
        return rc;
    }
    rc = client_call(cli->client, req, reply, CLI_CALL_TIMEOUT_MS, err, sizeof err);
    json_decref(req);
    /* Sent, but no answer: what was asked may have been done. */
    cli->timed_out = rc == CLIENT_E_TIMEOUT || rc == CLIENT_E_GONE;
    if (cli->timed_out) return cli_fail(cli, CLI_EXIT_UNREACHABLE, "%s", err);
    if (rc) return cli_fail(cli, CLI_EXIT_ERROR, "%s", err);
    if (!json_is_true(json_object_get(*reply, "ok"))) {
        rc = cli_reply_fail(cli, *reply);
        json_decref(*reply);
        *reply = NULL;
        return rc;
    }
    return 0;
}

int cli_identity(cli_t *cli, ident_t *id, char *path, size_t cap)
{
    char dir[PATH_MAX], err[512];
    if (ident_home(dir, sizeof dir, err, sizeof err) != 0)
        return cli_fail(cli, CLI_EXIT_ERROR, "%s", err);
    if (path) snprintf(path, cap, "%s/%s", dir, IDENT_FILE);
    char file[PATH_MAX + 16];
    snprintf(file, sizeof file, "%s/%s", dir, IDENT_FILE);
    struct stat st;
    int existed = lstat(file, &st) == 0;
    if (ident_load_or_create(dir, id, err, sizeof err) != 0) {
        /* A damaged key cannot be repaired; say the way out, and what it costs. */
        int damaged = strstr(err, "is damaged") != NULL;
        return cli_fail(cli, CLI_EXIT_ERROR, "%s%s", err,
                        damaged ? "; restore it from a backup, or move it away and tip makes a "
                                  "new one (what you wrote stays under the old key: you could "
                                  "no longer edit or retract it)"
                                : "");
    }
    if (!existed)
        /* A key made behind the user's back is a key nobody backs up: say
         * once what it is and what to do with it. */
        fprintf(stderr,
                "tip: created your identity %s: the key that signs what you write (keep it, "
                "back it up; losing it means you can no longer edit or retract your tips). "
                "Tell colleagues who you are with: tip whoami --name 'Your Name' --team TEAM\n",
                file);
    return 0;
}

size_t cli_normalize_newlines(char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\r') {
            s[o++] = '\n';
            if (i + 1 < len && s[i + 1] == '\n') i++;
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = 0;
    return o;
}

FILE *cli_open_read(const char *path, char *err, size_t errlen)
{
    if (!strcmp(path, "-")) return stdin;
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f); /* fopen takes a directory; reading it would fail later */
        f = NULL;
        errno = EISDIR;
    }
    if (!f) snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    return f;
}

char *cli_read_file(const char *path, size_t max, char *err, size_t errlen)
{
    int is_stdin = !strcmp(path, "-");
    FILE *f = cli_open_read(path, err, errlen);
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            char *nb = cap > max + 2 ? NULL : realloc(buf, cap * 2);
            if (!nb) break;
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len > max) break;
        if (n == 0) break;
    }
    int ioerr = ferror(f);
    if (!is_stdin) fclose(f);
    if (!buf) {
        snprintf(err, errlen, "out of memory reading %s", path);
        return NULL;
    }
    if (len > max) {
        snprintf(err, errlen, "%s is larger than %zu bytes", is_stdin ? "stdin" : path, max);
        free(buf);
        return NULL;
    }
    if (ioerr) {
        snprintf(err, errlen, "cannot read %s", is_stdin ? "stdin" : path);
        free(buf);
        return NULL;
    }
    buf[len] = 0;
    if (memchr(buf, 0, len)) {
        snprintf(err, errlen, "%s contains NUL bytes: not text", is_stdin ? "stdin" : path);
        free(buf);
        return NULL;
    }
    cli_normalize_newlines(buf, len);
    return buf;
}

int cli_topic_norm(cli_t *cli, const cmd_t *cmd, const char *topic, size_t n,
                   char out[EVENT_MAX_TOPIC_LEN + 1])
{
    char tmp[4 * EVENT_MAX_TOPIC_LEN + 1];
    if (n >= sizeof tmp)
        return cli_usage(cli, cmd, "topic '%.*s...' is longer than %d bytes", 40, topic,
                         EVENT_MAX_TOPIC_LEN);
    memcpy(tmp, topic, n);
    tmp[n] = 0;
    size_t bad = 0;
    int rc = event_topic_norm(tmp, out, &bad);
    if (rc == EVENT_E_OVERSIZE)
        return cli_usage(cli, cmd, "topic '%s' is longer than %d bytes", tmp, EVENT_MAX_TOPIC_LEN);
    if (rc) {
        /* Name the character, so the user need not guess which one. */
        const char *c = out + bad;
        size_t cl = strlen(c) ? strlen(c) : 1;
        if (!*c) return cli_usage(cli, cmd, "topic '%s' is not valid UTF-8", tmp);
        return cli_usage(cli, cmd,
                         "topic '%s': '%.*s' cannot be in a topic (letters and digits of any "
                         "language, and . _ + # -)",
                         tmp, (int)cl, c);
    }
    return 0;
}

int cli_add_topics(cli_t *cli, const cmd_t *cmd, event_t *ev, const char *arg)
{
    const char *p = arg;
    while (*p) {
        size_t n = strcspn(p, ", ");
        if (n > 0) {
            char t[EVENT_MAX_TOPIC_LEN + 1];
            int rc = cli_topic_norm(cli, cmd, p, n, t);
            if (rc) return rc;
            int had = 0;
            for (int i = 0; i < ev->ntopics; i++) had |= !strcmp(ev->topics[i], t);
            if (!had && ev->ntopics >= EVENT_MAX_TOPICS)
                return cli_usage(cli, cmd, "a tip has at most %d topics; '%s' is one too many",
                                 EVENT_MAX_TOPICS, t);
            if ((rc = event_add_topic(ev, t)))
                return cli_usage(cli, cmd, "topic '%s': %s", t, event_strerror(rc));
        }
        p += n;
        while (*p == ',' || *p == ' ') p++;
    }
    return 0;
}

int cli_submit_event(cli_t *cli, const event_t *ev, char idhex[65], int *dup)
{
    uint8_t buf[EVENT_MAX_SIZE];
    size_t len;
    int rc = event_encode(ev, buf, sizeof buf, &len);
    if (rc) return cli_fail(cli, CLI_EXIT_ERROR, "cannot encode the event: %s", event_strerror(rc));
    char b64[(EVENT_MAX_SIZE + 2) / 3 * 4 + 1];
    b64_encode(buf, len, b64);
    json_t *req = json_pack("{s:s, s:[s]}", "op", "submit", "events", b64);
    json_t *reply;
    if ((rc = cli_call(cli, req, &reply))) return rc;
    json_t *r = json_array_get(json_object_get(reply, "results"), 0);
    const char *st = json_string_value(json_object_get(r, "status"));
    const char *id = json_string_value(json_object_get(r, "id"));
    event_hex(ev->id, EVENT_ID_LEN, idhex);
    if (id && strcmp(id, idhex) != 0) {
        json_decref(reply);
        return cli_fail(cli, CLI_EXIT_ERROR, "tipd reports id %s, expected %s", id, idhex);
    }
    if (st && (!strcmp(st, "new") || !strcmp(st, "duplicate"))) {
        if (dup) *dup = !strcmp(st, "duplicate");
        json_decref(reply);
        return 0;
    }
    const char *e = json_string_value(json_object_get(r, "error"));
    rc = cli_fail(cli, CLI_EXIT_REFUSED, "tipd refused the event: %s",
                  e ? e : (st ? st : "no result"));
    json_decref(reply);
    return rc;
}

void cli_short_id(cli_t *cli, const char *idhex, char out[65])
{
    for (int n = 8; n < 64; n++) {
        snprintf(out, 65, "%.*s", n, idhex);
        json_t *req = json_pack("{s:s, s:s}", "op", "get", "id", out);
        json_t *reply = NULL;
        char err[256];
        if (!req || !cli->client ||
            client_call(cli->client, req, &reply, CLI_CALL_TIMEOUT_MS, err, sizeof err)) {
            json_decref(req);
            return;
        }
        json_decref(req);
        const char *e = json_string_value(json_object_get(reply, "error"));
        int ambiguous = e && !strcmp(e, CONTRACT_E_AMBIGUOUS);
        json_decref(reply);
        if (!ambiguous) return;
    }
    snprintf(out, 65, "%s", idhex);
}

int cli_id_arg(cli_t *cli, const cmd_t *cmd, const char *arg, char prefix[2 * EVENT_ID_LEN + 1])
{
    if (event_prefix_norm(arg, prefix) >= 0) return 0;
    size_t n = strlen(arg), bad = 0;
    while (bad < n && isxdigit((unsigned char)arg[bad])) bad++;
    if (bad < n)
        return cli_usage(cli, cmd, "'%.80s%s' is not an id: ids are hex (0-9, a-f)", arg,
                         n > 80 ? "..." : "");
    if (n < 4)
        return cli_usage(cli, cmd, "'%s' is too short for an id: give at least 4 hex characters",
                         arg);
    return cli_usage(cli, cmd, "'%.80s...' is not an id: an id has %d hex characters, this has %zu",
                     arg, 2 * EVENT_ID_LEN, n);
}

char *cli_join_args(int argc, char **argv, int from)
{
    size_t len = 1;
    for (int i = from; i < argc; i++) len += strlen(argv[i]) + 1;
    char *s = malloc(len);
    if (!s) return NULL;
    size_t k = 0;
    for (int i = from; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (i > from) s[k++] = ' ';
        memcpy(s + k, argv[i], n);
        k += n;
    }
    s[k] = 0;
    cli_normalize_newlines(s, k);
    return s;
}

int cli_text_arg(cli_t *cli, const cmd_t *cmd, int argc, char **argv, int from, const char *file,
                 char **text)
{
    char err[512];
    *text = NULL;
    if (file && from < argc)
        return cli_usage(cli, cmd, "give the text as arguments or with -f, not both");
    if (from + 1 == argc && !strcmp(argv[from], "-")) file = "-";
    if (file) {
        if (!(*text = cli_read_file(file, CLI_MAX_TEXT, err, sizeof err)))
            return cli_fail(cli, CLI_EXIT_ERROR, "%s", err);
    } else if (from < argc && !(*text = cli_join_args(argc, argv, from))) {
        return cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
    }
    return 0;
}

/* Longest prefix of s (<= max bytes) ending at a word boundary, else on a
 * UTF-8 character boundary. */
static size_t s_cut_words(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) return n;
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
    size_t sp = cut;
    while (sp > max / 2 && s[sp] != ' ') sp--;
    return s[sp] == ' ' ? sp : cut;
}

int cli_fill_text(cli_t *cli, const cmd_t *cmd, event_t *ev, const char *title, char *text)
{
    char *p = text;
    while (*p == '\n' || *p == ' ' || *p == '\t') p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n')) p[--n] = 0;
    int rc, shortened = 0;
    if (title) {
        if (!*title) return cli_usage(cli, cmd, "--title is empty");
        if (strlen(title) > EVENT_MAX_TITLE)
            return cli_usage(cli, cmd, "--title is %zu bytes; a title has at most %d",
                             strlen(title), EVENT_MAX_TITLE);
        if ((rc = event_set_title(ev, title, strlen(title))))
            return cli_usage(cli, cmd, "--title: %s", event_strerror(rc));
    } else {
        if (!*p) return cli_fail(cli, CLI_EXIT_ERROR, "the text is empty; nothing sent");
        size_t line = strcspn(p, "\n"), tl = line;
        char t[EVENT_MAX_TITLE + 4];
        if (line > EVENT_MAX_TITLE) {
            /* Cut at a word; the body keeps the whole text, first line included. */
            tl = s_cut_words(p, EVENT_MAX_TITLE - 3);
            shortened = 1;
        }
        memcpy(t, p, tl);
        while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t')) tl--;
        if (shortened) {
            memcpy(t + tl, "\xe2\x80\xa6", 3); /* U+2026 */
            tl += 3;
        } else {
            p += line;
            while (*p == '\n') p++;
        }
        if ((rc = event_set_title(ev, t, tl)))
            return cli_fail(cli, CLI_EXIT_ERROR, "the title (first line): %s", event_strerror(rc));
    }
    size_t bl = strlen(p);
    if (bl > EVENT_MAX_BODY)
        return cli_fail(cli, CLI_EXIT_ERROR, "the text is %zu bytes; at most %d fit; nothing sent",
                        bl, EVENT_MAX_BODY);
    if ((rc = event_set_body(ev, p, bl)))
        return cli_fail(cli, CLI_EXIT_ERROR, "the text: %s", event_strerror(rc));
    /* Said only once the event is known to fit, so a refusal stays one line. */
    if (shortened)
        fprintf(stderr,
                "tip: the first line is longer than %d bytes, so the title is shortened and "
                "the full text kept in the body (or use --title)\n",
                EVENT_MAX_TITLE);
    return 0;
}

static const char s_scissors[] = "# ------------------------ >8 ------------------------";

char *cli_edit_text(cli_t *cli, const char *initial, const char *help, const char *nothing)
{
    const char *tmpdir = getenv("TMPDIR");
    char path[PATH_MAX], err[512];
    snprintf(path, sizeof path, "%s/tip-XXXXXX.md", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int fd = mkstemps(path, 3);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        cli_fail(cli, CLI_EXIT_ERROR, "cannot create a temporary file in %s", path);
        return NULL;
    }
    fprintf(f, "%s\n%s\n%s", initial, s_scissors, help);
    fclose(f);
    const char *editor = getenv("VISUAL");
    if (!editor || !*editor) editor = getenv("EDITOR");
    if (!editor || !*editor) editor = "vi";
    char *text = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        /* Through the shell so EDITOR may carry arguments ("code -w"). */
        char cmd[PATH_MAX + 64];
        snprintf(cmd, sizeof cmd, "%s \"$1\"", editor);
        execl("/bin/sh", "sh", "-c", cmd, "sh", path, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (pid > 0 && WIFEXITED(st) && (WEXITSTATUS(st) == 127 || WEXITSTATUS(st) == 126))
            cli_fail(cli, CLI_EXIT_ERROR,
                     "cannot run the editor '%s' (set EDITOR, or give the text as arguments); %s",
                     editor, nothing);
        else
            cli_fail(cli, CLI_EXIT_ERROR, "the editor (%s) failed; %s", editor, nothing);
    } else if (!(text = cli_read_file(path, CLI_MAX_TEXT + 4096, err, sizeof err))) {
        cli_fail(cli, CLI_EXIT_ERROR, "%s", err);
    } else {
        char *cut = strstr(text, s_scissors);
        if (cut) *cut = 0;
    }
    unlink(path);
    return text;
}
