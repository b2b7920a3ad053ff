/* cmd_social.c -- recognition and questions: tip rate, thanks, ask, answer,
 * questions; plus the helpers every social command shares (social.h).
 *
 * Each command is a signed event built here with the user's own key: a
 * rating (score 1-5) or a thanks (optional story) with a TARGET reference,
 * a question, or an answer (a tip with an ANSWERS reference). The store
 * derives what they mean (latest rating per rater wins, thanks add up,
 * answers count on their question); these commands only check what a person
 * would want checked first -- the target exists, is the newest version, is
 * not your own -- and then show the effect (the new average, the count).
 * `ask` searches before posting so people find an existing answer instead
 * of asking twice.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "out.h"
#include "social.h"

/* ---- shared helpers (social.h) ---- */

int social_get(cli_t *cli, const cmd_t *cmd, const char *idarg, int history, json_t **ev)
{
    char prefix[65];
    *ev = NULL;
    if (cli_id_arg(cli, cmd, idarg, prefix)) return CLI_EXIT_USAGE;
    json_t *req = json_pack("{s:s, s:s, s:b}", "op", "get", "id", prefix, "history", history);
    json_t *reply;
    int rc = cli_call(cli, req, &reply);
    if (rc) return rc;
    *ev = json_incref(json_object_get(reply, "event"));
    json_decref(reply);
    return *ev ? 0 : cli_fail(cli, CLI_EXIT_ERROR, "tipd sent no event");
}

int social_get_latest(cli_t *cli, const cmd_t *cmd, const char *idarg, int history, json_t **ev)
{
    int rc = social_get(cli, cmd, idarg, history, ev);
    if (rc) return rc;
    const char *latest = json_string_value(json_object_get(*ev, "latest"));
    if (!json_is_true(json_object_get(*ev, "superseded")) || !latest) return 0;
    char want[65];
    snprintf(want, sizeof want, "%s", latest);
    json_decref(*ev);
    fprintf(stderr, "tip: %.8s was edited; using its newest version %.8s\n", idarg, want);
    return social_get(cli, cmd, want, history, ev);
}

int social_submit(cli_t *cli, event_t *ev, const ident_t *id, char idhex[65])
{
    int rc = event_sign(ev, id->sk);
    if (rc) return cli_fail(cli, CLI_EXIT_ERROR, "cannot sign: %s", event_strerror(rc));
    return cli_submit_event(cli, ev, idhex, NULL);
}

int social_confirm(const char *question)
{
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    char line[64];
    if (!fgets(line, sizeof line, stdin)) return 0;
    return line[0] == 'y' || line[0] == 'Y';
}

int social_hex_field(const json_t *o, const char *key, uint8_t *out, size_t n)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s || strlen(s) != 2 * n) return -1;
    return event_unhex(s, out, n) == 0 ? 0 : -1;
}

uint64_t social_ms(const json_t *o)
{
    json_int_t v = json_integer_value(json_object_get(o, "created_at_ms"));
    return v > 0 ? (uint64_t)v : 0;
}

void social_local_date(char out[16])
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

/* ---- common checks ---- */

int social_is_mine(const json_t *tip, const uint8_t key[EVENT_KEY_LEN])
{
    uint8_t a[EVENT_KEY_LEN];
    return social_hex_field(tip, "author", a, EVENT_KEY_LEN) == 0 &&
           memcmp(a, key, EVENT_KEY_LEN) == 0;
}

/* The target must be a tip or a question (ratings and thanks are on content). */
static int s_need_content(cli_t *cli, const cmd_t *cmd, const json_t *tip)
{
    const char *k = json_string_value(json_object_get(tip, "kind"));
    if (k && (!strcmp(k, "tip") || !strcmp(k, "question"))) return 0;
    return cli_usage(cli, cmd, "%.8s is a %s; only tips and questions can be rated or thanked",
                     json_string_value(json_object_get(tip, "id")), k ? k : "?");
}

/* Newest created_at the user's new event must beat: now, or just after t. */
static uint64_t s_after(uint64_t t)
{
    uint64_t now = event_now_ms();
    return now > t ? now : t + 1;
}

/* The common start of rate and thanks: the newest version of the tip idarg
 * names (*tip), which must be content the user did not write (refused with
 * refusal, whose %s is its kind); the user's identity (*id) and a new event
 * of kind with a TARGET reference to the tip (*ev), target its id. 0, or an
 * exit code (printed) with *id already wiped; *tip and *ev are the caller's
 * to release either way. */
static int s_target_begin(cli_t *cli, const cmd_t *self, const char *idarg, event_kind_t kind,
                          const char *refusal, json_t **tip, ident_t *id, event_t **ev,
                          uint8_t target[EVENT_ID_LEN])
{
    int rc = social_get_latest(cli, self, idarg, 0, tip);
    if (rc) return rc;
    if ((rc = s_need_content(cli, self, *tip))) return rc;
    if ((rc = cli_identity(cli, id, NULL, 0))) return rc;
    if (social_is_mine(*tip, id->pk)) {
        rc = cli_fail(cli, CLI_EXIT_REFUSED, refusal,
                      json_string_value(json_object_get(*tip, "kind")));
        goto wipe;
    }
    if (!(*ev = calloc(1, sizeof **ev))) {
        rc = cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
        goto wipe;
    }
    social_hex_field(*tip, "id", target, EVENT_ID_LEN);
    event_init(*ev, kind);
    event_add_ref(*ev, EVENT_REF_TARGET, target);
    return 0;
wipe:
    ident_wipe(id);
    return rc;
}

/* ---- rate ---- */

/* created_at_ms of my counted rating in a `get` reply's ratings_list, or 0. */
static uint64_t s_my_rating_ms(const json_t *tip, const char *mehex)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(tip, "ratings_list"), i, r)
    {
        const char *a = json_string_value(json_object_get(r, "author"));
        if (!a || strcmp(a, mehex)) continue;
        const char *t = json_string_value(json_object_get(r, "created_at"));
        struct tm tm;
        int ms = 0;
        memset(&tm, 0, sizeof tm);
        if (!t || sscanf(t, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                         &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
            return event_now_ms();
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        return (uint64_t)timegm(&tm) * 1000 + (uint64_t)ms;
    }
    return 0;
}

static int s_rate_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", (const struct option[]){{0, 0, 0, 0}}, NULL)) != -1)
        return cli_bad_option(cli, self, c, argv);
    if (argc - optind != 2) return cli_usage(cli, self, "give an id and a score from 1 to 5");
    const char *s = argv[optind + 1];
    if (strlen(s) != 1 || s[0] < '1' || s[0] > '5')
        return cli_usage(cli, self, "the score is a whole number from 1 to 5, not '%s'", s);
    int score = s[0] - '0';
    json_t *tip = NULL;
    ident_t id;
    char mehex[65], idhex[65];
    event_t *ev = NULL;
    uint8_t target[EVENT_ID_LEN];
    int rc =
        s_target_begin(cli, self, argv[optind], EVENT_RATING,
                       "that is your own %s; ratings are for others' work", &tip, &id, &ev, target);
    if (rc) goto done;
    event_hex(id.pk, EVENT_KEY_LEN, mehex);
    ev->value = (uint8_t)score;
    /* Latest wins by created_at: a re-rating must be stamped after the last. */
    ev->created_at = s_after(s_my_rating_ms(tip, mehex));
    if ((rc = social_submit(cli, ev, &id, idhex))) goto wipe;
    json_t *after = NULL;
    char tid[65];
    event_hex(target, EVENT_ID_LEN, tid);
    if ((rc = social_get(cli, self, tid, 0, &after))) goto wipe;
    out_begin(cli, 0);
    if (cli->json) {
        json_t *o = json_pack("{s:s, s:s, s:i, s:O, s:O}", "id", idhex, "target", tid, "score",
                              score, "rating", json_object_get(after, "rating"), "ratings",
                              json_object_get(after, "ratings"));
        out_json(cli, o);
        json_decref(o);
    } else {
        char r[160];
        out_rating(after, r, sizeof r);
        fprintf(cli->out, "You rated \"%s\" %d/5. It is now %s.\n",
                json_string_value(json_object_get(after, "title")), score, r);
    }
    json_decref(after);
wipe:
    ident_wipe(&id);
done:
    free(ev);
    json_decref(tip);
    return rc;
}

const cmd_t cmd_rate = {
    .name = "rate",
    .run = s_rate_run,
    .synopsis = "rate ID SCORE",
    .summary = "rate a tip or question from 1 (not useful) to 5 (very useful)",
    .help = "One rating per person per tip counts: rating again replaces your earlier\n"
            "score. Ratings raise good tips in search and in tip today. You cannot rate\n"
            "your own tips. An edited tip's old id rates its newest version.\n"
            "With --json: {\"id\", \"target\", \"score\", \"rating\", \"ratings\"}.\n"
            "\nExamples:\n  tip rate 1a2b3c4d 5\n  tip rate --json 1a2b 3\n",
};

/* ---- thanks ---- */

static int s_thanks_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", (const struct option[]){{0, 0, 0, 0}}, NULL)) != -1)
        return cli_bad_option(cli, self, c, argv);
    if (argc - optind < 1) return cli_usage(cli, self, "which tip? give its id");
    char *story = cli_join_args(argc, argv, optind + 1);
    if (!story) return cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
    if (strlen(story) > EVENT_MAX_STORY) {
        int rc = cli_usage(cli, self, "the story is %zu bytes; keep it to %d", strlen(story),
                           EVENT_MAX_STORY);
        free(story);
        return rc;
    }
    json_t *tip = NULL;
    event_t *ev = NULL;
    ident_t id;
    uint8_t target[EVENT_ID_LEN];
    int rc = s_target_begin(cli, self, argv[optind], EVENT_THANKS,
                            "that is your own %s; thank the people who helped you", &tip, &id, &ev,
                            target);
    if (rc) goto done;
    if ((rc = event_set_body(ev, story, strlen(story)))) {
        rc = cli_usage(cli, self, "story: %s", event_strerror(rc));
        goto wipe;
    }
    ev->created_at = event_now_ms();
    char idhex[65], tid[65];
    if ((rc = social_submit(cli, ev, &id, idhex))) goto wipe;
    event_hex(target, EVENT_ID_LEN, tid);
    json_t *after = NULL;
    if ((rc = social_get(cli, self, tid, 0, &after))) goto wipe;
    out_begin(cli, 0);
    if (cli->json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:O}", "id", idhex, "target", tid, "story", story,
                              "thanks", json_object_get(after, "thanks"));
        out_json(cli, o);
        json_decref(o);
    } else {
        char who[200];
        out_author(after, who, sizeof who);
        json_int_t n = json_integer_value(json_object_get(after, "thanks"));
        fprintf(cli->out, "Thanks sent to %s for \"%s\" (thanked %lld time%s now).\n", who,
                json_string_value(json_object_get(after, "title")), (long long)n,
                n == 1 ? "" : "s");
        if (*story)
            fprintf(cli->out, "Your story shows in tip show %.8s and in tip stats.\n", tid);
        else
            fprintf(cli->out, "Next time add a line on how it helped: stories show the impact.\n");
    }
    json_decref(after);
wipe:
    ident_wipe(&id);
done:
    free(ev);
    free(story);
    json_decref(tip);
    return rc;
}

const cmd_t cmd_thanks = {
    .name = "thanks",
    .run = s_thanks_run,
    .synopsis = "thanks ID [STORY...]",
    .summary = "thank the author of a tip, with a short story of how it helped",
    .help = "STORY (up to 1024 bytes) is shown with the tip (tip show) and in tip stats:\n"
            "\"saved me an hour on the VPN\" is how impact gets seen. Thanks add up; you\n"
            "cannot thank yourself. With --json: {\"id\", \"target\", \"story\", \"thanks\"}.\n"
            "\nExamples:\n  tip thanks 1a2b3c4d 'saved me an hour on the printer queue'\n"
            "  tip thanks 1a2b\n",
};

/* ---- ask ---- */

static int s_ask_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"topic", required_argument, 0, 't'},
        {"title", required_argument, 0, 'T'},
        {"yes", no_argument, 0, 'y'},
        {0, 0, 0, 0},
    };
    event_t *ev = calloc(1, sizeof *ev);
    if (!ev) return cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
    event_init(ev, EVENT_QUESTION);
    const char *title = NULL;
    int yes = 0, c, rc = 0;
    char *text = NULL;
    json_t *similar = NULL;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:y", opts, NULL)) != -1) {
        if (c == 't')
            rc = cli_add_topics(cli, self, ev, optarg);
        else if (c == 'T')
            title = optarg;
        else if (c == 'y')
            yes = 1;
        else
            rc = cli_bad_option(cli, self, c, argv);
        if (rc) goto done;
    }
    if (optind >= argc && !title) {
        rc = cli_usage(cli, self, "what is your question?");
        goto done;
    }
    if (!(text = cli_join_args(argc, argv, optind))) {
        rc = cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
        goto done;
    }
    if ((rc = cli_fill_text(cli, self, ev, title, text))) goto done;
    /* Look first: the answer may already be there. The title is the question
     * (and always within the API's query bound, unlike a long text). */
    json_t *reply;
    rc =
        cli_call(cli, json_pack("{s:s, s:s, s:i}", "op", "search", "q", ev->title, "n", 5), &reply);
    if (rc) goto done;
    similar = json_incref(json_object_get(reply, "results"));
    json_decref(reply);
    int tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (json_array_size(similar) && !cli->json) {
        fprintf(stdout, "%sThese look like the same thing:%s\n\n", out_c(cli, OUT_BOLD),
                out_c(cli, OUT_RESET));
        cli->out = stdout;
        size_t i;
        json_t *t;
        json_array_foreach(similar, i, t)
        {
            if (i) fputc('\n', stdout);
            out_tip_brief(cli, t);
        }
        fputc('\n', stdout);
        fflush(stdout);
        if (tty && !yes && !social_confirm("Post your question anyway?")) {
            fprintf(stdout, "Not posted. See one with: tip show ID\n");
            goto done;
        }
    } else if (json_array_size(similar) && cli->json && tty && !yes) {
        /* JSON on a terminal: still ask, but keep stdout machine-readable. */
        if (!social_confirm("Similar tips exist; post your question anyway?")) {
            json_t *o =
                json_pack("{s:n, s:s, s:O}", "id", "status", "not_posted", "similar", similar);
            out_json(cli, o);
            json_decref(o);
            goto done;
        }
    }
    ident_t id;
    if ((rc = cli_identity(cli, &id, NULL, 0))) goto done;
    ev->created_at = event_now_ms();
    char idhex[65];
    rc = social_submit(cli, ev, &id, idhex);
    ident_wipe(&id);
    if (rc) goto done;
    out_begin(cli, 0);
    if (cli->json) {
        json_t *o = json_pack("{s:s, s:s, s:O}", "id", idhex, "status", "new", "similar", similar);
        out_json(cli, o);
        json_decref(o);
    } else {
        fprintf(cli->out, "%s%.8s%s\n", out_c(cli, OUT_ID), idhex, out_c(cli, OUT_RESET));
        fprintf(cli->out,
                "Asked. Anyone can answer with: tip answer %.8s TEXT; see answers with "
                "tip show %.8s\n",
                idhex, idhex);
    }
done:
    json_decref(similar);
    free(text);
    free(ev);
    return rc;
}

const cmd_t cmd_ask = {
    .name = "ask",
    .run = s_ask_run,
    .synopsis = "ask [-t TOPIC]... [--title TITLE] [--yes] TEXT...",
    .summary = "ask the office a question (shows similar tips first)",
    .help = "Before posting, tip searches for tips and questions that look like the same\n"
            "thing and shows them; on a terminal it asks \"Post anyway?\" (--yes skips the\n"
            "question; without a terminal it posts). Open questions show in tip questions\n"
            "and in tip stats: they tell everyone what people need to learn.\n"
            "  -t, --topic TOPIC   tag it (repeat, or comma-separate)\n"
            "  --title TITLE       the question; then TEXT is its details\n"
            "  -y, --yes           post without asking\n"
            "With --json: {\"id\", \"status\": \"new\"|\"not_posted\", \"similar\": [tips]}.\n"
            "\nExamples:\n  tip ask -t vpn 'How do I reach the VPN from Linux?'\n",
};

/* ---- answer ---- */

static int s_answer_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"topic", required_argument, 0, 't'},
        {"title", required_argument, 0, 'T'},
        {"file", required_argument, 0, 'f'},
        {0, 0, 0, 0},
    };
    event_t *ev = calloc(1, sizeof *ev);
    if (!ev) return cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
    event_init(ev, EVENT_TIP);
    const char *title = NULL, *file = NULL;
    int c, rc = 0, topics = 0;
    char *text = NULL;
    json_t *q = NULL;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:f:", opts, NULL)) != -1) {
        if (c == 't')
            rc = cli_add_topics(cli, self, ev, optarg), topics = 1;
        else if (c == 'T')
            title = optarg;
        else if (c == 'f')
            file = optarg;
        else
            rc = cli_bad_option(cli, self, c, argv);
        if (rc) goto done;
    }
    if (argc - optind < 1) {
        rc = cli_usage(cli, self, "which question? give its id");
        goto done;
    }
    const char *qid = argv[optind++];
    if ((rc = cli_text_arg(cli, self, argc, argv, optind, file, &text))) goto done;
    if (!text) {
        rc = cli_usage(cli, self, "what is your answer? give TEXT, -f FILE or -");
        goto done;
    }
    if ((rc = cli_fill_text(cli, self, ev, title, text))) goto done;
    if ((rc = social_get_latest(cli, self, qid, 0, &q))) goto done;
    const char *kind = json_string_value(json_object_get(q, "kind"));
    if (!kind || strcmp(kind, "question")) {
        rc = cli_usage(cli, self, "%.8s is a %s, not a question (tip ask makes questions)", qid,
                       kind ? kind : "?");
        goto done;
    }
    uint8_t qbin[EVENT_ID_LEN];
    social_hex_field(q, "id", qbin, EVENT_ID_LEN);
    event_add_ref(ev, EVENT_REF_ANSWERS, qbin);
    if (!topics) { /* an answer is found under its question's topics */
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(q, "topics"), i, t)
            event_add_topic(ev, json_string_value(t));
    }
    ident_t id;
    if ((rc = cli_identity(cli, &id, NULL, 0))) goto done;
    ev->created_at = event_now_ms();
    char idhex[65];
    rc = social_submit(cli, ev, &id, idhex);
    ident_wipe(&id);
    if (rc) goto done;
    out_begin(cli, 0);
    if (cli->json) {
        json_t *o = json_pack("{s:s, s:s, s:O}", "id", idhex, "status", "new", "question",
                              json_object_get(q, "id"));
        out_json(cli, o);
        json_decref(o);
    } else {
        fprintf(cli->out, "%s%.8s%s\n", out_c(cli, OUT_ID), idhex, out_c(cli, OUT_RESET));
        fprintf(cli->out, "Thanks for answering \"%s\"; it shows under tip show %.8s\n",
                json_string_value(json_object_get(q, "title")),
                json_string_value(json_object_get(q, "id")));
    }
done:
    json_decref(q);
    free(text);
    free(ev);
    return rc;
}

const cmd_t cmd_answer = {
    .name = "answer",
    .run = s_answer_run,
    .synopsis = "answer [-t TOPIC]... [--title TITLE] QID [TEXT... | -f FILE | -]",
    .summary = "answer a question (an answer is a tip that names the question)",
    .help = "The first line is the answer's title (or give --title). The answer takes the\n"
            "question's topics unless -t is given. Answers show under the question, best\n"
            "rated first (tip show QID), and are found by tip search like any tip.\n"
            "  -t, --topic TOPIC   tag it (repeat, or comma-separate)\n"
            "  --title TITLE       the answer's title; then all the text is the body\n"
            "  -f, --file FILE     read the text from FILE (- for stdin)\n"
            "\nExamples:\n  tip answer 9f8e7d6c 'Use openconnect: sudo apt install openconnect'\n",
};

/* ---- questions ---- */

static int s_questions_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    static const struct option opts[] = {{"open", no_argument, 0, 'o'}, {0, 0, 0, 0}};
    int c, open_only = 0, n = 50;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:", opts, NULL)) != -1) {
        if (c == 'o') {
            open_only = 1;
        } else if (c == 'n') {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > 1000)
                return cli_usage(cli, self, "-n takes a number from 1 to 1000, not '%s'", optarg);
            n = (int)v;
        } else {
            return cli_bad_option(cli, self, c, argv);
        }
    }
    if (optind < argc) return cli_usage(cli, self, "unexpected argument '%s'", argv[optind]);
    json_t *reply;
    int rc = cli_call(
        cli, json_pack("{s:s, s:b, s:i}", "op", "questions", "open", open_only, "n", n), &reply);
    if (rc) return rc;
    json_t *res = json_object_get(reply, "results");
    out_begin(cli, 1);
    size_t i;
    json_t *t;
    if (!cli->json && !json_array_size(res))
        fprintf(cli->out, "%s\n",
                open_only ? "No open questions: every question has an answer."
                          : "No questions yet. Ask one: tip ask TEXT");
    json_array_foreach(res, i, t)
    {
        if (cli->json) {
            out_json(cli, t);
            continue;
        }
        if (i) fputc('\n', cli->out);
        out_tip_brief(cli, t);
        json_int_t a = json_integer_value(json_object_get(t, "answers"));
        char sid[65];
        out_short_id(t, sid);
        if (a)
            fprintf(cli->out, "%*s%s%lld answer%s: tip show %s%s\n", (int)strlen(sid) + 2, "",
                    out_c(cli, OUT_GOOD), (long long)a, a == 1 ? "" : "s", sid,
                    out_c(cli, OUT_RESET));
        else
            fprintf(cli->out, "%*s%sunanswered: tip answer %s TEXT%s\n", (int)strlen(sid) + 2, "",
                    out_c(cli, OUT_WARN), sid, out_c(cli, OUT_RESET));
    }
    json_decref(reply);
    return 0;
}

const cmd_t cmd_questions = {
    .name = "questions",
    .run = s_questions_run,
    .synopsis = "questions [--open] [-n N]",
    .summary = "what colleagues asked: unanswered first, then oldest first",
    .help = "  --open     only questions nobody has answered yet\n"
            "  -n N       at most N (default 50, up to 1000)\n"
            "With --json, one question object per line with \"answers\" (count, over every\n"
            "version of an edited question) and \"asked_at\".\n"
            "\nExamples:\n  tip questions --open\n  tip questions --json\n",
};
