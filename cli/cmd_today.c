/* cmd_today.c -- tip today, and the small local "seen" record that keeps
 * tip of the day fresh.
 *
 * `today` is meant for login shells (systemd/profile.d/tip-today.sh), so it
 * must never get in the way: it loads the identity without creating one,
 * gives tipd half a second to accept the connection and three seconds to
 * answer, and on any failure -- daemon down, no tips, no home -- prints
 * nothing and exits 0. The daemon picks the tip (a weighted walk over the
 * tip ids from a hash of user key and local date), and the CLI pins the pick in
 * $TIP_HOME/today so it stays the same all day even after `show` marks it
 * seen.
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
#include "path.h"
#include "cmd_util.h"

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

/* Ids in the seen file, each cut to its first `digits` hex digits (tipd
 * takes the first 16 for the whole id: a quarter of the bytes to send and
 * parse). Each line is "<id> <date> <how>", how = "show" or "today" (older
 * two-field lines count as "show"). With today set, the tip that `tip
 * today` itself showed today is left out, so the day's pick stays a
 * candidate and the pick stays the same all day. Returns a JSON array. */
static json_t *s_seen_load(const char *today, size_t digits, size_t *lines)
{
    json_t *ids = json_array();
    char path[PATH_MAX], line[256];
    *lines = 0;
    if (s_home_file(CMD_SEEN_FILE, path, sizeof path)) return ids;
    FILE *f = fopen(path, "r");
    if (!f) return ids;
    while (fgets(line, sizeof line, f)) {
        char id[65], date[16], how[16] = "show";
        if (sscanf(line, "%64s %15s %15s", id, date, how) < 2 || strlen(id) != 64) continue;
        uint8_t bin[EVENT_ID_LEN];
        if (event_unhex(id, bin, EVENT_ID_LEN)) continue;
        (*lines)++;
        if (today && !strcmp(date, today) && !strcmp(how, "today")) continue;
        json_array_append_new(ids, json_stringn(id, digits < 64 ? digits : 64));
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
    if (s_home_file(CMD_SEEN_FILE, path, sizeof path)) return;
    size_t lines;
    json_t *all = s_seen_load(NULL, 2 * EVENT_ID_LEN, &lines);
    size_t i;
    json_t *v;
    json_array_foreach(all, i, v) if (!strcmp(json_string_value(v), idhex))
    {
        json_decref(all);
        return;
    }
    cmd_local_date(date);
    char *slash = strrchr(path, '/');
    *slash = 0;
    path_mkdir_p(path, 0700, NULL, 0); /* TIP_HOME may not exist yet: same mode as ident's */
    *slash = '/';
    if (lines + 1 > CMD_SEEN_KEEP) {
        /* Rewrite with the newest half only; their dates are dropped (they
         * count as seen before today), which is all `today` needs. */
        char tmp[PATH_MAX + 8];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        if (f) {
            size_t n = json_array_size(all);
            size_t from = n > CMD_SEEN_KEEP / 2 ? n - CMD_SEEN_KEEP / 2 : 0;
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

void cmd_seen_add(const char *idhex)
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
    if (s_home_file(CMD_TODAY_FILE, path, sizeof path)) return NULL;
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
    if (s_home_file(CMD_TODAY_FILE, path, sizeof path)) return;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    fprintf(f, "%s %s\n", date, id);
    if (fclose(f) == 0) rename(tmp, path);
}

static void s_today_print(cli_t *cli, json_t *tip)
{
    char sid[65], meta[1200], who[200], age[64], rating[160];
    out_short_id(cli, tip, sid);
    out_author(tip, who, sizeof who);
    out_reltime(cmd_ms(tip), age, sizeof age);
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
    cmd_local_date(date);
    s_today_user(user);
    if (!cli->client && !(cli->client = client_new(cli->socket))) return 0;
    if (client_connect(cli->client, S_TODAY_CONNECT_MS, err, sizeof err) != 0) return 0;
    json_t *tip = s_today_pinned(cli, date);
    if (!tip) {
        size_t lines;
        json_t *seen = s_seen_load(date, 2 * EVENT_PFX_LEN, &lines);
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
