/* main.c -- the tip command: global options, the command table, help.
 *
 *   tip [--socket PATH] [--json] [--color auto|always|never] COMMAND [ARGS...]
 *
 * Global options may also appear after the command (`tip search --json git`):
 * main() lifts them out of the command's arguments (up to a "--") before the
 * command parses its own, so every command accepts them and --help the same
 * way. The socket comes from --socket, else $TIP_SOCKET, else
 * /run/tipd/tipd.sock.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "out.h"

/* The order here is the order of `tip help`. */
static const cmd_t *const s_cmds[] = {
    &cmd_add,
    &cmd_search,
    &cmd_show,
    &cmd_list,
    /* questions, recognition, editing, what the office learns */
    &cmd_ask,
    &cmd_answer,
    &cmd_questions,
    &cmd_rate,
    &cmd_thanks,
    &cmd_edit,
    &cmd_retract,
    &cmd_today,
    &cmd_stats,
    /* you, your node, bulk in and out */
    &cmd_whoami,
    &cmd_status,
    &cmd_peers,
    &cmd_import,
    &cmd_export,
    &cmd_help,
};

#define S_NCMDS (sizeof s_cmds / sizeof s_cmds[0])

const cmd_t *cmd_find(const char *name)
{
    for (size_t i = 0; i < S_NCMDS; i++)
        if (!strcmp(s_cmds[i]->name, name)) return s_cmds[i];
    return NULL;
}

static const char s_global_help[] =
    "Global options (before or after the command):\n"
    "  --socket PATH      tipd's API socket (env TIP_SOCKET; default " CONTRACT_DEFAULT_SOCKET ")\n"
    "  --json             machine output: one JSON object per line\n"
    "  --color WHEN       auto (default), always or never; NO_COLOR=1 turns auto off\n"
    "  -h, --help         help for tip or for the command\n"
    "  --version          print tip's version\n";

static const char s_exit_help[] = "Exit codes:\n"
                                  "  0  ok\n"
                                  "  1  other error\n"
                                  "  2  usage error (bad command line)\n"
                                  "  3  not found, or an ambiguous id prefix\n"
                                  "  4  tipd is not running or not answering\n"
                                  "  5  refused by tipd (e.g. an invalid event)\n";

static const char s_env_help[] =
    "Environment:\n"
    "  TIP_SOCKET  API socket path      TIP_HOME  where your identity lives\n"
    "  (default $XDG_CONFIG_HOME/tip or ~/.config/tip)\n"
    "  PAGER       pager for long output (default: less -FRX)\n"
    "  EDITOR      editor for `tip add` without text (default: vi)\n"
    "  NO_COLOR    no colour unless --color always\n";

static void s_print_overview(FILE *f)
{
    fputs("tip -- share and find your office's tips (talks to the local tipd)\n\n"
          "usage: tip [--socket PATH] [--json] [--color auto|always|never] COMMAND [ARGS...]\n\n"
          "Commands:\n",
          f);
    for (size_t i = 0; i < S_NCMDS; i++)
        fprintf(f, "  %-9s %s\n", s_cmds[i]->name, s_cmds[i]->summary);
    fputc('\n', f);
    fputs(s_global_help, f);
    fputc('\n', f);
    fputs(s_exit_help, f);
    fputc('\n', f);
    fputs(s_env_help, f);
    fputs("\nIds: any unique prefix of 4 or more hex characters works wherever an id does.\n"
          "Run 'tip help COMMAND' for a command's options and examples.\n",
          f);
}

void cmd_print_help(const cmd_t *cmd, FILE *f)
{
    fprintf(f, "usage: tip %s\n\n%s\n", cmd->synopsis, cmd->summary);
    if (cmd->help) fprintf(f, "\n%s", cmd->help);
    fprintf(f, "\n%s", s_global_help);
}

static int s_help_run(cli_t *cli, const cmd_t *self, int argc, char **argv)
{
    if (argc > 2) return cli_usage(cli, self, "too many arguments");
    out_begin(cli, 1);
    int rc = 0;
    if (argc == 2) {
        const cmd_t *c = cmd_find(argv[1]);
        if (!c) {
            out_end(cli);
            return cli_usage(cli, self, "no command '%s'", argv[1]);
        }
        cmd_print_help(c, cli->out);
    } else {
        s_print_overview(cli->out);
    }
    out_end(cli);
    return rc;
}

const cmd_t cmd_help = {
    .name = "help",
    .run = s_help_run,
    .synopsis = "help [COMMAND]",
    .summary = "show help for tip or one command",
    .help = "Examples:\n  tip help\n  tip help add\n",
};

/* Parse a --color value. */
static int s_color_mode(const char *v)
{
    if (!strcmp(v, "auto")) return CLI_COLOR_AUTO;
    if (!strcmp(v, "always")) return CLI_COLOR_ALWAYS;
    if (!strcmp(v, "never")) return CLI_COLOR_NEVER;
    return -1;
}

/* Consume a global option at argv[i] if it is one. Returns how many argv
 * slots it used (0 = not a global option, -1 = bad value, printed). */
static int s_global_opt(cli_t *cli, int argc, char **argv, int i, int *help)
{
    const char *a = argv[i];
    if (!strcmp(a, "--json")) {
        cli->json = 1;
        return 1;
    }
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
        *help = 1;
        return 1;
    }
    if (!strcmp(a, "--version")) {
        *help = 2; /* print the version instead of running anything */
        return 1;
    }
    const char *names[] = {"--socket", "--color"};
    for (int k = 0; k < 2; k++) {
        size_t n = strlen(names[k]);
        const char *val = NULL;
        int used = 0;
        if (!strcmp(a, names[k])) {
            if (i + 1 >= argc) {
                cli_usage(cli, NULL, "option '%s' needs a value", a);
                return -1;
            }
            val = argv[i + 1];
            used = 2;
        } else if (!strncmp(a, names[k], n) && a[n] == '=') {
            val = a + n + 1;
            used = 1;
        } else {
            continue;
        }
        if (k == 0) {
            if (!*val) {
                cli_usage(cli, NULL, "--socket needs a path (tipd's API socket)");
                return -1;
            }
            cli->socket = val;
        } else {
            int m = s_color_mode(val);
            if (m < 0) {
                cli_usage(cli, NULL, "--color takes auto, always or never, not '%s'", val);
                return -1;
            }
            cli->color_mode = m;
        }
        return used;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cli_t cli = {.socket = getenv("TIP_SOCKET"), .out = stdout};
    if (!cli.socket || !*cli.socket) cli.socket = CONTRACT_DEFAULT_SOCKET;

    /* Lift global options out of argv, wherever they are (until "--"),
     * keeping everything else in order. */
    int help = 0, nargs = 0, dashdash = 0;
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args) return cli_fail(&cli, CLI_EXIT_ERROR, "out of memory");
    for (int i = 1; i < argc; i++) {
        if (!dashdash && !strcmp(argv[i], "--")) {
            dashdash = 1;
            args[nargs++] = argv[i];
            continue;
        }
        int used = dashdash ? 0 : s_global_opt(&cli, argc, argv, i, &help);
        if (used < 0) {
            free(args);
            return CLI_EXIT_USAGE;
        }
        if (used == 0) {
            args[nargs++] = argv[i];
        } else {
            i += used - 1;
        }
    }
    out_setup(&cli);

    int rc;
    if (help == 2) {
        free(args);
        if (cli.json) {
            printf("{\"version\":\"%s\"}\n", TIPD_VERSION);
        } else {
            printf("tip %s\n", TIPD_VERSION);
        }
        return 0;
    }
    if (nargs == 0 || (args[0][0] == '-' && strcmp(args[0], "--") != 0)) {
        if (nargs == 0 && help) {
            out_begin(&cli, 1);
            s_print_overview(cli.out);
            out_end(&cli);
            rc = 0;
        } else if (nargs == 0) {
            s_print_overview(stderr);
            rc = CLI_EXIT_USAGE;
        } else {
            rc = cli_usage(&cli, NULL, "unknown option '%s'", args[0]);
        }
        free(args);
        return rc;
    }
    const cmd_t *cmd = cmd_find(args[0]);
    if (!cmd) {
        rc = cli_usage(&cli, NULL, "no command '%s'", args[0]);
    } else if (help) {
        out_begin(&cli, 1);
        cmd_print_help(cmd, cli.out);
        out_end(&cli);
        rc = 0;
    } else {
        rc = cmd->run(&cli, cmd, nargs, args);
        out_end(&cli);
    }
    client_destroy(&cli.client);
    free(args);
    return rc;
}
