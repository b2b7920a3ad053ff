/* cli.h -- what every `tip` command shares: the run context, exit codes, the
 * command table entry, and helpers that turn API replies and local failures
 * into one clear line on stderr plus the documented exit code.
 *
 * Adding a command: write `int s_run(cli_t *, const cmd_t *, int, char **)` in
 * a cli/cmd_*.c file, define `const cmd_t cmd_NAME = {...}` there, declare it
 * in cmd.h and list it in main.c's table. main.c strips the global options
 * (--json, --color, --socket, --help) wherever they appear, so a command only
 * parses its own options.
 */
#ifndef TIP_CLI_H
#define TIP_CLI_H

#include <jansson.h>
#include <stdio.h>
#include <stdarg.h>

#include "client.h"
#include "contract.h"
#include "event.h"
#include "ident.h"

/* Exit codes: documented in `tip help` and README.md. Never renumber. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_ERROR = 1,       /* anything else */
    CLI_EXIT_USAGE = 2,       /* bad command line */
    CLI_EXIT_NOTFOUND = 3,    /* no such id, or an ambiguous prefix */
    CLI_EXIT_UNREACHABLE = 4, /* tipd is not running / not answering */
    CLI_EXIT_REFUSED = 5,     /* tipd refused the request (e.g. invalid event) */
};

enum { CLI_COLOR_AUTO = 0, CLI_COLOR_ALWAYS, CLI_COLOR_NEVER };

#define CLI_CALL_TIMEOUT_MS 30000 /* a connected daemon that takes longer is stuck */

typedef struct cli cli_t;
typedef struct cmd cmd_t;

struct cmd {
    const char *name;
    int (*run)(cli_t *cli, const cmd_t *self, int argc, char **argv);
    const char *synopsis; /* after "tip ": "add [-t TOPIC]... [TEXT...]" */
    const char *summary;  /* one line for `tip help` */
    const char *help;     /* the rest of `tip help NAME` (may be NULL) */
};

struct cli {
    const char *socket; /* API socket path */
    int json;           /* --json */
    int color_mode;     /* CLI_COLOR_* as asked */
    int color;          /* resolved: emit escape codes on stdout */
    client_t *client;   /* connected on first cli_call */
    FILE *out;          /* command output: stdout or the pager buffer */
    char *outbuf;       /* open_memstream buffer while paging is possible */
    size_t outlen;
    int pageable;
};

/* Print "tip: <message>" on stderr and return code (for `return cli_fail(...)`). */
int cli_fail(cli_t *cli, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A usage error: the message, the command's synopsis, a pointer to help; 2. */
int cli_usage(cli_t *cli, const cmd_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Report an unknown option / missing option value that getopt_long returned
 * as '?' or ':' (optstring must start with ':'). Returns CLI_EXIT_USAGE. */
int cli_bad_option(cli_t *cli, const cmd_t *cmd, int c, char **argv);

/* Connect to tipd if not yet connected. 0 or CLI_EXIT_UNREACHABLE (the
 * how-to-start line already printed). */
int cli_connect(cli_t *cli);
/* One request/reply. Takes ownership of req. On success *reply holds an
 * "ok": true object (caller json_decref's it) and 0 is returned; otherwise
 * one line is printed and the exit code returned (unreachable, not found,
 * ambiguous -- candidates listed --, refused, other). */
int cli_call(cli_t *cli, json_t *req, json_t **reply);
/* Map an error reply to an exit code without printing. */
int cli_reply_code(const json_t *reply);
/* Print the one-line error for an error reply; returns cli_reply_code(). */
int cli_reply_fail(cli_t *cli, const json_t *reply);

/* The user's identity (loaded or created 0600). path (cap >= 4096) gets the
 * identity file's path. 0 or CLI_EXIT_ERROR with the reason printed. */
int cli_identity(cli_t *cli, ident_t *id, char *path, size_t cap);

/* Open a file for reading ("-" = stdin); a directory is refused. NULL with
 * err set ("cannot open PATH: reason"). */
FILE *cli_open_read(const char *path, char *err, size_t errlen);
/* Read a whole file ("-" = stdin) into a NUL-terminated heap buffer, CRLF
 * turned into LF; refuses more than max bytes. NULL with err set. */
char *cli_read_file(const char *path, size_t max, char *err, size_t errlen);
/* Turn CRLF (and lone CR) into LF in place; returns the new length. */
size_t cli_normalize_newlines(char *s, size_t len);

/* Submit one signed event and wait for its commit. idhex (65 bytes) gets the
 * id. 0 when new or duplicate (*dup set), else the exit code (printed). */
int cli_submit_event(cli_t *cli, const event_t *ev, char idhex[65], int *dup);

/* Add a -t argument ("git" or "git,ssh") to ev; 0 or CLI_EXIT_USAGE (printed). */
int cli_add_topics(cli_t *cli, const cmd_t *cmd, event_t *ev, const char *arg);

/* Check an id argument (4..64 hex characters) and lower-case it into prefix.
 * 0, or CLI_EXIT_USAGE with a line that says what is wrong with it. */
int cli_id_arg(cli_t *cli, const cmd_t *cmd, const char *arg, char prefix[2 * EVENT_ID_LEN + 1]);

/* argv[from..argc) joined by single spaces, newlines normalised (heap; NULL
 * on ENOMEM). */
char *cli_join_args(int argc, char **argv, int from);

/* The most text a writing command reads (a title, a full body, slack). */
#define CLI_MAX_TEXT (EVENT_MAX_TITLE + EVENT_MAX_BODY + 16)

/* The text given to a writing command: argv[from..argc) joined, or FILE
 * (-f FILE, or a lone "-" argument for stdin; not both). *text is a heap
 * string, or NULL when no text was given at all (the caller then opens the
 * editor or complains). 0 or an exit code (printed). */
int cli_text_arg(cli_t *cli, const cmd_t *cmd, int argc, char **argv, int from, const char *file,
                 char **text);

/* Open $VISUAL / $EDITOR (default vi) on a temporary file holding initial,
 * a scissors line and help (lines starting "# "), and return what the user
 * left above the scissors (heap; "" when emptied). NULL with one line
 * printed, ending in nothing ("no tip added"), when the editor fails. */
char *cli_edit_text(cli_t *cli, const char *initial, const char *help, const char *nothing);

/* Fill title and body of ev from text (trimmed in place): the first line is
 * the title unless title is given; a first line too long for a title is cut
 * at a word and the whole text kept as the body. Empty text, a body over
 * EVENT_MAX_BODY or invalid UTF-8 get one line and CLI_EXIT_ERROR, a bad
 * --title CLI_EXIT_USAGE; nothing is half-filled that a caller would send. */
int cli_fill_text(cli_t *cli, const cmd_t *cmd, event_t *ev, const char *title, char *text);

#endif
