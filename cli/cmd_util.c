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
#include "out.h"

int cmd_get(cli_t *cli, const cmd_t *cmd, const char *idarg, int history, json_t **ev)
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
    int rc = event_sign(ev, id->sk);
    if (rc) return cli_fail(cli, CLI_EXIT_ERROR, "cannot sign: %s", event_strerror(rc));
    return cli_submit_event(cli, ev, idhex, NULL);
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
