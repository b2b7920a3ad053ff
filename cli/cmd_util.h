/* cmd_util.h -- helpers several commands share (cmd_util.c): a tip fetched
 * by an id argument, a signed event submitted, a yes/no prompt, fields of tip
 * objects; and the hook `tip show` calls, cmd_seen_add() (cmd_today.c), to
 * tell `tip today` what the user has already read.
 */
#ifndef TIP_CMD_UTIL_H
#define TIP_CMD_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

#define CMD_SEEN_FILE  "seen"  /* in TIP_HOME: "<64 hex id> <YYYY-MM-DD> <show|today>" */
#define CMD_TODAY_FILE "today" /* in TIP_HOME: "<YYYY-MM-DD> <64 hex id>" */
#define CMD_SEEN_KEEP  5000    /* newest lines kept in the seen file */

/* The tip object for an id argument (`get` op; history on request), as a new
 * reference in *ev. Checks the argument's form first (usage error) and prints
 * tipd's answer on failure (retracted, not found, ambiguous). 0 or exit code. */
int cmd_get(cli_t *cli, const cmd_t *cmd, const char *idarg, int history, json_t **ev);
/* Like cmd_get, then follows an edit chain to its newest version (with a
 * note on stderr when it did). */
int cmd_get_latest(cli_t *cli, const cmd_t *cmd, const char *idarg, int history, json_t **ev);

/* Sign ev with id (created_at must be set) and submit it; idhex gets the id.
 * 0 or exit code (printed). */
int cmd_submit(cli_t *cli, event_t *ev, const ident_t *id, char idhex[65]);

/* Ask "QUESTION [y/N] " on the terminal: 1 for yes. Only call on a tty. */
int cmd_confirm(const char *question);

/* Parse a 64-hex field of a JSON object into out; 0 or -1. */
int cmd_hex_field(const json_t *o, const char *key, uint8_t *out, size_t n);

/* 1 if the tip object was written by key (its "author" field). */
int cmd_is_mine(const json_t *tip, const uint8_t key[EVENT_KEY_LEN]);

/* created_at_ms of a tip object (0 if absent). */
uint64_t cmd_ms(const json_t *o);

/* Record that the user has read tip idhex (for `tip today`); best effort,
 * silent on any failure. */
void cmd_seen_add(const char *idhex);

/* Today's local date as YYYY-MM-DD. */
void cmd_local_date(char out[16]);

#endif
