/* cmd.h -- every tip command, as listed in main.c's table (which sets the
 * order `tip help` shows them in). To add one: define `const cmd_t cmd_X` in
 * a cli/cmd_*.c, declare it here, add `&cmd_X` to the table in main.c. */
#ifndef TIP_CMD_H
#define TIP_CMD_H

#include "cli.h"

/* cmd_tips.c: writing and finding tips */
extern const cmd_t cmd_add;
extern const cmd_t cmd_search;
extern const cmd_t cmd_show;
extern const cmd_t cmd_list;

/* cmd_node.c: you and your node */
extern const cmd_t cmd_whoami;
extern const cmd_t cmd_status;
extern const cmd_t cmd_peers;

/* cmd_io.c: bulk in and out */
extern const cmd_t cmd_import;
extern const cmd_t cmd_export;

/* cmd_questions.c: asking and answering */
extern const cmd_t cmd_ask;
extern const cmd_t cmd_answer;
extern const cmd_t cmd_questions;

/* cmd_rate.c: recognition */
extern const cmd_t cmd_rate;
extern const cmd_t cmd_thanks;

/* cmd_edit.c: changing what you wrote */
extern const cmd_t cmd_edit;
extern const cmd_t cmd_retract;

/* cmd_today.c, cmd_stats.c: what the office learns */
extern const cmd_t cmd_today;
extern const cmd_t cmd_stats;

/* main.c */
extern const cmd_t cmd_help;

/* Look a command up by name (NULL if none). */
const cmd_t *cmd_find(const char *name);
/* Print `tip help NAME` text for cmd to f. */
void cmd_print_help(const cmd_t *cmd, FILE *f);

#endif
