/* cmd_edit.c -- changing what you wrote: tip edit, tip retract.
 *
 * Events are immutable, so an edit is a new version: a tip (or question)
 * with a SUPERSEDES reference to the newest version, keeping its topics and
 * its ANSWERS/RELATED references unless told otherwise; every store then
 * shows only the newest version, and `tip show --history` the older ones.
 * A retraction is a RETRACT event naming the target; the store drops the
 * target's body and keeps its id. Retracting a tip retracts every version of
 * it, since retracting only the newest would bring the previous one back.
 *
 * Only the author may do either. Stores enforce that on their own (others'
 * edits and retractions are kept but have no effect); the CLI checks first so
 * a person trying it learns why nothing happened (exit 5).
 */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "out.h"
#include "cmd_util.h"

/* Refuse (exit 5) unless tip was written by key; verb for the message. */
static int s_author_only(cli_t *cli, const json_t *tip, const ident_t *id, const char *verb)
{
    if (cmd_is_mine(tip, id->pk)) return 0;
    char who[200];
    out_author(tip, who, sizeof who);
    return cli_fail(cli, CLI_EXIT_REFUSED,
                    "only its author can %s %.8s (it was written by %s, not by you); "
                    "thank or rate it, or add your own tip instead",
                    verb, json_string_value(json_object_get(tip, "id")), who);
}

/* ---- edit ---- */

/* Open the editor on cur's title and body. Heap text, or NULL (printed). */
static char *s_editor_text(cli_t *cli, const json_t *cur)
{
    const char *t = json_string_value(json_object_get(cur, "title"));
    const char *b = json_string_value(json_object_get(cur, "body"));
    char *initial = NULL;
    if (asprintf(&initial, "%s\n\n%s%s", t ? t : "", b ? b : "", b && *b ? "\n" : "") < 0) {
        cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
        return NULL;
    }
    char *text =
        cli_edit_text(cli, initial,
                      "# Change the tip above this line: the first line is its title, the\n"
                      "# rest its body. Everything from the line above down is ignored. Leave it\n"
                      "# unchanged (or empty) to cancel.\n",
                      "nothing changed");
    free(initial);
    return text;
}

/* 1 if the edited text gives the same title and body as cur. */
static int s_unchanged(const event_t *ev, const json_t *cur)
{
    const char *t = json_string_value(json_object_get(cur, "title"));
    const char *b = json_string_value(json_object_get(cur, "body"));
    return t && b && !strcmp(ev->title, t) && !strcmp(ev->body, b);
}

static int s_edit_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"topic", required_argument, 0, 't'},
        {"title", required_argument, 0, 'T'},
        {"file", required_argument, 0, 'f'},
        {0, 0, 0, 0},
    };
    event_t *ev = calloc(1, sizeof *ev);
    if (!ev) return cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
    const char *title = NULL, *file = NULL;
    json_t *topics = json_array(), *cur = NULL;
    char *text = NULL;
    int c, rc = 0;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:f:", opts, NULL)) != -1) {
        if (c == 't')
            json_array_append_new(topics, json_string(optarg));
        else if (c == 'T')
            title = optarg;
        else if (c == 'f')
            file = optarg;
        else
            rc = cli_bad_option(cli, self, c, argv);
        if (rc) goto done;
    }
    if (argc - optind < 1) {
        rc = cli_usage(cli, self, "which tip? give its id");
        goto done;
    }
    const char *idarg = argv[optind++];
    if ((rc = cli_text_arg(cli, self, argc, argv, optind, file, &text))) goto done;
    int use_editor = 0;
    if (!text && !title && !json_array_size(topics)) {
        if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
            rc = cli_usage(cli, self, "nothing to change: give new TEXT, -f FILE, --title or -t");
            goto done;
        }
        use_editor = 1; /* on a terminal: edit the current text */
    }
    if ((rc = cmd_get_latest(cli, self, idarg, 0, &cur))) goto done;
    const char *kind = json_string_value(json_object_get(cur, "kind"));
    int k = kind ? event_kind_from_name(kind) : -1;
    if (k != EVENT_TIP && k != EVENT_QUESTION) {
        rc = cli_usage(cli, self, "%.8s is a %s; only tips and questions can be edited", idarg,
                       kind ? kind : "?");
        goto done;
    }
    ident_t id;
    if ((rc = cli_identity(cli, &id, NULL, 0))) goto done;
    if ((rc = s_author_only(cli, cur, &id, "edit"))) goto wipe;
    event_init(ev, (event_kind_t)k);
    if (use_editor && !(text = s_editor_text(cli, cur))) {
        rc = CLI_EXIT_ERROR;
        goto wipe;
    }
    if (use_editor && !text[strspn(text, " \t\n")]) {
        fprintf(stderr, "tip: empty text; nothing changed\n");
        goto wipe;
    }
    /* Text: new text, or the old text with only the title replaced. */
    if (text) {
        rc = cli_fill_text(cli, self, ev, title, text);
    } else {
        const char *t = title ? title : json_string_value(json_object_get(cur, "title"));
        const char *b = json_string_value(json_object_get(cur, "body"));
        if (title && strlen(title) > EVENT_MAX_TITLE)
            rc = cli_usage(cli, self, "--title is %zu bytes; a title has at most %d", strlen(title),
                           EVENT_MAX_TITLE);
        else if (!t || !*t)
            rc = cli_usage(cli, self, "--title is empty");
        else if (event_set_title(ev, t, strlen(t)) ||
                 event_set_body(ev, b ? b : "", b ? strlen(b) : 0))
            rc = cli_fail(cli, CLI_EXIT_ERROR, "the current text does not fit an event");
    }
    if (rc) goto wipe;
    if (use_editor && s_unchanged(ev, cur)) {
        fprintf(stderr, "tip: the text is unchanged; no new version\n");
        goto wipe;
    }
    /* Topics: the new ones if given, else the current ones. */
    size_t i;
    json_t *t;
    json_array_foreach(json_array_size(topics) ? topics : json_object_get(cur, "topics"), i, t)
    {
        if (json_array_size(topics)) {
            if ((rc = cli_add_topics(cli, self, ev, json_string_value(t)))) goto wipe;
        } else {
            event_add_topic(ev, json_string_value(t));
        }
    }
    /* References: supersede the newest version; keep what it answers/relates to. */
    uint8_t ref[EVENT_ID_LEN];
    cmd_hex_field(cur, "id", ref, EVENT_ID_LEN);
    event_add_ref(ev, EVENT_REF_SUPERSEDES, ref);
    json_array_foreach(json_object_get(cur, "refs"), i, t)
    {
        const char *role = json_string_value(json_object_get(t, "role"));
        if (!role || cmd_hex_field(t, "id", ref, EVENT_ID_LEN)) continue;
        if (!strcmp(role, "answers")) event_add_ref(ev, EVENT_REF_ANSWERS, ref);
        if (!strcmp(role, "related")) event_add_ref(ev, EVENT_REF_RELATED, ref);
    }
    /* The newest version is the one with the latest created_at. */
    uint64_t prev = cmd_ms(cur), now = event_now_ms();
    ev->created_at = now > prev ? now : prev + 1;
    char idhex[65];
    if ((rc = cmd_submit(cli, ev, &id, idhex))) goto wipe;
    out_begin(cli, 0);
    if (cli->json) {
        json_t *o = json_pack("{s:s, s:s, s:O}", "id", idhex, "status", "new", "supersedes",
                              json_object_get(cur, "id"));
        out_json(cli, o);
        json_decref(o);
    } else {
        fprintf(cli->out, "%s%.8s%s\n", out_c(cli, OUT_ID), idhex, out_c(cli, OUT_RESET));
        fprintf(cli->out,
                "Edited: %.8s replaces %.8s everywhere. Earlier versions: tip show --history "
                "%.8s\n",
                idhex, json_string_value(json_object_get(cur, "id")), idhex);
    }
wipe:
    ident_wipe(&id);
done:
    json_decref(cur);
    json_decref(topics);
    free(text);
    free(ev);
    return rc;
}

const cmd_t cmd_edit = {
    .name = "edit",
    .run = s_edit_run,
    .synopsis = "edit [-t TOPIC]... [--title TITLE] ID [TEXT... | -f FILE | -]",
    .summary = "change a tip or question you wrote (a new version replaces it)",
    .help = "Only the author can edit (exit 5 otherwise). With no TEXT on a terminal,\n"
            "$EDITOR opens on the current text. The new version keeps the topics (unless\n"
            "-t is given) and what it answers; ratings and thanks stay with each version.\n"
            "Giving only --title or -t keeps the text. Search and lists show the newest\n"
            "version; tip show --history ID lists the earlier ones.\n"
            "\nExamples:\n  tip edit 1a2b3c4d 'Undo a commit: git reset --soft HEAD~1'\n"
            "  tip edit -t git,undo 1a2b\n"
            "  tip edit 1a2b            # opens your editor\n",
};

/* ---- retract ---- */

static int s_retract_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    static const struct option opts[] = {{"yes", no_argument, 0, 'y'}, {0, 0, 0, 0}};
    int c, yes = 0;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":y", opts, NULL)) != -1) {
        if (c == 'y')
            yes = 1;
        else
            return cli_bad_option(cli, self, c, argv);
    }
    if (argc - optind != 1) return cli_usage(cli, self, "give one id");
    json_t *cur = NULL;
    int rc = cmd_get_latest(cli, self, argv[optind], 1, &cur);
    if (rc) return rc;
    ident_t id;
    json_t *done_ids = json_array(), *events = json_array();
    if ((rc = cli_identity(cli, &id, NULL, 0))) goto out;
    if ((rc = s_author_only(cli, cur, &id, "retract"))) goto wipe;
    size_t nhist = json_array_size(json_object_get(cur, "history"));
    if (!yes && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
        char q[400];
        snprintf(q, sizeof q, "Retract \"%s\"%s from every node? This cannot be undone.",
                 json_string_value(json_object_get(cur, "title")) ?: "this event",
                 nhist ? " and its earlier versions" : "");
        if (!cmd_confirm(q)) {
            fprintf(stderr, "tip: nothing retracted\n");
            goto wipe;
        }
    }
    /* Newest version first, then the earlier ones it replaced. */
    for (size_t i = 0; i <= nhist; i++) {
        const json_t *v = i == 0 ? cur : json_array_get(json_object_get(cur, "history"), i - 1);
        uint8_t target[EVENT_ID_LEN];
        if (cmd_hex_field(v, "id", target, EVENT_ID_LEN)) continue;
        event_t ev;
        event_init(&ev, EVENT_RETRACT);
        event_add_ref(&ev, EVENT_REF_TARGET, target);
        ev.created_at = event_now_ms();
        char idhex[65];
        if ((rc = cmd_submit(cli, &ev, &id, idhex))) goto wipe;
        json_array_append(done_ids, json_object_get(v, "id"));
        json_array_append_new(events, json_string(idhex));
    }
    out_begin(cli, 0);
    if (cli->json) {
        json_t *o = json_pack("{s:O, s:O}", "retracted", done_ids, "events", events);
        out_json(cli, o);
        json_decref(o);
    } else {
        fprintf(cli->out,
                "Retracted %.8s%s. Its text is dropped from every node; the id stays known so "
                "it is never fetched again.\n",
                json_string_value(json_object_get(cur, "id")),
                nhist ? " and its earlier versions" : "");
    }
wipe:
    ident_wipe(&id);
out:
    json_decref(done_ids);
    json_decref(events);
    json_decref(cur);
    return rc;
}

const cmd_t cmd_retract = {
    .name = "retract",
    .run = s_retract_run,
    .synopsis = "retract [--yes] ID",
    .summary = "withdraw something you wrote, from every node",
    .help = "Only the author can retract (exit 5 otherwise; every store ignores others'\n"
            "retractions anyway). A retracted tip leaves search, lists and stats; its text\n"
            "is dropped, its id kept. All versions of an edited tip are retracted. On a\n"
            "terminal tip asks first (--yes skips). Works on your ratings and thanks too.\n"
            "\nExamples:\n  tip retract 1a2b3c4d\n",
};
