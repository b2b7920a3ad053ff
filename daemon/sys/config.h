/* config.h -- tipd's settings: defaults, the INI file and the command line.
 *
 * The same keys work in both places (tipd.conf.example and README list them):
 *
 *   data, api, listen, peer (repeatable), no-discovery, network-key, name,
 *   log-level
 *
 * Precedence: built-in defaults < config file < command line. Command-line
 * values are kept apart (cfg_args_t) so a SIGHUP reload re-reads the file and
 * lays the same command line over it again. --peer on the command line adds to
 * the file's `peer =` lines rather than replacing them.
 *
 * Every error names where it is: "FILE:LINE: message" for the file,
 * "--key: message" for the command line.
 */
#ifndef TIPD_CONFIG_H
#define TIPD_CONFIG_H

#include <stddef.h>

#include "contract.h"
#include "loglevel.h"

#define CFG_DEFAULT_FILE   "/etc/tipd/tipd.conf"
#define CFG_DEFAULT_DATA   "/var/lib/tipd"
#define CFG_DEFAULT_LISTEN "tcp://*:7714" /* GOSSIP_DEFAULT_PORT */

#define CFG_MAX_PATH     1024
#define CFG_MAX_ENDPOINT 300
#define CFG_MAX_PEERS    64
#define CFG_MAX_NAME     63
#define CFG_MAX_ERRORS   32

/* syslog priorities, as used by log.h */

typedef struct {
    char data[CFG_MAX_PATH];
    char api[CFG_MAX_PATH];
    char listen[CFG_MAX_ENDPOINT];
    size_t npeers;
    char peers[CFG_MAX_PEERS][CFG_MAX_ENDPOINT];
    int no_discovery;
    char network_key[CFG_MAX_PATH]; /* "" = open network */
    char name[CFG_MAX_NAME + 1];    /* "" = host name */
    int log_level;                  /* LOG_E .. LOG_D: messages above it are dropped */
    /* Where the paths that are checked only later (at start or by -n) were
     * set, so a problem with them still names FILE:LINE: a line of src_file,
     * CFG_LINE_ARGV for the command line, 0 for the built-in default. */
    const char *src_file;
    int line_data, line_api, line_netkey;
} cfg_t;

#define CFG_LINE_ARGV (-1)

/* Which fields the command line set (bitmask). */
enum {
    CFG_SET_DATA = 1 << 0,
    CFG_SET_API = 1 << 1,
    CFG_SET_LISTEN = 1 << 2,
    CFG_SET_NODISC = 1 << 3,
    CFG_SET_NETKEY = 1 << 4,
    CFG_SET_NAME = 1 << 5,
    CFG_SET_LOGLEVEL = 1 << 6,
};

/* Error messages collected by a parse, each one line. */
typedef struct {
    size_t n;
    char msg[CFG_MAX_ERRORS][CFG_MAX_PATH + 128];
} cfg_errors_t;

typedef struct {
    cfg_t cfg;          /* command-line values (peers: the --peer list) */
    unsigned set;       /* CFG_SET_* */
    const char *config; /* --config FILE, or NULL */
} cfg_args_t;

/* Built-in defaults. */
void cfg_defaults(cfg_t *c);

/* Apply one key = value (from either source) to c. 0, or -1 with a message in
 * msg ("unknown key 'x'", "log-level must be one of ..."). */
int cfg_set(cfg_t *c, const char *key, const char *value, char *msg, size_t msglen);

/* Parse an INI file over c (keys at the top or under [tipd]). Every bad line
 * adds "FILE:LINE: message" to errs. Returns 0 if the file was clean, -1 if
 * it had errors (c then holds the good lines' values; callers should not use
 * it) or cannot be read ("FILE: cannot read: reason"). If the file does not
 * exist and must_exist is 0, returns 1 and leaves c alone. */
int cfg_load_file(cfg_t *c, const char *path, int must_exist, cfg_errors_t *errs);

/* Parse a string as if it were the file named path (for tests). */
int cfg_load_string(cfg_t *c, const char *path, const char *text, cfg_errors_t *errs);

/* Lay the command-line values of a over c (peers are appended). 0, or -1 if
 * the peer list overflows (message in errs). */
int cfg_overlay(cfg_t *c, const cfg_args_t *a, cfg_errors_t *errs);

/* The whole start-up / reload sequence: defaults, the file (a->config, else
 * CFG_DEFAULT_FILE which may be missing), then the command line. *used_file
 * (if not NULL) gets the file actually read or NULL. 0 or -1 (errs filled). */
int cfg_build(cfg_t *out, const cfg_args_t *a, const char **used_file, cfg_errors_t *errs);

/* "error", "warning", "notice", "info", "debug" <-> LOG_E .. LOG_D. */
int cfg_log_level_from_name(const char *s);
const char *cfg_log_level_name(int level);

/* "FILE:LINE: " where key (data, api or network-key) was set in the config
 * file, "--KEY: " when on the command line, "" for a default; into buf. */
const char *cfg_origin(const cfg_t *c, const char *key, char *buf, size_t cap);

/* Validate an endpoint "tcp://host:port" (listen also allows "*" and port 0).
 * 0 or -1 with a message. */
int cfg_check_endpoint(const char *ep, int listen, char *msg, size_t msglen);

#endif
