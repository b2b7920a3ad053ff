/* cmd_stats.c -- tip stats: renders the daemon's `stats` reply: numbers, a
 * sparkline of tips per week, top topics, most-thanked people, stories, and
 * the searches that found nothing; --csv writes the same as
 * section,key,value rows.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cmd.h"
#include "out.h"
#include "cmd_util.h"

/* ---- stats ---- */

static json_int_t s_int(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static const char *s_s(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* ▁▂▃▄▅▆▇█ for the weekly counts, scaled to the busiest week. */
static void s_sparkline(const json_t *weeks, char *out, size_t cap, json_int_t *max)
{
    static const char *const bars[] = {"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
                                       "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
                                       "\xe2\x96\x87", "\xe2\x96\x88"};
    size_t i, k = 0;
    json_t *w;
    *max = 0;
    json_array_foreach(weeks, i, w) if (s_int(w, "tips") > *max) *max = s_int(w, "tips");
    out[0] = 0;
    json_array_foreach(weeks, i, w)
    {
        json_int_t n = s_int(w, "tips");
        int level = *max ? (int)((n * 7 + *max - 1) / *max) : 0;
        if (k + 4 >= cap) break;
        memcpy(out + k, bars[level], 3);
        k += 3;
        out[k] = 0;
    }
}

/* A name for a person in a stats entry: their profile name or a key prefix. */
static void s_person(const json_t *o, const char *name_key, const char *key_key, char *buf,
                     size_t cap)
{
    const char *n = s_s(o, name_key);
    if (*n)
        snprintf(buf, cap, "%s", n);
    else
        snprintf(buf, cap, "key %.8s", s_s(o, key_key));
}

static void s_stories(cli_t *cli, const json_t *stories, int indent)
{
    size_t i;
    json_t *s;
    json_array_foreach(stories, i, s)
    {
        char from[100], to[100], age[64], line[EVENT_MAX_STORY + 600];
        s_person(s, "from_name", "from", from, sizeof from);
        s_person(s, "to_name", "to", to, sizeof to);
        out_reltime(cmd_ms(s), age, sizeof age);
        snprintf(line, sizeof line, "\"%s\" -- %s to %s, on \"%s\", %s", s_s(s, "story"), from, to,
                 s_s(s, "tip_title"), age);
        out_wrap(cli, line, indent);
    }
}

/* Append "N noun" (singular or plural) to buf, after ", " if buf has text. */
static void s_cat(char *buf, size_t cap, json_int_t n, const char *one, const char *many)
{
    size_t k = strlen(buf);
    snprintf(buf + k, cap - k, "%s%lld %s", k ? ", " : "", (long long)n, n == 1 ? one : many);
}

static void s_stats_human(cli_t *cli, const json_t *st, int me_only)
{
    char line[512];
    FILE *f = cli->out;
    const char *b = out_c(cli, OUT_BOLD), *r = out_c(cli, OUT_RESET);
    const json_t *me = json_object_get(st, "me");
    if (me) {
        const json_t *gave = json_object_get(me, "gave"), *got = json_object_get(me, "got");
        fprintf(f, "%sYou%s (%s%skey %.8s)\n", b, r, s_s(me, "name"), *s_s(me, "name") ? ", " : "",
                s_s(me, "author"));
        line[0] = 0;
        s_cat(line, sizeof line, s_int(gave, "tips"), "tip", "tips");
        s_cat(line, sizeof line, s_int(gave, "answers"), "answer", "answers");
        s_cat(line, sizeof line, s_int(gave, "questions"), "question", "questions");
        s_cat(line, sizeof line, s_int(gave, "ratings"), "rating", "ratings");
        s_cat(line, sizeof line, s_int(gave, "thanks"), "thanks", "thanks");
        fprintf(f, "  gave: %s\n", line);
        json_t *avg = json_object_get(got, "rating");
        char rating[64] = "";
        if (json_is_number(avg))
            snprintf(rating, sizeof rating, " (average %.1f/5)", json_number_value(avg));
        line[0] = 0;
        s_cat(line, sizeof line, s_int(got, "thanks"), "thanks", "thanks");
        s_cat(line, sizeof line, s_int(got, "ratings"), "rating", "ratings");
        fprintf(f, "  got:  %s%s", line, rating);
        line[0] = 0;
        s_cat(line, sizeof line, s_int(got, "answers"), "answer", "answers");
        fprintf(f, ", %s to your questions", line);
        if (s_int(got, "open_questions"))
            fprintf(f, " (%lld still open)", (long long)s_int(got, "open_questions"));
        fputc('\n', f);
        if (json_array_size(json_object_get(got, "stories"))) {
            fprintf(f, "  What your tips did for people:\n");
            s_stories(cli, json_object_get(got, "stories"), 4);
        } else if (!s_int(gave, "tips") && !s_int(gave, "answers")) {
            fprintf(f, "  Share something you know: tip add (tag failures 'lesson')\n");
        }
        if (me_only) return;
        fputc('\n', f);
    }
    json_t *avg = json_object_get(st, "rating");
    char rating[64] = "";
    if (json_is_number(avg))
        snprintf(rating, sizeof rating, " (average %.1f/5)", json_number_value(avg));
    fprintf(f, "%sWhat the office is learning%s\n", b, r);
    line[0] = 0;
    s_cat(line, sizeof line, s_int(st, "tips"), "tip", "tips");
    s_cat(line, sizeof line, s_int(st, "questions"), "question", "questions");
    fprintf(f, "  %s (%lld open)", line, (long long)s_int(st, "open_questions"));
    line[0] = 0;
    s_cat(line, sizeof line, s_int(st, "answers"), "answer", "answers");
    s_cat(line, sizeof line, s_int(st, "contributors"), "contributor", "contributors");
    fprintf(f, ", %s", line);
    if (s_int(st, "anonymous_posts"))
        fprintf(f, " (+%lld anonymous)", (long long)s_int(st, "anonymous_posts"));
    line[0] = 0;
    s_cat(line, sizeof line, s_int(st, "thanks"), "thanks", "thanks");
    s_cat(line, sizeof line, s_int(st, "ratings"), "rating", "ratings");
    fprintf(f, "\n  %s%s\n", line, rating);
    const json_t *weeks = json_object_get(st, "weeks");
    char spark[52 * 3 + 4];
    json_int_t max;
    s_sparkline(weeks, spark, sizeof spark, &max);
    size_t nw = json_array_size(weeks);
    fprintf(f, "\n%sNew tips per week%s, last %zu weeks:  %s%s%s  (most %lld; this week %lld)\n", b,
            r, nw, out_c(cli, OUT_GOOD), spark, r, (long long)max,
            nw ? (long long)s_int(json_array_get(weeks, nw - 1), "tips") : 0LL);
    size_t i;
    json_t *o;
    if (json_array_size(json_object_get(st, "top_topics"))) {
        fprintf(f, "\n%sTop topics%s\n  ", b, r);
        json_array_foreach(json_object_get(st, "top_topics"), i, o)
            fprintf(f, "%s%s%s%s %lld", i ? " \xc2\xb7 " : "", out_c(cli, OUT_TOPIC),
                    s_s(o, "topic"), r, (long long)s_int(o, "tips"));
        fputc('\n', f);
    }
    if (json_array_size(json_object_get(st, "top_thanked"))) {
        fprintf(f, "\n%sMost thanked%s\n", b, r);
        json_array_foreach(json_object_get(st, "top_thanked"), i, o)
        {
            char who[200];
            s_person(o, "author_name", "author", who, sizeof who);
            if (*s_s(o, "author_team"))
                snprintf(who + strlen(who), sizeof who - strlen(who), " (%s)",
                         s_s(o, "author_team"));
            line[0] = 0;
            s_cat(line, sizeof line, s_int(o, "thanks"), "thanks", "thanks");
            s_cat(line, sizeof line, s_int(o, "tips"), "tip", "tips");
            fprintf(f, "  %-28s %s\n", who, line);
        }
    }
    if (json_array_size(json_object_get(st, "stories"))) {
        fprintf(f, "\n%sRecent thank-you stories%s\n", b, r);
        s_stories(cli, json_object_get(st, "stories"), 2);
    }
    if (json_array_size(json_object_get(st, "misses"))) {
        fprintf(f, "\n%sWhat people are hungry to learn%s (searches here that found nothing)\n", b,
                r);
        json_array_foreach(json_object_get(st, "misses"), i, o)
        {
            fprintf(f, "  %4lldx  ", (long long)s_int(o, "count"));
            out_text(f, s_s(o, "query"), strlen(s_s(o, "query"))); /* typed by anyone here */
            fputc('\n', f);
        }
    }
    if (s_int(st, "open_questions"))
        fprintf(f, "\nOpen questions wait for you: tip questions --open\n");
}

/* One RFC 4180 field. */
static void s_csv(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void s_row(FILE *f, const char *section, const char *key, const char *value)
{
    s_csv(f, section);
    fputc(',', f);
    s_csv(f, key);
    fputc(',', f);
    s_csv(f, value);
    fputc('\n', f);
}

static void s_row_int(FILE *f, const char *section, const char *key, json_int_t v)
{
    char n[32];
    snprintf(n, sizeof n, "%lld", (long long)v);
    s_row(f, section, key, n);
}

static void s_stats_csv(cli_t *cli, const json_t *st)
{
    FILE *f = cli->out;
    static const char *const totals[] = {"tips",           "questions",    "answers",
                                         "open_questions", "contributors", "anonymous_posts",
                                         "thanks",         "ratings",      "events"};
    size_t i;
    json_t *o;
    fputs("section,key,value\n", f);
    for (i = 0; i < sizeof totals / sizeof totals[0]; i++)
        s_row_int(f, "total", totals[i], s_int(st, totals[i]));
    json_array_foreach(json_object_get(st, "weeks"), i, o)
    {
        char day[11];
        snprintf(day, sizeof day, "%s", s_s(o, "start"));
        s_row_int(f, "week", day, s_int(o, "tips"));
    }
    json_array_foreach(json_object_get(st, "top_topics"), i, o)
        s_row_int(f, "topic", s_s(o, "topic"), s_int(o, "tips"));
    json_array_foreach(json_object_get(st, "top_thanked"), i, o)
    {
        char who[200];
        s_person(o, "author_name", "author", who, sizeof who);
        s_row_int(f, "thanked", who, s_int(o, "thanks"));
    }
    json_array_foreach(json_object_get(st, "stories"), i, o)
        s_row(f, "story", s_s(o, "tip"), s_s(o, "story"));
    json_array_foreach(json_object_get(st, "misses"), i, o)
        s_row_int(f, "miss", s_s(o, "query"), s_int(o, "count"));
    const json_t *me = json_object_get(st, "me");
    if (me) {
        const char *const gave[] = {"tips", "answers", "questions", "ratings", "thanks"};
        const char *const got[] = {"thanks", "ratings", "answers", "open_questions"};
        for (i = 0; i < 5; i++)
            s_row_int(f, "gave", gave[i], s_int(json_object_get(me, "gave"), gave[i]));
        for (i = 0; i < 4; i++)
            s_row_int(f, "got", got[i], s_int(json_object_get(me, "got"), got[i]));
        json_array_foreach(json_object_get(json_object_get(me, "got"), "stories"), i, o)
            s_row(f, "my_story", s_s(o, "tip"), s_s(o, "story"));
    }
}

static int s_stats_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"me", no_argument, 0, 'm'},
        {"csv", no_argument, 0, 'c'},
        {"weeks", required_argument, 0, 'w'},
        {0, 0, 0, 0},
    };
    int c, me = 0, csv = 0, weeks = 12;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == 'm') {
            me = 1;
        } else if (c == 'c') {
            csv = 1;
        } else if (c == 'w') {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > 52)
                return cli_usage(cli, self, "--weeks takes 1 to 52, not '%s'", optarg);
            weeks = (int)v;
        } else {
            return cli_bad_option(cli, self, c, argv);
        }
    }
    if (optind < argc) return cli_usage(cli, self, "unexpected argument '%s'", argv[optind]);
    if (csv && cli->json) return cli_usage(cli, self, "choose --json or --csv, not both");
    json_t *req = json_pack("{s:s, s:i}", "op", "stats", "weeks", weeks);
    if (me) {
        ident_t id;
        char hex[65];
        int rc = cli_identity(cli, &id, NULL, 0);
        if (rc) {
            json_decref(req);
            return rc;
        }
        event_hex(id.pk, EVENT_KEY_LEN, hex);
        ident_wipe(&id);
        json_object_set_new(req, "me", json_string(hex));
    }
    json_t *reply;
    int rc = cli_call(cli, req, &reply);
    if (rc) return rc;
    out_begin(cli, !csv);
    if (cli->json)
        out_json(cli, reply);
    else if (csv)
        s_stats_csv(cli, reply);
    else
        s_stats_human(cli, reply, me);
    json_decref(reply);
    return 0;
}

const cmd_t cmd_stats = {
    .name = "stats",
    .run = s_stats_run,
    .synopsis = "stats [--me] [--weeks N] [--csv]",
    .summary = "what the office learned and who it helped, in numbers and stories",
    .help = "Tips, questions (open ones), answers, contributors, thanks and ratings; new\n"
            "tips per week as a sparkline; top topics; the most thanked people; recent\n"
            "thank-you stories; and searches on this machine that found nothing (counts\n"
            "only, never who searched): what people are hungry to learn.\n"
            "  --me        what you gave (tips, answers, ratings, thanks) and what you got\n"
            "              (thanks, ratings, answers to your questions, stories)\n"
            "  --weeks N   weeks in the per-week series (default 12)\n"
            "  --csv       section,key,value rows for a spreadsheet\n"
            "  --json      the whole report as one object (docs/API.md, op stats)\n"
            "\nExamples:\n  tip stats\n  tip stats --me\n  tip stats --csv > impact.csv\n",
};
