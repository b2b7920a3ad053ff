/* cmd_social_stats.c -- seeing what the office learns: tip today, tip stats,
 * and the small local "seen" record that keeps tip of the day fresh.
 *
 * `today` is meant for login shells (systemd/profile.d/tip-today.sh), so it
 * must never get in the way: it loads the identity without creating one,
 * gives tipd half a second to accept the connection and three seconds to
 * answer, and on any failure -- daemon down, no tips, no home -- prints
 * nothing and exits 0. The daemon picks the tip (api_social.c: a weighted
 * rendezvous hash of user key, local date and tip id), and the CLI pins the
 * pick in $TIP_HOME/today so it stays the same all day even after `show`
 * marks it seen.
 *
 * `stats` renders the daemon's `stats` reply: numbers, a sparkline of tips
 * per week, top topics, most-thanked people, stories, and the searches that
 * found nothing; --csv writes the same as section,key,value rows.
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
#include "social.h"

#define S_TODAY_CONNECT_MS 500
#define S_TODAY_REPLY_MS   3000
#define S_TODAY_BODY_LINES 6

/* ---- the seen file ---- */

/* $TIP_HOME/name into out; -1 if there is no home. */
static int s_home_file(const char *name, char *out, size_t cap)
{
    char dir[PATH_MAX], err[256];
    if (ident_home(dir, sizeof dir, err, sizeof err) != 0) return -1;
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Ids in the seen file. Each line is "<id> <date> <how>", how = "show" or
 * "today" (older two-field lines count as "show"). With today set, the tip
 * that `tip today` itself showed today is left out, so the day's pick stays
 * a candidate and the pick stays the same all day. Returns a JSON array. */
static json_t *s_seen_load(const char *today, size_t *lines)
{
    json_t *ids = json_array();
    char path[PATH_MAX], line[256];
    *lines = 0;
    if (s_home_file(SOCIAL_SEEN_FILE, path, sizeof path)) return ids;
    FILE *f = fopen(path, "r");
    if (!f) return ids;
    while (fgets(line, sizeof line, f)) {
        char id[65], date[16], how[16] = "show";
        if (sscanf(line, "%64s %15s %15s", id, date, how) < 2 || strlen(id) != 64) continue;
        uint8_t bin[EVENT_ID_LEN];
        if (event_unhex(id, bin, EVENT_ID_LEN)) continue;
        (*lines)++;
        if (today && !strcmp(date, today) && !strcmp(how, "today")) continue;
        json_array_append_new(ids, json_string(id));
    }
    fclose(f);
    return ids;
}

/* Append idhex to the seen file (once), noting how it was seen. */
static void s_seen_add(const char *idhex, const char *how)
{
    uint8_t bin[EVENT_ID_LEN];
    char path[PATH_MAX], date[16];
    if (!idhex || strlen(idhex) != 64 || event_unhex(idhex, bin, EVENT_ID_LEN)) return;
    if (s_home_file(SOCIAL_SEEN_FILE, path, sizeof path)) return;
    size_t lines;
    json_t *all = s_seen_load(NULL, &lines);
    size_t i;
    json_t *v;
    json_array_foreach(all, i, v) if (!strcmp(json_string_value(v), idhex))
    {
        json_decref(all);
        return;
    }
    social_local_date(date);
    char *slash = strrchr(path, '/');
    *slash = 0;
    mkdir(path, 0700); /* TIP_HOME may not exist yet: same mode as ident's */
    *slash = '/';
    if (lines + 1 > SOCIAL_SEEN_KEEP) {
        /* Rewrite with the newest half only; their dates are dropped (they
         * count as seen before today), which is all `today` needs. */
        char tmp[PATH_MAX + 8];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        if (f) {
            size_t n = json_array_size(all);
            size_t from = n > SOCIAL_SEEN_KEEP / 2 ? n - SOCIAL_SEEN_KEEP / 2 : 0;
            for (i = from; i < n; i++)
                fprintf(f, "%s 0000-00-00 show\n", json_string_value(json_array_get(all, i)));
            fprintf(f, "%s %s %s\n", idhex, date, how);
            if (fclose(f) == 0) rename(tmp, path);
        }
    } else {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
            char line[128];
            int n = snprintf(line, sizeof line, "%s %s %s\n", idhex, date, how);
            /* Best effort: a lost line only means a tip may come round again. */
            if (write(fd, line, (size_t)n) != n) n = 0;
            close(fd);
        }
    }
    json_decref(all);
}

void social_seen_add(const char *idhex)
{
    s_seen_add(idhex, "show");
}

/* ---- today ---- */

/* The user key as hex: the identity's if there is one (never created here),
 * else a stand-in derived from the uid so the pick is still per person. */
static void s_today_user(char hex[65])
{
    char path[PATH_MAX], err[256];
    ident_t id;
    if (s_home_file(IDENT_FILE, path, sizeof path) == 0 &&
        ident_load(path, &id, err, sizeof err) == 0) {
        event_hex(id.pk, EVENT_KEY_LEN, hex);
        ident_wipe(&id);
        return;
    }
    char who[64];
    uint8_t h[32];
    int n = snprintf(who, sizeof who, "tip-today-uid:%u", (unsigned)getuid());
    crypto_generichash(h, sizeof h, (const uint8_t *)who, (size_t)n, NULL, 0);
    event_hex(h, sizeof h, hex);
}

/* One request with the short `today` timeout: reply or NULL. */
static json_t *s_quiet_call(cli_t *cli, json_t *req)
{
    json_t *reply = NULL;
    char err[256];
    int rc = client_call(cli->client, req, &reply, S_TODAY_REPLY_MS, err, sizeof err);
    json_decref(req);
    if (rc || !json_is_true(json_object_get(reply, "ok"))) {
        json_decref(reply);
        return NULL;
    }
    return reply;
}

/* The pinned pick of today, if still there and current. */
static json_t *s_today_pinned(cli_t *cli, const char *date)
{
    char path[PATH_MAX], d[16], id[65];
    if (s_home_file(SOCIAL_TODAY_FILE, path, sizeof path)) return NULL;
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    int ok = fscanf(f, "%15s %64s", d, id) == 2;
    fclose(f);
    if (!ok || strcmp(d, date) || strlen(id) != 64) return NULL;
    json_t *reply = s_quiet_call(cli, json_pack("{s:s, s:s}", "op", "get", "id", id));
    json_t *tip = json_incref(json_object_get(reply, "event"));
    json_decref(reply);
    if (tip && json_is_true(json_object_get(tip, "superseded"))) {
        json_decref(tip);
        return NULL;
    }
    return tip;
}

static void s_today_pin(const char *date, const char *id)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    if (s_home_file(SOCIAL_TODAY_FILE, path, sizeof path)) return;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    fprintf(f, "%s %s\n", date, id);
    if (fclose(f) == 0) rename(tmp, path);
}

static void s_today_print(cli_t *cli, json_t *tip)
{
    char sid[65], meta[1200], who[200], age[64], rating[160];
    out_short_id(tip, sid);
    out_author(tip, who, sizeof who);
    out_reltime(social_ms(tip), age, sizeof age);
    out_rating(tip, rating, sizeof rating);
    fprintf(cli->out, "%sTip of the day:%s %s%s%s\n", out_c(cli, OUT_BOLD), out_c(cli, OUT_RESET),
            out_c(cli, OUT_TITLE), json_string_value(json_object_get(tip, "title")),
            out_c(cli, OUT_RESET));
    const char *body = json_string_value(json_object_get(tip, "body"));
    if (body && *body) {
        /* A login greeting, not a page: the first few lines only. */
        size_t blen = strlen(body);
        char *copy = malloc(blen + 8), *p = copy; /* room for the " …" marker */
        if (copy) memcpy(copy, body, blen + 1);
        int lines = 0;
        while (p && *p && lines < S_TODAY_BODY_LINES) {
            p = strchr(p, '\n');
            lines++;
            if (p) p++;
        }
        if (p && *p) {
            p[-1] = 0;
            strcat(copy, " \xe2\x80\xa6");
        }
        if (copy) out_wrap(cli, copy, 2);
        free(copy);
    }
    snprintf(meta, sizeof meta, "by %s, %s; %s", who, age, rating);
    fprintf(cli->out, "%s", out_c(cli, OUT_DIM));
    out_wrap(cli, meta, 2);
    fprintf(cli->out, "  more: tip show %s   helped? tip thanks %s STORY%s\n", sid, sid,
            out_c(cli, OUT_RESET));
}

static int s_today_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", (const struct option[]){{0, 0, 0, 0}}, NULL)) != -1)
        return cli_bad_option(cli, self, c, argv);
    if (optind < argc) return cli_usage(cli, self, "unexpected argument '%s'", argv[optind]);
    char date[16], user[65], err[256];
    social_local_date(date);
    s_today_user(user);
    if (!cli->client && !(cli->client = client_new(cli->socket))) return 0;
    if (client_connect(cli->client, S_TODAY_CONNECT_MS, err, sizeof err) != 0) return 0;
    json_t *tip = s_today_pinned(cli, date);
    if (!tip) {
        size_t lines;
        json_t *seen = s_seen_load(date, &lines);
        json_t *reply = s_quiet_call(cli, json_pack("{s:s, s:s, s:s, s:o}", "op", "today", "user",
                                                    user, "date", date, "seen", seen));
        json_t *t = json_object_get(reply, "tip");
        tip = json_is_object(t) ? json_incref(t) : NULL;
        if (!tip && reply && !cli->json && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO))
            /* Someone who typed it deserves a word; login scripts silence
             * stderr (systemd/profile.d/tip-today.sh), so they stay quiet. */
            fprintf(stderr, "tip: no tip of the day for you yet: nothing here was written by "
                            "someone else (tip list shows what there is)\n");
        json_decref(reply);
        if (!tip) return 0;
    }
    const char *id = json_string_value(json_object_get(tip, "id"));
    if (id) {
        s_today_pin(date, id);
        s_seen_add(id, "today");
    }
    out_begin(cli, 0);
    if (cli->json) {
        json_object_set_new(tip, "date", json_string(date));
        out_json(cli, tip);
    } else {
        s_today_print(cli, tip);
    }
    json_decref(tip);
    return 0;
}

const cmd_t cmd_today = {
    .name = "today",
    .run = s_today_run,
    .synopsis = "today",
    .summary = "a tip of the day: a well-rated tip you have not seen yet",
    .help = "The same tip all day for you (it depends on your key and today's date),\n"
            "a different one tomorrow, favouring tips others rated and thanked, never your\n"
            "own, and not ones you have seen (tip show and tip today note what you read in\n"
            "$TIP_HOME/seen). Silent, exit 0, when tipd is not running or has no tips, so\n"
            "it is safe in a login script: IT can enable /etc/profile.d/tip-today.sh\n"
            "(typed on a terminal with nothing to offer, it says so on stderr).\n"
            "\nExamples:\n  tip today\n  tip today --json\n",
};

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
        out_reltime(social_ms(s), age, sizeof age);
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
