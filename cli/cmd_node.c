/* cmd_node.c -- you and your node: tip whoami, status, peers.
 *
 * whoami reads the identity file locally (creating it on first use) and asks
 * tipd for the newest profile event you signed, since your name and team are
 * events like everything else; --name/--team publish a new profile. status
 * and peers render the daemon's `status` and `peers` replies.
 */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "cmd_util.h"
#include "out.h"

/* Your newest profile (new reference) or NULL (none, or tipd unreachable:
 * *rc tells, already printed). */
static json_t *s_my_profile(cli_t *cli, const char *pkhex, int *rc)
{
    json_t *req =
        json_pack("{s:s, s:s, s:s, s:i}", "op", "list", "kind", "profile", "author", pkhex, "n", 1);
    json_t *reply;
    *rc = cli_call(cli, req, &reply);
    if (*rc) return NULL;
    json_t *p = json_incref(json_array_get(json_object_get(reply, "results"), 0));
    json_decref(reply);
    return p;
}

/* True if s (may be NULL) holds an ASCII control character: a profile's
 * name and team are one line each (core/event.c refuses anything else). */
static int s_has_control(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

static int s_whoami_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"name", required_argument, 0, 'N'}, {"team", required_argument, 0, 'T'}, {0, 0, 0, 0}};
    const char *name = NULL, *team = NULL;
    int c, rc;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == 'N')
            name = optarg;
        else if (c == 'T')
            team = optarg;
        else
            return cli_bad_option(cli, self, c, argv);
    }
    if (optind < argc) return cli_usage(cli, self, "unexpected argument '%s'", argv[optind]);
    if (name && (!*name || strlen(name) > EVENT_MAX_NAME))
        return cli_usage(cli, self, "--name takes 1 to %d bytes", EVENT_MAX_NAME);
    if (team && strlen(team) > EVENT_MAX_TEAM)
        return cli_usage(cli, self, "--team takes at most %d bytes", EVENT_MAX_TEAM);
    if (s_has_control(name) || s_has_control(team))
        return cli_usage(cli, self, "--%s must be one line of text (no tabs or control characters)",
                         s_has_control(name) ? "name" : "team");

    ident_t id;
    char path[PATH_MAX], pkhex[65];
    if ((rc = cli_identity(cli, &id, path, sizeof path))) return rc;
    event_hex(id.pk, EVENT_KEY_LEN, pkhex);

    json_t *prof = s_my_profile(cli, pkhex, &rc);
    const char *cur_name = json_string_value(json_object_get(prof, "title"));
    const char *cur_team = json_string_value(json_object_get(prof, "body"));
    if (rc == CLI_EXIT_UNREACHABLE && !name && !team && !cli->json) {
        /* Still tell them what we know locally. */
        printf("key       %s\nidentity  %s\n", pkhex, path);
    }
    if (rc) goto done;

    if (name || team) {
        event_t *ev = calloc(1, sizeof *ev);
        if (!ev) {
            rc = cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
            goto done;
        }
        event_init(ev, EVENT_PROFILE);
        const char *n = name ? name : (cur_name ? cur_name : "");
        const char *t = team ? team : (cur_team ? cur_team : "");
        if (!*n) {
            free(ev);
            rc = cli_usage(cli, self, "you have no name yet: give --name too");
            goto done;
        }
        char idhex[65];
        if ((rc = event_set_title(ev, n, strlen(n))) || (rc = event_set_body(ev, t, strlen(t)))) {
            rc = cli_fail(cli, CLI_EXIT_USAGE, "name/team: %s", event_strerror(rc));
        } else {
            ev->created_at = event_now_ms();
            rc = cmd_submit(cli, ev, &id, idhex);
        }
        free(ev);
        if (rc) goto done;
        json_decref(prof);
        prof = s_my_profile(cli, pkhex, &rc);
        if (rc) goto done;
        cur_name = json_string_value(json_object_get(prof, "title"));
        cur_team = json_string_value(json_object_get(prof, "body"));
    }
    out_begin(cli, 0);
    if (cli->json) {
        json_t *o = json_pack("{s:s, s:s?, s:s?, s:s}", "key", pkhex, "name", cur_name, "team",
                              cur_team && *cur_team ? cur_team : NULL, "identity", path);
        out_json(cli, o);
        json_decref(o);
    } else {
        fprintf(cli->out, "key       %s\n", pkhex);
        fprintf(cli->out, "name      %s\n",
                cur_name ? cur_name : "(not set: tip whoami --name NAME)");
        fprintf(cli->out, "team      %s\n", cur_team && *cur_team ? cur_team : "(not set)");
        fprintf(cli->out, "identity  %s  (keep it private: it signs as you)\n", path);
        if (name || team)
            fprintf(cli->out, "Your name now shows on everything you have written.\n");
    }
done:
    json_decref(prof);
    ident_wipe(&id);
    return rc;
}

const cmd_t cmd_whoami = {
    .name = "whoami",
    .run = s_whoami_run,
    .synopsis = "whoami [--name NAME] [--team TEAM]",
    .summary = "show (or set) who you are: key, name, team, identity file",
    .help = "  --name NAME    publish your display name (shown on all you write)\n"
            "  --team TEAM    publish your team\n"
            "Your identity is a key file in $TIP_HOME (default ~/.config/tip), created\n"
            "mode 0600 on first use; tip refuses to use it if others can read it.\n"
            "\nExamples:\n  tip whoami\n  tip whoami --name 'Ana Souza' --team ops\n",
};

/* ms since the epoch from "2026-11-29T16:18:26.532Z"; 0 if not that form. */
static uint64_t s_parse_rfc3339(const char *s)
{
    struct tm tm = {0};
    int ms = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &ms) < 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    return t < 0 ? 0 : (uint64_t)t * 1000 + (uint64_t)ms;
}

/* A JSON value as short text for a table cell. */
static void s_cell(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        snprintf(buf, cap, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, cap, "%.1f", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, cap, "%s", json_is_true(v) ? "yes" : "no");
    else if (json_is_array(v))
        snprintf(buf, cap, "%zu", json_array_size(v));
    else
        snprintf(buf, cap, "-");
    /* Peer names come from other machines: no control character reaches the
     * terminal (C0, DEL, and C1 as UTF-8 are shown as '?'). */
    for (unsigned char *p = (unsigned char *)buf; *p; p++) {
        if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            p[0] = p[1] = '?';
            p++;
        } else if (*p < 0x20 || *p == 0x7F) {
            *p = '?';
        }
    }
}

/* "search 120 (p99 3.1 ms), list 8 (p99 0.4 ms)": the ops that answered
 * most since tipd started, with the in-daemon p99 of each (docs/API.md,
 * status "requests"); "" when none did. */
static void s_answers_line(const json_t *req, char *buf, size_t cap)
{
    enum { S_SHOWN = 4 };
    const char *name[S_SHOWN] = {0};
    const json_t *hist[S_SHOWN] = {0};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)req, k, v)
    {
        const json_t *h = json_object_get(v, "in_daemon");
        json_int_t n = json_integer_value(json_object_get(h, "count"));
        for (int i = 0; i < S_SHOWN; i++) {
            if (hist[i] && json_integer_value(json_object_get(hist[i], "count")) >= n) continue;
            for (int j = S_SHOWN - 1; j > i; j--) {
                name[j] = name[j - 1];
                hist[j] = hist[j - 1];
            }
            name[i] = k;
            hist[i] = h;
            break;
        }
    }
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < S_SHOWN && hist[i] && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s %lld (p99 %.1f ms)", i ? ", " : "",
                                name[i],
                                (long long)json_integer_value(json_object_get(hist[i], "count")),
                                json_real_value(json_object_get(hist[i], "p99_ms")));
}

static int s_status_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    if (argc > 1) return cli_usage(cli, self, "unexpected argument '%s'", argv[1]);
    json_t *reply;
    int rc = cli_call(cli, json_pack("{s:s}", "op", "status"), &reply);
    if (rc) return rc;
    out_begin(cli, 0);
    if (cli->json) {
        out_json(cli, reply);
    } else {
        static const char *const keys[][2] = {
            {"node", "node"},       {"name", "name"},       {"tips", "tips"},
            {"events", "events"},   {"peers", "peers"},     {"network", "network"},
            {"discovery", "mdns"},  {"listen", "listen"},   {"pending", "pending"},
            {"version", "version"}, {"uptime_s", "uptime"}, {"data_dir", "data"},
        };
        char cell[512];
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            json_t *v = json_object_get(reply, keys[i][0]);
            if (!v) continue;
            s_cell(v, cell, sizeof cell);
            json_t *known = json_object_get(reply, "peers_known");
            json_t *port = json_object_get(reply, "port");
            if (!strcmp(keys[i][0], "uptime_s") && json_is_integer(v)) {
                long long s = json_integer_value(v);
                if (s < 60)
                    snprintf(cell, sizeof cell, "%lld s", s);
                else if (s < 3600)
                    snprintf(cell, sizeof cell, "%lld min", s / 60);
                else if (s < 86400)
                    snprintf(cell, sizeof cell, "%lld h %lld min", s / 3600, s / 60 % 60);
                else
                    snprintf(cell, sizeof cell, "%lld days %lld h", s / 86400, s / 3600 % 24);
            } else if (!strcmp(keys[i][0], "peers") && json_is_integer(v) &&
                       json_is_integer(known)) {
                snprintf(cell, sizeof cell, "%lld linked, %lld known",
                         (long long)json_integer_value(v), (long long)json_integer_value(known));
            } else if (!strcmp(keys[i][0], "discovery") && json_is_boolean(v)) {
                snprintf(cell, sizeof cell, "%s",
                         json_is_true(v) ? "on" : "off (static peers only)");
            } else if (!strcmp(keys[i][0], "listen") && json_is_integer(port)) {
                size_t k = strlen(cell);
                snprintf(cell + k, sizeof cell - k, " (port %lld)",
                         (long long)json_integer_value(port));
            } else if (!strcmp(keys[i][0], "network") && !strcmp(cell, "open")) {
                snprintf(cell, sizeof cell, "open (no network key: any tipd on the LAN may join)");
            }
            fprintf(cli->out, "%-8s  %s\n", keys[i][1], cell);
        }
        fprintf(cli->out, "%-8s  %s\n", "socket", cli->socket);
        s_answers_line(json_object_get(reply, "requests"), cell, sizeof cell);
        if (cell[0]) fprintf(cli->out, "%-8s  %s\n", "answers", cell);
    }
    json_decref(reply);
    return 0;
}

const cmd_t cmd_status = {
    .name = "status",
    .run = s_status_run,
    .synopsis = "status",
    .summary = "how your tipd is doing: node, tips, events, peers, network",
    .help = "Examples:\n  tip status\n  tip status --json\n",
};

static int s_peers_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    if (argc > 1) return cli_usage(cli, self, "unexpected argument '%s'", argv[1]);
    json_t *reply;
    int rc = cli_call(cli, json_pack("{s:s}", "op", "peers"), &reply);
    if (rc) return rc;
    json_t *peers = json_object_get(reply, "peers");
    out_begin(cli, 1);
    size_t i;
    json_t *p;
    if (cli->json) {
        json_array_foreach(peers, i, p) out_json(cli, p);
    } else if (!json_array_size(peers)) {
        /* Say how peers would be found by THIS tipd: with mDNS off, promising
         * that it looks for them sends the user waiting for nothing. */
        const char *disc = json_string_value(json_object_get(reply, "discovery"));
        if (disc && !strcmp(disc, "off"))
            fprintf(cli->out,
                    "No peers yet, and this tipd does not look for any: mDNS discovery\n"
                    "is off (--no-discovery, or no-discovery = yes in tipd.conf). Add peers\n"
                    "with --peer tcp://HOST:PORT, or turn discovery on.\n");
        else if (disc && !strcmp(disc, "waiting"))
            fprintf(cli->out, "No peers yet. tipd is waiting for avahi-daemon to look for peers\n"
                              "by mDNS (is it running?); for other subnets start tipd with\n"
                              "--peer tcp://HOST:PORT.\n");
        else
            fprintf(cli->out, "No peers yet. tipd finds peers on this network by mDNS; for other\n"
                              "subnets start it with --peer tcp://HOST:PORT.\n");
    } else {
        fprintf(cli->out, "%s%-16s %-8s  %-24s %-12s %-7s %-10s %s%s\n", out_c(cli, OUT_BOLD),
                "NAME", "NODE", "ADDRESS", "SOURCE", "NETWORK", "STATE", "LAST SEEN",
                out_c(cli, OUT_RESET));
        json_array_foreach(peers, i, p)
        {
            char name[64], node[16], addr[160], src[32], net[32], state[32], seen[64];
            s_cell(json_object_get(p, "name"), name, sizeof name);
            if (!*name) snprintf(name, sizeof name, "?");
            s_cell(json_object_get(p, "node"), node, sizeof node);
            node[8] = 0; /* a key prefix is enough to tell peers apart */
            const char *a = json_string_value(json_object_get(p, "addr"));
            json_int_t port = json_integer_value(json_object_get(p, "port"));
            if (a && port > 0)
                snprintf(addr, sizeof addr, strchr(a, ':') ? "[%s]:%lld" : "%s:%lld", a,
                         (long long)port);
            else
                s_cell(json_object_get(p, "endpoint"), addr, sizeof addr);
            s_cell(json_object_get(p, "source"), src, sizeof src);
            json_t *nm = json_object_get(p, "net_match");
            snprintf(net, sizeof net, "%s",
                     json_is_true(nm)    ? "ok"
                     : json_is_false(nm) ? "OTHER"
                                         : "?");
            s_cell(json_object_get(p, "state"), state, sizeof state);
            json_t *ls = json_object_get(p, "last_seen");
            uint64_t ms = 0;
            if (json_is_integer(ls) && json_integer_value(ls) > 1000000000000LL)
                ms = (uint64_t)json_integer_value(ls);
            else if (json_is_string(ls))
                ms = s_parse_rfc3339(json_string_value(ls));
            if (ms)
                out_reltime(ms, seen, sizeof seen);
            else
                s_cell(ls, seen, sizeof seen);
            const char *warn = json_is_false(nm) ? out_c(cli, OUT_WARN) : "";
            fprintf(cli->out, "%-16s %s%-8s%s  %-24s %-12s %s%-7s%s %-10s %s\n", name,
                    out_c(cli, OUT_ID), node, out_c(cli, OUT_RESET), addr, src, warn, net,
                    *warn ? out_c(cli, OUT_RESET) : "", state, seen);
        }
    }
    json_decref(reply);
    return 0;
}

const cmd_t cmd_peers = {
    .name = "peers",
    .run = s_peers_run,
    .synopsis = "peers",
    .summary = "the other tipd nodes this one knows",
    .help = "Columns: name, node key prefix, address, source (mdns or static), whether\n"
            "its network key matches ours, link state, and when it was last heard from.\n"
            "With --json, one object per peer as in docs/API.md.\n"
            "\nExamples:\n  tip peers\n  tip peers --json\n",
};
