/* out.h -- how tip writes for people and for scripts.
 *
 * Human output: colour only when stdout is a terminal, never with NO_COLOR
 * (unless --color always) or --color never; prose wrapped to the terminal
 * width, but command lines never (the terminal soft-wraps them, so a copy
 * is one line again), and nothing wrapped or cut when stdout is not a
 * terminal; output longer than the screen goes through $PAGER (default
 * "less -FRX"), and only on a terminal. Machine output (--json): one compact
 * JSON object per line, the daemon's tip objects as docs/API.md defines them.
 */
#ifndef TIP_OUT_H
#define TIP_OUT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

typedef enum {
    OUT_RESET = 0,
    OUT_BOLD,
    OUT_DIM,
    OUT_ID,    /* short ids */
    OUT_TITLE, /* tip titles */
    OUT_TOPIC,
    OUT_GOOD, /* ratings, thanks */
    OUT_WARN,
} out_style_t;

/* Decide colour for stdout from the --color mode, NO_COLOR and isatty. */
void out_setup(cli_t *cli);
/* Start a command's output. pageable: it may be long enough for a pager. */
void out_begin(cli_t *cli, int pageable);
/* Finish: write buffered output to stdout, through the pager when it is
 * longer than the terminal. Safe to call twice. */
void out_end(cli_t *cli);

/* Escape sequence for a style, or "" when colour is off. */
const char *out_c(const cli_t *cli, out_style_t style);
/* Columns to wrap at: the terminal's, else $COLUMNS, else 80. */
int out_width(void);

/* 1 if tip may wrap what it prints: stdout is a terminal. */
int out_wraps(void);

/* Write text wrapped at the terminal width, every line indented by indent
 * spaces. Existing line breaks are kept; long words are not split. Not on a
 * terminal: every line whole. */
void out_wrap(cli_t *cli, const char *text, int indent);

/* A tip's body, indented: prose lines wrapped as out_wrap does, command
 * lines (out_commands' rule) printed whole. */
void out_body(cli_t *cli, const char *body, int indent);

/* The command lines of a body, one per line, to f: the lines of ``` fences,
 * indented lines and "$ " lines (prompt dropped) when the body has any; else
 * every line that reads as a command rather than a sentence (no closing
 * punctuation, starts with a lower-case program name or a path, or carries
 * options, pipes, redirections or variables). Returns how many. */
size_t out_commands(const char *body, FILE *f);

/* One JSON value on one line, without the envelope fields "ok" and "tag". */
void out_json(cli_t *cli, const json_t *obj);

/* "just now", "5 minutes ago", "3 days ago", or the date for old ones. */
void out_reltime(uint64_t ms, char *buf, size_t cap);

/* The short form of a tip's id: its "short" field when the daemon gives one
 * (a prefix it knows to be unique), else the first 8 hex characters. */
const char *out_short_id(cli_t *cli, const json_t *tip, char buf[65]);
/* The author as people know them: profile name (and team) or a key prefix. */
void out_author(const json_t *tip, char *buf, size_t cap);
/* "rated 4.5/5 (2 ratings)" or "no ratings yet", plus thanks. */
void out_rating(const json_t *tip, char *buf, size_t cap);

/* A tip as one entry of a list or search result (id, title, first body line,
 * topics, author, age, rating, thanks). */
void out_tip_brief(cli_t *cli, const json_t *tip);
/* A tip in full, as `tip show` prints it (ratings, thanks stories, answers). */
void out_tip_full(cli_t *cli, const json_t *tip);

/* Write n bytes of other people's text to f with control characters (C0
 * but tab, DEL, C1) shown as U+FFFD, so no escape sequence reaches the
 * terminal. out_wrap and the tip renderers already use it. */
void out_text(FILE *f, const char *s, size_t n);
/* out_text, but line feeds are kept. */
void out_text_lines(FILE *f, const char *s, size_t n);

#endif
