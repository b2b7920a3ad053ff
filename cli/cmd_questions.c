/* cmd_questions.c -- questions: tip ask, answer, questions.
 *
 * A question is its own event kind; an answer is a tip with an ANSWERS
 * reference, which the store counts on its question. `ask` searches before
 * posting so people find an existing answer instead of asking twice.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_util.h"
#include "out.h"

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
        if (tty && !yes && !cmd_confirm("Post your question anyway?")) {
            fprintf(stdout, "Not posted. See one with: tip show ID\n");
            goto done;
        }
    } else if (json_array_size(similar) && cli->json && tty && !yes) {
        /* JSON on a terminal: still ask, but keep stdout machine-readable. */
        if (!cmd_confirm("Similar tips exist; post your question anyway?")) {
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
    rc = cmd_submit(cli, ev, &id, idhex);
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
    if ((rc = cmd_get_latest(cli, self, qid, 0, &q))) goto done;
    const char *kind = json_string_value(json_object_get(q, "kind"));
    if (!kind || strcmp(kind, "question")) {
        rc = cli_usage(cli, self, "%.8s is a %s, not a question (tip ask makes questions)", qid,
                       kind ? kind : "?");
        goto done;
    }
    uint8_t qbin[EVENT_ID_LEN];
    cmd_hex_field(q, "id", qbin, EVENT_ID_LEN);
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
    rc = cmd_submit(cli, ev, &id, idhex);
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
