/* cmd_util.c -- what several commands share: fetching a tip by an id
 * argument (and following its edit chain), signing and submitting an event,
 * asking for confirmation, reading fields of tip objects, today's date.
 * Declared in cmd_util.h.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_util.h"
#include "draft.h"
#include "out.h"

/* Bit (1 << kind) for each kind of event a command's ID argument can name;
 * 0 = any. */
static unsigned s_kinds_for(const cmd_t *cmd)
{
    const char *n = cmd ? cmd->name : "";
    if (!strcmp(n, "answer")) return 1u << EVENT_QUESTION;
    if (!strcmp(n, "edit") || !strcmp(n, "rate") || !strcmp(n, "thanks"))
        return 1u << EVENT_TIP | 1u << EVENT_QUESTION;
    return 0;
}

/* An ambiguous prefix: the one candidate of a kind cmd accepts, into
 * out (65). 0 if exactly one, else -1. */
static int s_one_of_kind(cli_t *cli, const cmd_t *cmd, const json_t *reply, char out[65])
{
    unsigned kinds = s_kinds_for(cmd);
    if (!kinds) return -1;
    size_t i, found = 0;
    json_t *c;
    json_array_foreach(json_object_get(reply, "candidates"), i, c)
    {
        const char *id = json_string_value(c);
        json_t *got = NULL, *req = id ? json_pack("{s:s, s:s}", "op", "get", "id", id) : NULL;
        char err[128];
        if (req && client_call(cli->client, req, &got, CLI_CALL_TIMEOUT_MS, err, sizeof err) == 0) {
            const char *k =
                json_string_value(json_object_get(json_object_get(got, "event"), "kind"));
            int kind = k ? event_kind_from_name(k) : -1;
            if (kind > 0 && (kinds & 1u << kind) && found++ == 0) snprintf(out, 65, "%s", id);
        }
        json_decref(req);
        json_decref(got);
    }
    return found == 1 ? 0 : -1;
}

int cmd_get(cli_t *cli, const cmd_t *cmd, const char *idarg, int history, json_t **ev)
{
    char prefix[65];
    *ev = NULL;
    if (cli_id_arg(cli, cmd, idarg, prefix)) return CLI_EXIT_USAGE;
    int rc = cli_connect(cli);
    if (rc) return rc;
    json_t *req = json_pack("{s:s, s:s, s:b}", "op", "get", "id", prefix, "history", history);
    json_t *reply = NULL;
    char err[512];
    rc = client_call(cli->client, req, &reply, CLI_CALL_TIMEOUT_MS, err, sizeof err);
    json_decref(req);
    if (rc) return cli_fail(cli, CLI_EXIT_UNREACHABLE, "%s", err);
    const char *e = json_string_value(json_object_get(reply, "error"));
    char one[65];
    /* A prefix shared with events this command cannot use is not ambiguous:
     * `tip answer 3b26` means the question among them. */
    if (e && !strcmp(e, CONTRACT_E_AMBIGUOUS) && s_one_of_kind(cli, cmd, reply, one) == 0) {
        json_decref(reply);
        req = json_pack("{s:s, s:s, s:b}", "op", "get", "id", one, "history", history);
        if ((rc = cli_call(cli, req, &reply))) return rc;
    } else if (!json_is_true(json_object_get(reply, "ok"))) {
        rc = cli_reply_fail(cli, reply);
        json_decref(reply);
        return rc;
    }
    *ev = json_incref(json_object_get(reply, "event"));
    json_decref(reply);
    return *ev ? 0 : cli_fail(cli, CLI_EXIT_ERROR, "tipd sent no event");
}

int cmd_get_latest(cli_t *cli, const cmd_t *cmd, const char *idarg, int history, json_t **ev)
{
    int rc = cmd_get(cli, cmd, idarg, history, ev);
    if (rc) return rc;
    const char *latest = json_string_value(json_object_get(*ev, "latest"));
    if (!json_is_true(json_object_get(*ev, "superseded")) || !latest) return 0;
    char want[65];
    snprintf(want, sizeof want, "%s", latest);
    json_decref(*ev);
    fprintf(stderr, "tip: %.8s was edited; using its newest version %.8s\n", idarg, want);
    return cmd_get(cli, cmd, want, history, ev);
}

int cmd_submit(cli_t *cli, event_t *ev, const ident_t *id, char idhex[65])
{
    /* What people write goes through a draft, so a retry after a timeout
     * sends the same bytes; a rating or retraction is a click, not text, and
     * a rating resent from an old draft could undo a newer one. */
    if (ev->kind == EVENT_TIP || ev->kind == EVENT_QUESTION || ev->kind == EVENT_THANKS)
        return draft_send(cli, ev, id, 0, idhex, NULL);
    int rc = event_sign(ev, id->sk);
    if (rc) return cli_fail(cli, CLI_EXIT_ERROR, "cannot sign: %s", event_strerror(rc));
    cli->timed_out = 0;
    rc = cli_submit_event(cli, ev, idhex, NULL);
    if (rc && cli->timed_out) {
        char hex[65];
        event_hex(ev->id, EVENT_ID_LEN, hex);
        fprintf(stderr,
                "tip: it may still have been stored: check in a minute with: tip show %.12s "
                "(doing it again is harmless)\n",
                hex);
    }
    return rc;
}

void cmd_show_alike(cli_t *cli, const json_t *tips)
{
    fprintf(stdout, "%sThese look like the same thing:%s\n\n", out_c(cli, OUT_BOLD),
            out_c(cli, OUT_RESET));
    cli->out = stdout;
    size_t i;
    json_t *t;
    json_array_foreach(tips, i, t)
    {
        if (i) fputc('\n', stdout);
        out_tip_brief(cli, t);
    }
    fputc('\n', stdout);
    fflush(stdout);
}

int cmd_confirm(const char *question)
{
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    char line[64];
    if (!fgets(line, sizeof line, stdin)) return 0;
    return line[0] == 'y' || line[0] == 'Y';
}

int cmd_hex_field(const json_t *o, const char *key, uint8_t *out, size_t n)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s || strlen(s) != 2 * n) return -1;
    return event_unhex(s, out, n) == 0 ? 0 : -1;
}

uint64_t cmd_ms(const json_t *o)
{
    json_int_t v = json_integer_value(json_object_get(o, "created_at_ms"));
    return v > 0 ? (uint64_t)v : 0;
}

void cmd_local_date(char out[16])
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

/* ---- common checks ---- */

int cmd_is_mine(const json_t *tip, const uint8_t key[EVENT_KEY_LEN])
{
    uint8_t a[EVENT_KEY_LEN];
    return cmd_hex_field(tip, "author", a, EVENT_KEY_LEN) == 0 &&
           memcmp(a, key, EVENT_KEY_LEN) == 0;
}
