/* config.c -- tipd settings from defaults, an INI file (inih) and argv.
 *
 * inih reads the file through our own line reader so that we know the line
 * number of everything the handler sees, and so that we can report lines
 * inih would silently mangle: lines longer than its buffer (it would split
 * them) and lines that are neither a comment, a [section] nor key = value
 * (inih only reports the first such line; we report each one and hand inih a
 * blank line instead). Values are checked here, once, for both sources, so a
 * key means the same thing on the command line and in the file.
 */
#include "config.h"
#include "endpoint.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_defaults(cfg_t *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->data, sizeof(c->data), "%s", CFG_DEFAULT_DATA);
    snprintf(c->api, sizeof(c->api), "%s", CONTRACT_DEFAULT_SOCKET);
    snprintf(c->listen, sizeof(c->listen), "%s", CFG_DEFAULT_LISTEN);
    c->log_level = LOG_I;
}

static const char *const s_levels[] = {
    [LOG_E] = "error", [LOG_W] = "warning", [LOG_N] = "notice", [LOG_I] = "info", [LOG_D] = "debug",
};

int cfg_log_level_from_name(const char *s)
{
    for (int i = LOG_E; i <= LOG_D; i++)
        if (strcasecmp(s, s_levels[i]) == 0) return i;
    if (strcasecmp(s, "warn") == 0) return LOG_W;
    if (strcasecmp(s, "err") == 0) return LOG_E;
    return -1;
}

const char *cfg_log_level_name(int level)
{
    if (level < LOG_E || level > LOG_D) return "?";
    return s_levels[level];
}

/* Parse a yes/no word. 1, 0, or -1 if it is neither. */
static int s_bool(const char *v)
{
    static const char *const yes[] = {"1", "yes", "true", "on"};
    static const char *const no[] = {"0", "no", "false", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return 1;
        if (strcasecmp(v, no[i]) == 0) return 0;
    }
    return -1;
}

/* v made safe to quote in a message: printable ASCII as is, every other byte
 * as \xHH (a config line may hold anything), cut with "..." to fit buf. */
static const char *s_show(const char *v, char *buf, size_t cap)
{
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        size_t need = (*p >= ' ' && *p < 0x7f) ? 1 : 4;
        if (k + need + 4 > cap) {
            memcpy(buf + k, "...", 4);
            return buf;
        }
        if (need == 1)
            buf[k++] = (char)*p;
        else
            k += (size_t)snprintf(buf + k, cap - k, "\\x%02x", *p);
    }
    buf[k] = '\0';
    return buf;
}

int cfg_check_endpoint(const char *ep, int listen, char *msg, size_t msglen)
{
    char q[80];
    const char *show = s_show(ep, q, sizeof(q));
    const char *want = listen ? "tcp://*:7714" : "tcp://host:7714";
    endpoint_t e;
    switch (endpoint_parse(ep, &e)) {
    case ENDPOINT_OK:
        break;
    case ENDPOINT_E_SCHEME:
        snprintf(msg, msglen, "'%s' is not a tcp:// endpoint (like %s)", show, want);
        return -1;
    case ENDPOINT_E_HOSTPORT:
        snprintf(msg, msglen, "'%s' needs a host and a port (like %s)", show, want);
        return -1;
    case ENDPOINT_E_BRACKETS:
        snprintf(msg, msglen, "'%s': an IPv6 address goes in brackets ([::1]:7714)", show);
        return -1;
    case ENDPOINT_E_HOST:
        snprintf(msg, msglen, "'%s': the host has a space or '/'", show);
        return -1;
    case ENDPOINT_E_PORT:
        snprintf(msg, msglen, "'%s': port must be a number from %d to 65535", show, listen ? 0 : 1);
        return -1;
    }
    if (!listen && e.port == 0) {
        snprintf(msg, msglen, "'%s': port must be a number from 1 to 65535", show);
        return -1;
    }
    if (!listen && !strcmp(e.host, "*")) {
        snprintf(msg, msglen, "'%s': a peer needs a host, not '*'", show);
        return -1;
    }
    return 0;
}

/* Copy v into dst[cap] or complain that it is too long / empty. */
static int s_copy(char *dst, size_t cap, const char *key, const char *v, char *msg, size_t msglen)
{
    size_t n = strlen(v);
    if (n == 0) {
        snprintf(msg, msglen, "%s must not be empty", key);
        return -1;
    }
    if (n >= cap) {
        snprintf(msg, msglen, "%s is too long (at most %zu bytes)", key, cap - 1);
        return -1;
    }
    memcpy(dst, v, n + 1);
    return 0;
}

/* Normalise a key: lower case, '_' -> '-'. */
static void s_norm_key(const char *key, char *out, size_t cap)
{
    size_t i = 0;
    for (; key[i] && i + 1 < cap; i++) {
        char ch = key[i];
        if (ch == '_') ch = '-';
        if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
        out[i] = ch;
    }
    out[i] = '\0';
}

int cfg_set(cfg_t *c, const char *key_in, const char *v, char *msg, size_t msglen)
{
    char key[32], q[80];
    s_norm_key(key_in, key, sizeof(key));
    if (strcmp(key, "data") == 0) return s_copy(c->data, sizeof(c->data), key, v, msg, msglen);
    if (strcmp(key, "api") == 0) return s_copy(c->api, sizeof(c->api), key, v, msg, msglen);
    if (strcmp(key, "network-key") == 0) {
        if (v[0] == '\0') { /* explicit "network-key =" means open network */
            c->network_key[0] = '\0';
            return 0;
        }
        return s_copy(c->network_key, sizeof(c->network_key), key, v, msg, msglen);
    }
    if (strcmp(key, "listen") == 0) {
        if (cfg_check_endpoint(v, 1, msg, msglen) < 0) return -1;
        return s_copy(c->listen, sizeof(c->listen), key, v, msg, msglen);
    }
    if (strcmp(key, "peer") == 0) {
        if (cfg_check_endpoint(v, 0, msg, msglen) < 0) return -1;
        for (size_t i = 0; i < c->npeers; i++)
            if (strcmp(c->peers[i], v) == 0) return 0; /* listed twice: once is enough */
        if (c->npeers >= CFG_MAX_PEERS) {
            snprintf(msg, msglen, "too many peers (at most %d)", CFG_MAX_PEERS);
            return -1;
        }
        if (s_copy(c->peers[c->npeers], CFG_MAX_ENDPOINT, key, v, msg, msglen) < 0) return -1;
        c->npeers++;
        return 0;
    }
    if (strcmp(key, "no-discovery") == 0) {
        int b = s_bool(v);
        if (b < 0) {
            snprintf(msg, msglen, "no-discovery must be yes or no, not '%s'",
                     s_show(v, q, sizeof(q)));
            return -1;
        }
        c->no_discovery = b;
        return 0;
    }
    if (strcmp(key, "name") == 0) {
        for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
            if (*p < ' ' || *p == 0x7f) {
                snprintf(msg, msglen, "name must not contain control characters");
                return -1;
            }
        }
        return s_copy(c->name, sizeof(c->name), key, v, msg, msglen);
    }
    if (strcmp(key, "log-level") == 0) {
        int l = cfg_log_level_from_name(v);
        if (l < 0) {
            snprintf(msg, msglen,
                     "log-level must be one of error, warning, notice, info, debug, not '%s'",
                     s_show(v, q, sizeof(q)));
            return -1;
        }
        c->log_level = l;
        return 0;
    }
    snprintf(msg, msglen, "unknown key '%s'", s_show(key_in, q, sizeof(q)));
    return -1;
}

static void s_err(cfg_errors_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_err(cfg_errors_t *e, const char *fmt, ...)
{
    if (!e || e->n >= CFG_MAX_ERRORS) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg[e->n++], sizeof(e->msg[0]), fmt, ap);
    va_end(ap);
}

/* State shared by the line reader and the handler during one parse. */
typedef struct {
    cfg_t *cfg;
    const char *path;
    cfg_errors_t *errs;
    int bad;
    int line;
    /* source: a FILE or a string */
    FILE *f;
    const char *s;
    char *buf;
    size_t bufcap;
} s_parse_t;

/* 1 if the (already trimmed-left) line is one inih understands. */
static int s_line_ok(const char *p)
{
    if (*p == '\0' || *p == '\n' || *p == '\r' || *p == ';' || *p == '#') return 1;
    if (*p == '[') return strchr(p, ']') != NULL;
    /* key = value / key: value, with a non-empty key */
    size_t k = strcspn(p, "=:");
    return p[k] != '\0' && k > 0;
}

/* ini_reader: hand inih one line at a time, counting lines and replacing
 * lines it would misread by an empty one after reporting them. */
static char *s_reader(char *str, int num, void *stream)
{
    s_parse_t *ps = stream;
    ssize_t n;
    if (ps->f) {
        n = getline(&ps->buf, &ps->bufcap, ps->f);
        if (n < 0) return NULL;
    } else {
        if (!ps->s || *ps->s == '\0') return NULL;
        const char *nl = strchr(ps->s, '\n');
        size_t len = nl ? (size_t)(nl - ps->s) + 1 : strlen(ps->s);
        if (len + 1 > ps->bufcap) {
            char *nb = realloc(ps->buf, len + 1);
            if (!nb) return NULL;
            ps->buf = nb;
            ps->bufcap = len + 1;
        }
        memcpy(ps->buf, ps->s, len);
        ps->buf[len] = '\0';
        ps->s += len;
        n = (ssize_t)len;
    }
    ps->line++;
    const char *p = ps->buf;
    if (ps->line == 1 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
        (unsigned char)p[2] == 0xBF)
        p += 3;
    while (*p == ' ' || *p == '\t') p++;
    int continuation = p != ps->buf && !strchr(";#\r\n", *p);
    if ((size_t)n + 1 > (size_t)num) {
        s_err(ps->errs, "%s:%d: line too long (at most %d bytes)", ps->path, ps->line, num - 2);
        ps->bad = 1;
        snprintf(str, (size_t)num, "\n");
        return str;
    }
    if (memchr(ps->buf, '\0', (size_t)n)) {
        s_err(ps->errs, "%s:%d: NUL byte in line", ps->path, ps->line);
        ps->bad = 1;
        snprintf(str, (size_t)num, "\n");
        return str;
    }
    if (continuation) {
        /* inih would append it to the previous key; tipd has no multi-line
         * values, so an indented line is simply read as its own line. */
        snprintf(str, (size_t)num, "%s", p);
        p = str;
    } else {
        memcpy(str, ps->buf, (size_t)n + 1);
    }
    if (!s_line_ok(p)) {
        s_err(ps->errs, "%s:%d: expected 'key = value', a [section] or a comment", ps->path,
              ps->line);
        ps->bad = 1;
        snprintf(str, (size_t)num, "\n");
    }
    return str;
}

/* The origin slot of a key whose value is checked after parsing, or NULL. */
static int *s_line_of(cfg_t *c, const char *key)
{
    if (strcmp(key, "data") == 0) return &c->line_data;
    if (strcmp(key, "api") == 0) return &c->line_api;
    if (strcmp(key, "network-key") == 0) return &c->line_netkey;
    return NULL;
}

const char *cfg_origin(const cfg_t *c, const char *key, char *buf, size_t cap)
{
    const int *l = s_line_of((cfg_t *)c, key); /* read only */
    int line = l ? *l : 0;
    if (line == CFG_LINE_ARGV)
        snprintf(buf, cap, "--%s: ", key);
    else if (line > 0 && c->src_file)
        snprintf(buf, cap, "%s:%d: ", c->src_file, line);
    else
        buf[0] = '\0';
    return buf;
}

static int s_handler(void *user, const char *section, const char *name, const char *value)
{
    s_parse_t *ps = user;
    if (section[0] && strcasecmp(section, "tipd") != 0) {
        char q[80];
        s_err(ps->errs, "%s:%d: unknown section [%s] (keys go at the top or under [tipd])",
              ps->path, ps->line, s_show(section, q, sizeof(q)));
        ps->bad = 1;
        return 1; /* keep going: we report every bad line ourselves */
    }
    char msg[CFG_MAX_PATH + 64], key[32];
    if (cfg_set(ps->cfg, name, value, msg, sizeof(msg)) < 0) {
        s_err(ps->errs, "%s:%d: %s", ps->path, ps->line, msg);
        ps->bad = 1;
        return 1;
    }
    s_norm_key(name, key, sizeof(key));
    int *line = s_line_of(ps->cfg, key);
    if (line) {
        *line = ps->line;
        ps->cfg->src_file = ps->path;
    }
    return 1;
}

static int s_parse(s_parse_t *ps)
{
    int rc = ini_parse_stream(s_reader, ps, s_handler, ps);
    free(ps->buf);
    ps->buf = NULL;
    if (rc > 0 && !ps->bad) { /* inih saw something our reader let through */
        s_err(ps->errs, "%s:%d: syntax error", ps->path, rc);
        ps->bad = 1;
    } else if (rc < 0) {
        s_err(ps->errs, "%s: out of memory while parsing", ps->path);
        ps->bad = 1;
    }
    return ps->bad ? -1 : 0;
}

int cfg_load_file(cfg_t *c, const char *path, int must_exist, cfg_errors_t *errs)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT && !must_exist) return 1;
        s_err(errs, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    s_parse_t ps = {.cfg = c, .path = path, .errs = errs, .f = f};
    int rc = s_parse(&ps);
    if (ferror(f)) {
        s_err(errs, "%s: cannot read: %s", path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    return rc;
}

int cfg_load_string(cfg_t *c, const char *path, const char *text, cfg_errors_t *errs)
{
    s_parse_t ps = {.cfg = c, .path = path, .errs = errs, .s = text};
    return s_parse(&ps);
}

int cfg_overlay(cfg_t *c, const cfg_args_t *a, cfg_errors_t *errs)
{
    const cfg_t *o = &a->cfg;
    if (a->set & CFG_SET_DATA) memcpy(c->data, o->data, sizeof(c->data));
    if (a->set & CFG_SET_DATA) c->line_data = CFG_LINE_ARGV;
    if (a->set & CFG_SET_API) memcpy(c->api, o->api, sizeof(c->api));
    if (a->set & CFG_SET_API) c->line_api = CFG_LINE_ARGV;
    if (a->set & CFG_SET_NETKEY) c->line_netkey = CFG_LINE_ARGV;
    if (a->set & CFG_SET_LISTEN) memcpy(c->listen, o->listen, sizeof(c->listen));
    if (a->set & CFG_SET_NODISC) c->no_discovery = o->no_discovery;
    if (a->set & CFG_SET_NETKEY) memcpy(c->network_key, o->network_key, sizeof(c->network_key));
    if (a->set & CFG_SET_NAME) memcpy(c->name, o->name, sizeof(c->name));
    if (a->set & CFG_SET_LOGLEVEL) c->log_level = o->log_level;
    for (size_t i = 0; i < o->npeers; i++) {
        char msg[128];
        if (cfg_set(c, "peer", o->peers[i], msg, sizeof(msg)) < 0) {
            s_err(errs, "--peer: %s", msg);
            return -1;
        }
    }
    return 0;
}

int cfg_build(cfg_t *out, const cfg_args_t *a, const char **used_file, cfg_errors_t *errs)
{
    cfg_t c;
    cfg_defaults(&c);
    const char *path = a->config ? a->config : CFG_DEFAULT_FILE;
    int rc = cfg_load_file(&c, path, a->config != NULL, errs);
    if (rc < 0) return -1;
    if (used_file) *used_file = rc == 1 ? NULL : path;
    if (cfg_overlay(&c, a, errs) < 0) return -1;
    *out = c;
    return 0;
}
