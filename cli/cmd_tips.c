/* cmd_tips.c -- writing and finding tips: tip add, search, show, list.
 *
 * `add` builds a tip event from text (arguments, a file, stdin or $EDITOR),
 * signs it with the user's identity and submits it; tipd acknowledges only
 * after the event is on disk, so a printed id is a stored tip. The finding
 * commands are thin: they send one request and render the tip objects that
 * come back (docs/API.md), or print them as JSON lines with --json.
 */
#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "out.h"
#include "cmd_util.h"
#include "draft.h"

/* The editor's help for a new tip, under the scissors line. */
static const char s_add_help[] =
    "# Write your tip above this line: the first line is its title, the rest\n"
    "# its body. Everything from the line above down is ignored. Save an empty\n"
    "# tip to cancel. Lessons from things that went wrong are welcome too:\n"
    "# add the topic 'lesson' with -t lesson.\n";

static json_t *s_words(const char *s)
{
    json_t *set = json_object();
    char w[64];
    size_t n = 0;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c && (isalnum(c) || c >= 0x80)) {
            if (n < sizeof w - 1) w[n++] = (char)tolower(c);
            continue;
        }
        if (n) {
            w[n] = 0;
            json_object_set_new(set, w, json_true());
        }
        n = 0;
        if (!c) break;
    }
    return set;
}

/* 1 if titles a and b share most of their words (Jaccard >= 0.6): a
 * look-alike worth showing before adding. */
static int s_looks_alike(const char *a, const char *b)
{
    json_t *wa = s_words(a), *wb = s_words(b);
    size_t both = 0, na = json_object_size(wa), nb = json_object_size(wb);
    const char *k;
    json_t *v;
    json_object_foreach(wa, k, v) both += json_object_get(wb, k) != NULL;
    json_decref(wa);
    json_decref(wb);
    size_t uni = na + nb - both;
    return uni && both * 10 >= uni * 6;
}

/* Before adding: an identical tip (same title and body) by the same author
 * is refused with its id unless forced; look-alikes by anyone are shown on
 * a terminal, which asks. 0 to go on, -1 when the user declined or the tip
 * exists (printed; *rc set), or an exit code from talking to tipd. */
static int s_check_duplicates(cli_t *cli, const event_t *ev, const uint8_t *me, int force, int *rc)
{
    json_t *reply;
    /* The title is what people search by, and within the query bound. */
    int r = cli_call(cli,
                     json_pack("{s:s, s:s, s:i, s:s}", "op", "search", "q", ev->title, "n", 20,
                               "kind", event_kind_name(ev->kind)),
                     &reply);
    if (r) return r;
    json_t *results = json_object_get(reply, "results"), *alike = json_array();
    size_t i;
    json_t *t;
    const char *same = NULL;
    json_array_foreach(results, i, t)
    {
        const char *title = json_string_value(json_object_get(t, "title"));
        const char *body = json_string_value(json_object_get(t, "body"));
        if (!title || !body) continue;
        if (me && !same && cmd_is_mine(t, me) && !strcmp(title, ev->title) &&
            !strcmp(body, ev->body))
            same = json_string_value(json_object_get(t, "id"));
        else if (json_array_size(alike) < 5 && s_looks_alike(title, ev->title))
            json_array_append(alike, t);
    }
    int out = 0;
    if (same && !force) {
        char sid[65];
        cli_short_id(cli, same, sid);
        if (cli->json) {
            json_t *o = json_pack("{s:s, s:s}", "id", same, "status", "exists");
            out_json(cli, o);
            json_decref(o);
        }
        *rc = cli_fail(cli, CLI_EXIT_ERROR,
                       "you already shared this tip (same title and text): %s; see it with: tip "
                       "show %s (tip add --force adds it again)",
                       sid, sid);
        out = -1;
    } else if (json_array_size(alike) && !cli->json && !force && isatty(STDIN_FILENO) &&
               isatty(STDOUT_FILENO)) {
        cmd_show_alike(cli, alike);
        if (!cmd_confirm("Add yours anyway?")) {
            fprintf(stdout, "Not added. See one with: tip show ID\n");
            *rc = 0;
            out = -1;
        }
    }
    json_decref(alike);
    json_decref(reply);
    return out;
}

/* Print what add stored: a JSON line, or the short id on a line of its own
 * (sid gets it) and 1, for the caller's sentence after it. */
static int s_print_id(cli_t *cli, const char *idhex, int dup, char sid[65])
{
    out_begin(cli, 0);
    if (cli->json) {
        json_t *o = json_pack("{s:s, s:s}", "id", idhex, "status", dup ? "duplicate" : "new");
        out_json(cli, o);
        json_decref(o);
        return 0;
    }
    cli_short_id(cli, idhex, sid);
    fprintf(cli->out, "%s%s%s\n", out_c(cli, OUT_ID), sid, out_c(cli, OUT_RESET));
    return 1;
}

/* tip add --draft FILE: send a kept draft. */
static int s_add_draft(cli_t *cli, const char *file)
{
    char real[PATH_MAX];
    int signed_ = 0, anon = 0;
    event_t *ev = malloc(sizeof *ev);
    if (!ev) return cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
    int rc = draft_load(cli, file, real, ev, &signed_, &anon);
    int dup = 0;
    char idhex[65];
    if (!rc && signed_) {
        cli->timed_out = 0;
        rc = cli_submit_event(cli, ev, idhex, &dup);
        if (cli->timed_out)
            fprintf(stderr,
                    "tip: it may still have been stored; the draft stays in %s: sending it "
                    "again cannot store it twice\n",
                    real);
    } else if (!rc) {
        /* Edited by hand: a new event, signed now. */
        ident_t id;
        if (!(rc = cli_connect(cli))) {
            if (anon)
                ident_ephemeral(&id);
            else
                rc = cli_identity(cli, &id, NULL, 0);
        }
        if (!rc) {
            ev->created_at = event_now_ms();
            if (anon) ev->created_at = event_anon_time(ev->created_at);
            rc = draft_send(cli, ev, &id, (anon ? DRAFT_ANON : 0) | DRAFT_KEEP, idhex, &dup);
            ident_wipe(&id);
        }
    }
    if (!rc) {
        draft_remove(real);
        char sid[65];
        if (s_print_id(cli, idhex, dup, sid))
            fprintf(cli->out, "%s \"%s\" (the draft %s is removed).\n",
                    dup ? "It was already stored:" : "Sent", ev->title, real);
    }
    free(ev);
    return rc;
}

static int s_add_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"topic", required_argument, 0, 't'}, {"title", required_argument, 0, 'T'},
        {"file", required_argument, 0, 'f'},  {"anon", no_argument, 0, 'A'},
        {"draft", required_argument, 0, 'D'}, {"force", no_argument, 0, 'F'},
        {"yes", no_argument, 0, 'y'},         {0, 0, 0, 0},
    };
    event_t *ev = calloc(1, sizeof *ev);
    if (!ev) return cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
    event_init(ev, EVENT_TIP);
    const char *title = NULL, *file = NULL, *draft = NULL;
    int anon = 0, force = 0, yes = 0, c, rc = 0, keep = 0;
    char *text = NULL;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:f:y", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            rc = cli_add_topics(cli, self, ev, optarg);
            break;
        case 'T':
            title = optarg;
            break;
        case 'f':
            file = optarg;
            break;
        case 'A':
            anon = 1;
            break;
        case 'D':
            draft = optarg;
            break;
        case 'F':
            force = 1;
            break;
        case 'y':
            yes = 1;
            break;
        default:
            rc = cli_bad_option(cli, self, c, argv);
        }
        if (rc) goto done;
    }
    if (draft) {
        if (optind < argc || title || file || ev->ntopics || anon)
            rc = cli_usage(cli, self, "--draft sends a kept draft as it is: give nothing else");
        else
            rc = s_add_draft(cli, draft);
        goto done;
    }
    if ((rc = cli_text_arg(cli, self, argc, argv, optind, file, &text))) goto done;
    /* Text that exists nowhere else is kept as a draft if it cannot be sent. */
    keep = (file && !strcmp(file, "-")) || (optind + 1 == argc && !strcmp(argv[optind], "-"));
    if (!text && title) {
        text = strdup("");
    } else if (!text && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
        /* Reach tipd before the editor opens: writing a tip only to hear
         * that it cannot be sent is the worst moment to find out. */
        if ((rc = cli_connect(cli))) goto done;
        /* an empty save comes back as "" */
        if (!(text = cli_edit_text(cli, "\n", s_add_help, "no tip added"))) {
            rc = CLI_EXIT_ERROR;
            goto done;
        }
        keep = 1;
    } else if (!text) {
        rc = cli_usage(cli, self, "no text: give TEXT, -f FILE, or - to read stdin");
        goto done;
    }
    if (!text) {
        rc = cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
        goto done;
    }
    if ((rc = cli_fill_text(cli, self, ev, title, text))) goto done;

    /* Reach the daemon before touching the identity, so a first run with tipd
     * down says "not running" rather than creating keys for nothing; typed
     * text is kept as a draft all the same. */
    ident_t id;
    int down = cli_connect(cli);
    if (anon) {
        ident_ephemeral(&id); /* one-time key: nothing links it to you */
    } else if (down && !keep) {
        rc = down;
        goto done;
    } else if ((rc = cli_identity(cli, &id, NULL, 0))) {
        goto done;
    }
    /* A draft of this very tip waits: this is a retry, which resends it. */
    int retry = draft_pending(ev, &id, anon ? DRAFT_ANON : 0);
    int stop =
        down || retry ? 0 : s_check_duplicates(cli, ev, anon ? NULL : id.pk, force || yes, &rc);
    if (stop) {
        ident_wipe(&id);
        if (stop > 0) rc = stop;
        goto done;
    }
    ev->created_at = event_now_ms();
    /* An anonymous post's time is coarsened (docs/SOCIAL.md): less to
     * correlate with who was at a keyboard. */
    if (anon) ev->created_at = event_anon_time(ev->created_at);
    char idhex[65];
    int dup = 0;
    rc = draft_send(cli, ev, &id, (anon ? DRAFT_ANON : 0) | (keep ? DRAFT_KEEP : 0), idhex, &dup);
    ident_wipe(&id);
    if (rc) goto done;
    char sid[65];
    if (s_print_id(cli, idhex, dup, sid)) {
        if (dup)
            fprintf(cli->out, "That tip was already there (same author, time and text).\n");
        else
            fprintf(cli->out,
                    "Thanks for sharing%s! Your tip \"%s\" is saved; colleagues will find it "
                    "with tip search, and you can see it with: tip show %s\n",
                    anon ? " (anonymously)" : "", ev->title, sid);
    }
done:
    free(text);
    free(ev);
    return rc;
}

const cmd_t cmd_add = {
    .name = "add",
    .run = s_add_run,
    .synopsis = "add [-t TOPIC]... [--title TITLE] [--anon] [--force] [TEXT... | -f FILE | -]\n"
                "       tip add --draft FILE|last",
    .summary = "share a tip (the first line is its title)",
    .help =
        "Options:\n"
        "  -t, --topic TOPIC   tag it (repeat, or comma-separate: -t git,ssh); any language's\n"
        "                      letters and digits, and . _ + # -\n"
        "  --title TITLE       the title; then all the text is the body\n"
        "  -f, --file FILE     read the text from FILE (- for stdin)\n"
        "  --anon              sign with a one-time key instead of yours\n"
        "  --force             add it even if you already shared the same title and text\n"
        "  -y, --yes           do not ask about look-alike tips\n"
        "  --draft FILE        send a kept draft (FILE, or 'last' for the newest one)\n"
        "\n"
        "With no text on a terminal, $EDITOR (default vi) opens on a template, once tip\n"
        "knows tipd is running. A tip you already shared (same title and text) is\n"
        "refused with its id (exit 1); on a terminal, tips that look alike are shown\n"
        "first and tip asks. Prints the new tip's short id (with --json: {\"id\": ...,\n"
        "\"status\": \"new\"|\"duplicate\"|\"exists\"}).\n"
        "\n"
        "Nothing typed is lost: until tipd confirms it stored the tip, it is kept,\n"
        "signed, in $XDG_STATE_HOME/tip/drafts/ (default ~/.local/state/tip/drafts).\n"
        "If tipd is down or does not answer in time (or refuses text from the editor\n"
        "or stdin), the message names the draft; the same command again, or tip add\n"
        "--draft FILE, sends the same signed tip, which tipd stores at most once.\n"
        "Failures are worth sharing too: tag them 'lesson'.\n"
        "\n"
        "Examples:\n"
        "  tip add -t git 'Undo the last commit but keep the changes: git reset --soft HEAD~1'\n"
        "  tip add -t printers -f notes.txt\n"
        "  tip add -t lesson      # opens your editor\n"
        "  tip add --draft last   # send what could not be sent before\n",
};

/* ---- finding ---- */

/* Parse a count option: 1..max. */
static int s_count(cli_t *cli, const cmd_t *cmd, const char *s, int max, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end || v < 1 || v > max)
        return cli_usage(cli, cmd, "-n takes a number from 1 to %d, not '%s'", max, s);
    *out = (int)v;
    return 0;
}

/* Resolve --author WHO into a key prefix: "me", a hex prefix (>= 4), or a
 * profile name (case-insensitive). 0 or an exit code (printed). */
static int s_author(cli_t *cli, const char *who, char out[65])
{
    if (!strcmp(who, "me")) {
        ident_t id;
        int rc = cli_identity(cli, &id, NULL, 0);
        if (rc) return rc;
        event_hex(id.pk, EVENT_KEY_LEN, out);
        ident_wipe(&id);
        return 0;
    }
    if (event_prefix_norm(who, out) >= 4) return 0;
    json_t *req = json_pack("{s:s, s:s, s:i}", "op", "list", "kind", "profile", "n", 1000);
    json_t *reply;
    int rc = cli_call(cli, req, &reply);
    if (rc) return rc;
    /* Newest first, so the first profile seen per author is their current one. */
    json_t *seen = json_object(), *match = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(reply, "results"), i, p)
    {
        const char *a = json_string_value(json_object_get(p, "author"));
        const char *name = json_string_value(json_object_get(p, "title"));
        if (!a || !name || json_object_get(seen, a)) continue;
        json_object_set_new(seen, a, json_true());
        if (!strcasecmp(name, who)) json_array_append(match, p);
    }
    if (json_array_size(match) == 1) {
        snprintf(out, 65, "%s",
                 json_string_value(json_object_get(json_array_get(match, 0), "author")));
    } else if (json_array_size(match) == 0) {
        rc = cli_fail(cli, CLI_EXIT_NOTFOUND,
                      "no one called '%s' has a profile (give a key prefix, or 'me')", who);
    } else {
        fprintf(stderr, "tip: several people are called '%s':\n", who);
        json_array_foreach(match, i, p)
        {
            fprintf(stderr, "  %s  %s\n", json_string_value(json_object_get(p, "author")),
                    json_string_value(json_object_get(p, "body")) ?: "");
        }
        rc = cli_fail(cli, CLI_EXIT_NOTFOUND, "give --author a key prefix instead");
    }
    json_decref(seen);
    json_decref(match);
    json_decref(reply);
    return rc;
}

/* Print a list reply's "results" as JSON lines or brief entries. */
static void s_print_results(cli_t *cli, const json_t *results)
{
    size_t i;
    json_t *t;
    json_array_foreach(results, i, t)
    {
        if (cli->json) {
            out_json(cli, t);
        } else {
            if (i) fputc('\n', cli->out);
            out_tip_brief(cli, t);
        }
    }
}

/* The filters search and list share (with -n, which is not a long option). */
static const struct option s_filter_opts[] = {
    {"topic", required_argument, 0, 't'},
    {"author", required_argument, 0, 'a'},
    {"kind", required_argument, 0, 'k'},
    {0, 0, 0, 0},
};

/* Set req's "author" to the key --author WHO names; nothing when author is
 * NULL. 0 or an exit code (printed); req stays the caller's to free. */
static int s_req_author(cli_t *cli, json_t *req, const char *author)
{
    if (!author) return 0;
    char who[65];
    int rc = s_author(cli, author, who);
    if (rc) return rc;
    json_object_set_new(req, "author", json_string(who));
    return 0;
}

static int s_search_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    char tnorm[EVENT_MAX_TOPIC_LEN + 1];
    int n = 10, c, rc = 0;
    const char *author = NULL, *kind = NULL;
    json_t *topics = json_array();
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:t:", s_filter_opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            rc = s_count(cli, self, optarg, 100, &n);
            break;
        case 't':
            /* As stored: "Büro" finds what was tagged "büro". */
            if (!(rc = cli_topic_norm(cli, self, optarg, strlen(optarg), tnorm)))
                json_array_append_new(topics, json_string(tnorm));
            break;
        case 'a':
            author = optarg;
            break;
        case 'k':
            kind = optarg;
            if (event_kind_from_name(kind) < 0)
                rc = cli_usage(cli, self, "no kind '%s' (tip, question, ...)", kind);
            break;
        default:
            rc = cli_bad_option(cli, self, c, argv);
        }
        if (rc) goto done;
    }
    if (optind >= argc) {
        rc = cli_usage(cli, self, "what should I search for?");
        goto done;
    }
    char *q = cli_join_args(argc, argv, optind);
    if (!q) {
        rc = cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
        goto done;
    }
    json_t *req = json_pack("{s:s, s:s, s:i}", "op", "search", "q", q, "n", n);
    if (json_array_size(topics)) json_object_set(req, "topics", topics);
    if (kind) json_object_set_new(req, "kind", json_string(kind));
    if ((rc = s_req_author(cli, req, author))) {
        json_decref(req);
        free(q);
        goto done;
    }
    json_t *reply;
    if ((rc = cli_call(cli, req, &reply))) {
        free(q);
        goto done;
    }
    json_t *results = json_object_get(reply, "results");
    const char *fixed = json_string_value(json_object_get(reply, "corrected"));
    const char *meant = json_string_value(json_object_get(reply, "did_you_mean"));
    out_begin(cli, 1);
    if (!cli->json && fixed && json_array_size(results))
        fprintf(cli->out, "Showing results for \"%s\".\n", fixed);
    if (!cli->json && meant && json_array_size(results) == 0)
        fprintf(cli->out, "No tips match \"%s\". Did you mean \"%s\"?\n", q, meant);
    else if (!cli->json && json_array_size(results) == 0 &&
             (json_array_size(topics) || author || kind))
        fprintf(cli->out, "No tips match \"%s\" with -t/--author/--kind as given; try without.\n",
                q);
    else if (!cli->json && json_array_size(results) == 0)
        fprintf(cli->out, "No tips match \"%s\" yet. If you find out, share it: tip add\n", q);
    s_print_results(cli, results);
    json_decref(reply);
    free(q);
done:
    json_decref(topics);
    return rc;
}

const cmd_t cmd_search = {
    .name = "search",
    .run = s_search_run,
    .synopsis = "search [-n N] [-t TOPIC]... [--author WHO] [--kind KIND] QUERY...",
    .summary = "find tips, best match first",
    .help = "Options:\n"
            "  -n N             at most N results (default 10, up to 100)\n"
            "  -t, --topic T    only tips with topic T (repeatable)\n"
            "  --author WHO     only by WHO: a name from a profile, a key prefix, or 'me'\n"
            "  --kind KIND      only this kind (tip, question)\n"
            "\n"
            "A mistyped word (one letter off from 5 letters, two from 9) is corrected:\n"
            "the results say 'Showing results for ...'; when nothing is found, a\n"
            "'Did you mean ...?' suggests the nearest words the tips use.\n"
            "\n"
            "Examples:\n"
            "  tip search undo commit\n"
            "  tip search -t ssh --json agent forwarding\n",
};

static int s_show_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    static const struct option opts[] = {{"history", no_argument, 0, 'H'},
                                         {"raw", no_argument, 0, 'R'},
                                         {"cmd", no_argument, 0, 'C'},
                                         {0, 0, 0, 0}};
    int c, history = 0, raw = 0, cmd = 0;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == 'H')
            history = 1;
        else if (c == 'R')
            raw = 1;
        else if (c == 'C')
            cmd = 1;
        else
            return cli_bad_option(cli, self, c, argv);
    }
    if (argc - optind != 1) return cli_usage(cli, self, "give one id");
    if (raw + cmd + (history || cli->json) > 1)
        return cli_usage(cli, self, "--raw, --cmd and --history/--json go one at a time");
    char prefix[65];
    if (cli_id_arg(cli, self, argv[optind], prefix)) return CLI_EXIT_USAGE;
    json_t *req = json_pack("{s:s, s:s}", "op", "get", "id", prefix);
    if (history) json_object_set_new(req, "history", json_true());
    json_t *reply;
    int rc = cli_call(cli, req, &reply);
    if (rc) return rc;
    json_t *ev = json_object_get(reply, "event");
    /* An edited tip shows as its newest version, and
     * what was shown is remembered for `tip today` (cmd_util.h). */
    const char *latest = json_string_value(json_object_get(ev, "latest"));
    if (json_is_true(json_object_get(ev, "superseded")) && latest) {
        fprintf(stderr, "tip: %s was edited; showing its newest version\n", prefix);
        req = json_pack("{s:s, s:s, s:b}", "op", "get", "id", latest, "history", history);
        json_decref(reply);
        if ((rc = cli_call(cli, req, &reply))) return rc;
        ev = json_object_get(reply, "event");
    }
    cmd_seen_add(json_string_value(json_object_get(ev, "id")));
    if (raw || cmd) {
        /* For copying: nothing but the text, never paged nor wrapped. */
        const char *body = json_string_value(json_object_get(ev, "body"));
        if (!body) body = "";
        size_t n = 0;
        if (raw && !isatty(STDOUT_FILENO))
            fwrite(body, 1, json_string_length(json_object_get(ev, "body")), stdout);
        else if (raw) /* on a terminal, no escape sequence gets through */
            out_text_lines(stdout, body, strlen(body));
        else
            n = out_commands(body, stdout);
        fflush(stdout);
        json_decref(reply);
        if (cmd && !n) {
            char sid[65];
            cli_short_id(cli, json_string_value(json_object_get(ev, "id")) ?: prefix, sid);
            return cli_fail(cli, CLI_EXIT_ERROR,
                            "%s has no command lines (tip show --raw %s prints its whole text)",
                            sid, sid);
        }
        return 0;
    }
    out_begin(cli, 1);
    if (cli->json) {
        out_json(cli, ev);
    } else {
        out_tip_full(cli, ev);
        json_t *hist = json_object_get(ev, "history");
        if (history && json_array_size(hist)) {
            fprintf(cli->out, "\n%sEarlier versions%s\n", out_c(cli, OUT_BOLD),
                    out_c(cli, OUT_RESET));
            size_t i;
            json_t *h;
            json_array_foreach(hist, i, h) out_tip_brief(cli, h);
        }
    }
    json_decref(reply);
    return 0;
}

const cmd_t cmd_show = {
    .name = "show",
    .run = s_show_run,
    .synopsis = "show [--history | --raw | --cmd] ID",
    .summary = "show one tip in full, with its ratings, thanks and answers",
    .help = "ID is any unique prefix of 4 or more hex characters. An ambiguous prefix\n"
            "lists the tips it matches (exit 3).\n"
            "  --history     also list earlier versions of an edited tip\n"
            "  --raw         print only the body, byte for byte (on a terminal, control\n"
            "                characters show as U+FFFD)\n"
            "  --cmd         print only its command lines, ready for | sh or a clipboard\n"
            "                tool: the lines in ``` fences, indented by 4 spaces or a tab,\n"
            "                or after a \"$ \" prompt (dropped); without such markup, the\n"
            "                lines that read as commands. Exit 1 if there are none.\n"
            "\n"
            "Prose wraps at the terminal's width; command lines never do (the terminal\n"
            "soft-wraps them, so a copy is one line), and nothing wraps when piped.\n"
            "\nExamples:\n  tip show 1a2b3c4d\n  tip show --json 1a2b3c4d\n"
            "  tip show --cmd 1a2b3c4d | xclip -selection clipboard\n",
};

static int s_list_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    char tnorm[EVENT_MAX_TOPIC_LEN + 1];
    int n = 20, c, rc = 0;
    const char *author = NULL, *kind = NULL, *topic = NULL;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:t:", s_filter_opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            rc = s_count(cli, self, optarg, 1000, &n);
            break;
        case 't':
            if (!(rc = cli_topic_norm(cli, self, optarg, strlen(optarg), tnorm))) topic = tnorm;
            break;
        case 'a':
            author = optarg;
            break;
        case 'k':
            kind = optarg;
            if (event_kind_from_name(kind) < 0)
                rc = cli_usage(cli, self,
                               "no kind '%s' (tip, question, rating, thanks, "
                               "retract, profile)",
                               kind);
            break;
        default:
            rc = cli_bad_option(cli, self, c, argv);
        }
        if (rc) return rc;
    }
    if (optind < argc) return cli_usage(cli, self, "unexpected argument '%s'", argv[optind]);
    json_t *req = json_pack("{s:s, s:i}", "op", "list", "n", n);
    if (kind) json_object_set_new(req, "kind", json_string(kind));
    if (topic) json_object_set_new(req, "topic", json_string(topic));
    if ((rc = s_req_author(cli, req, author))) {
        json_decref(req);
        return rc;
    }
    json_t *reply;
    if ((rc = cli_call(cli, req, &reply))) return rc;
    json_t *results = json_object_get(reply, "results");
    out_begin(cli, 1);
    if (!cli->json && json_array_size(results) == 0 && (topic || author || kind))
        fprintf(cli->out, "Nothing matches -t/--author/--kind as given.\n");
    else if (!cli->json && json_array_size(results) == 0)
        fprintf(cli->out, "No tips yet. Be the first: tip add\n");
    s_print_results(cli, results);
    json_decref(reply);
    return 0;
}

const cmd_t cmd_list = {
    .name = "list",
    .run = s_list_run,
    .synopsis = "list [-n N] [-t TOPIC] [--author WHO] [--kind KIND]",
    .summary = "list tips, newest first",
    .help = "Options:\n"
            "  -n N             at most N (default 20, up to 1000)\n"
            "  -t, --topic T    only tips with topic T\n"
            "  --author WHO     only by WHO: a name from a profile, a key prefix, or 'me'\n"
            "  --kind KIND      tip (default), question, rating, thanks, retract, profile\n"
            "\nExamples:\n  tip list -n 5\n  tip list -t lesson --json\n",
};
