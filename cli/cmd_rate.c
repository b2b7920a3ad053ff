/* cmd_rate.c -- recognition: tip rate, tip thanks.
 *
 * Each is a signed event built here with the user's own key: a rating (score
 * 1-5) or a thanks (optional story) with a TARGET reference. The store
 * derives what they mean (latest rating per rater wins, thanks add up);
 * these commands only check what a person would want checked first -- the
 * target exists, is the newest version, is not your own -- and then show the
 * effect (the new average, the count).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_util.h"
#include "out.h"

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
    int rc = cmd_get_latest(cli, self, idarg, 0, tip);
    if (rc) return rc;
    if ((rc = s_need_content(cli, self, *tip))) return rc;
    if ((rc = cli_identity(cli, id, NULL, 0))) return rc;
    if (cmd_is_mine(*tip, id->pk)) {
        rc = cli_fail(cli, CLI_EXIT_REFUSED, refusal,
                      json_string_value(json_object_get(*tip, "kind")));
        goto wipe;
    }
    if (!(*ev = calloc(1, sizeof **ev))) {
        rc = cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
        goto wipe;
    }
    cmd_hex_field(*tip, "id", target, EVENT_ID_LEN);
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
    if ((rc = cmd_submit(cli, ev, &id, idhex))) goto wipe;
    json_t *after = NULL;
    char tid[65];
    event_hex(target, EVENT_ID_LEN, tid);
    if ((rc = cmd_get(cli, self, tid, 0, &after))) goto wipe;
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
    if ((rc = cmd_submit(cli, ev, &id, idhex))) goto wipe;
    event_hex(target, EVENT_ID_LEN, tid);
    json_t *after = NULL;
    if ((rc = cmd_get(cli, self, tid, 0, &after))) goto wipe;
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
