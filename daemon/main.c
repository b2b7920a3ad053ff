/* main.c -- tipd: command line, start-up, the loop, reload and shutdown.
 *
 *   tipd [--config FILE] [--data DIR] [--api PATH] [--listen ENDPOINT]
 *        [--peer ENDPOINT]... [--no-discovery] [--network-key FILE]
 *        [--name NAME] [--log-level LEVEL]
 *   tipd -n [options]        check config, data dir and keys; print a summary
 *   tipd genkey FILE         write a new network key (64 hex + newline, 0600)
 *
 * Start-up order matters and is what the rest of the daemon relies on: the
 * config is complete and valid before anything touches the disk; the node key
 * and the store are open before the API socket exists; the API socket is
 * bound (and answering) before READY=1; the network layer (peers, gossip,
 * discovery) starts after the store and ingest so it can listen to ingest.
 * Shutdown runs the other way and commits the open ingest batch before the
 * store closes, so SIGTERM never loses an acknowledged or queued event.
 *
 * Signals arrive through a signalfd on the loop (blocked in every thread,
 * including the verify workers, which inherit the mask), so handlers are
 * ordinary callbacks with no async-signal-safety concerns.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "api.h"
#include "api_ops.h"
#include "config.h"
#include "daemon.h"
#include "gossip.h"
#include "ident.h"
#include "ingest.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "path.h"
#include "peers.h"
#include "safefile.h"
#include "store.h"
#include "store_agg.h"
#include "views.h"
#include "zlive.h"

#define S_STATUS_MS  5000      /* how often STATUS= is refreshed */
#define S_MALLOC_BIG (4 << 20) /* see s_malloc_policy */

typedef struct {
    tipd_t d;
    cfg_args_t args;
    notify_t *notify;
    zlive_t *zlive; /* is ZeroMQ's I/O thread moving messages? (feeds the watchdog) */
    loop_watch_t *sigw;
    loop_timer_t *status_timer;
    int sigfd;
    int lockfd; /* flock on DATA/tipd.lock: one daemon per data directory */
    int exit_code;
} s_main_t;

/* glibc raises its mmap and trim thresholds each time a big block is freed
 * (up to 32 and 64 MiB), and malloc_trim() never shortens the top of a
 * thread's arena: after a large import the writer's arena kept 15-19 MiB
 * of freed pages for good, more or less by chance, a quarter of the memory
 * budget. With fixed thresholds a new block of 4 MiB or more that no free
 * chunk holds (the sync set, the writer's index tables) gets a mapping of
 * its own, given back when freed, and every arena returns a free top above
 * 4 MiB as it frees. */
static void s_malloc_policy(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, S_MALLOC_BIG);
    mallopt(M_TRIM_THRESHOLD, S_MALLOC_BIG);
#endif
}

static void s_usage(FILE *f)
{
    fprintf(f,
            "usage: tipd [OPTIONS]          run the daemon (in the foreground)\n"
            "       tipd -n [OPTIONS]       check the configuration and exit\n"
            "       tipd genkey FILE        write a new network key to FILE\n"
            "\n"
            "options (each also works as a key in the config file, without the dashes):\n"
            "  --config FILE        config file (default %s; a missing default is fine)\n"
            "  --data DIR           data directory: store and node key (default %s)\n"
            "  --api PATH           local API socket (default %s)\n"
            "  --listen ENDPOINT    gossip endpoint (default %s)\n"
            "  --peer ENDPOINT      static peer tcp://HOST:PORT (repeatable)\n"
            "  --no-discovery       no mDNS: static peers only\n"
            "  --network-key FILE   network key (tipd genkey); without one the network is open\n"
            "  --name NAME          name shown to peers (default: the host name)\n"
            "  --log-level LEVEL    error, warning, notice, info (default) or debug\n"
            "  -n, --check          check config, data directory and keys, then exit\n"
            "  -h, --help           this help\n"
            "  -V, --version        print the version\n",
            CFG_DEFAULT_FILE, CFG_DEFAULT_DATA, CONTRACT_DEFAULT_SOCKET, CFG_DEFAULT_LISTEN);
}

static int s_genkey(int argc, char **argv)
{
    if (argc != 3 || argv[2][0] == '-') {
        fprintf(stderr, "usage: tipd genkey FILE\n");
        return 2;
    }
    char err[512];
    if (ident_netkey_generate(argv[2], err, sizeof(err)) < 0) {
        fprintf(stderr, "tipd: %s\n", err);
        return 1;
    }
    printf("wrote network key %s (mode 0600); copy it to every tipd of the office network\n",
           argv[2]);
    return 0;
}

/* Parse argv into a->cfg / a->set. Returns 0, 1 (exit 0: help/version),
 * or -1 (usage error, printed). *check gets -n. */
static int s_parse_args(int argc, char **argv, cfg_args_t *a, int *check)
{
    enum { O_DATA = 256, O_API, O_LISTEN, O_PEER, O_NODISC, O_NETKEY, O_NAME, O_LOGLEVEL, O_CFG };
    static const struct option opts[] = {
        {"config", required_argument, NULL, O_CFG},
        {"data", required_argument, NULL, O_DATA},
        {"api", required_argument, NULL, O_API},
        {"listen", required_argument, NULL, O_LISTEN},
        {"peer", required_argument, NULL, O_PEER},
        {"no-discovery", no_argument, NULL, O_NODISC},
        {"network-key", required_argument, NULL, O_NETKEY},
        {"name", required_argument, NULL, O_NAME},
        {"log-level", required_argument, NULL, O_LOGLEVEL},
        {"check", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static const struct {
        int opt;
        const char *key;
        unsigned set;
    } keys[] = {
        {O_DATA, "data", CFG_SET_DATA},
        {O_API, "api", CFG_SET_API},
        {O_LISTEN, "listen", CFG_SET_LISTEN},
        {O_PEER, "peer", 0},
        {O_NETKEY, "network-key", CFG_SET_NETKEY},
        {O_NAME, "name", CFG_SET_NAME},
        {O_LOGLEVEL, "log-level", CFG_SET_LOGLEVEL},
    };
    memset(a, 0, sizeof(*a));
    cfg_defaults(&a->cfg);
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":nhV", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            *check = 1;
            continue;
        case 'h':
            s_usage(stdout);
            return 1;
        case 'V':
            printf("tipd %s\n", TIPD_VERSION);
            return 1;
        case O_CFG:
            a->config = optarg;
            continue;
        case O_NODISC:
            a->cfg.no_discovery = 1;
            a->set |= CFG_SET_NODISC;
            continue;
        case ':':
            fprintf(stderr, "tipd: %s needs a value (tipd --help)\n", argv[optind - 1]);
            return -1;
        case '?':
            if (optopt)
                fprintf(stderr, "tipd: unknown option -%c (tipd --help)\n", optopt);
            else
                fprintf(stderr, "tipd: unknown option %s (tipd --help)\n", argv[optind - 1]);
            return -1;
        default:
            break;
        }
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            if (keys[i].opt != c) continue;
            char msg[CFG_MAX_PATH + 64];
            if (cfg_set(&a->cfg, keys[i].key, optarg, msg, sizeof(msg)) < 0) {
                fprintf(stderr, "tipd: --%s: %s\n", keys[i].key, msg);
                return -1;
            }
            a->set |= keys[i].set;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tipd: unexpected argument '%s' (tipd --help)\n", argv[optind]);
        return -1;
    }
    return 0;
}

static void s_print_errors(const cfg_errors_t *e, int to_log)
{
    for (size_t i = 0; i < e->n; i++) {
        if (to_log)
            log_msg(LOG_E, "%s", e->msg[i]);
        else
            fprintf(stderr, "%s\n", e->msg[i]);
    }
    if (e->n == CFG_MAX_ERRORS) {
        if (to_log)
            log_msg(LOG_E, "(more errors not shown)");
        else
            fprintf(stderr, "(more errors not shown)\n");
    }
}

static void s_node_key_path(const cfg_t *c, char *out, size_t cap)
{
    snprintf(out, cap, "%s/node.key", c->data);
}

static void s_default_name(tipd_t *d)
{
    if (d->cfg.name[0]) {
        snprintf(d->name, sizeof(d->name), "%s", d->cfg.name);
        return;
    }
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) < 0 || !host[0]) snprintf(host, sizeof(host), "tipd");
    snprintf(d->name, sizeof(d->name), "%.63s", host);
}

/* Everything tipd keeps in its data directory: none may be a link or
 * another user's file (safefile.h). */
static const char *const s_data_files[] = {"node.key", "data.mdb", "lock.mdb", "tipd.lock", NULL};

/* The data directory is ours alone and holds nothing planted. 0 or -1. */
static int s_data_safe(const cfg_t *c, char *err, size_t errlen)
{
    if (safefile_check_dir(c->data, "data directory", err, errlen) < 0) return -1;
    return safefile_check_entries(c->data, s_data_files, err, errlen);
}

/* 1 if a missing path could be created: its nearest existing ancestor is a
 * directory this user may write to (named in anc either way). */
static int s_creatable(const char *path, char *anc, size_t cap)
{
    snprintf(anc, cap, "%s", path);
    for (;;) {
        char *slash = strrchr(anc, '/');
        if (!slash) {
            snprintf(anc, cap, ".");
            break;
        }
        if (slash == anc) {
            anc[1] = '\0';
            break;
        }
        *slash = '\0';
        if (access(anc, F_OK) == 0) break;
    }
    struct stat st;
    return stat(anc, &st) == 0 && S_ISDIR(st.st_mode) && access(anc, W_OK | X_OK) == 0;
}

/* Why store_new failed, for one log line: the code's reason, except that an
 * LMDB failure is told by LMDB's own words (why) rather than "see the log". */
static const char *s_store_reason(int rc, const char *why)
{
    return rc == STORE_E_LMDB && *why ? "the database failed" : store_strerror(rc);
}

/* tipd -n: everything start-up would check, without changing anything.
 * Returns the exit code. */
static int s_check(const cfg_t *c, const char *cfg_file)
{
    int bad = 0;
    char err[1024], org[CFG_MAX_PATH + 32], dorg[CFG_MAX_PATH + 32];
    cfg_origin(c, "data", dorg, sizeof(dorg));
    printf("config:      %s\n", cfg_file ? cfg_file : "(none, built-in defaults)");
    struct stat st;
    if (stat(c->data, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            printf("data:        %s: ERROR: %snot a directory\n", c->data, dorg);
            bad = 1;
        } else if (s_data_safe(c, err, sizeof(err)) < 0) {
            printf("data:        %s: ERROR: %s%s\n", c->data, dorg, err);
            bad = 1;
        } else if (access(c->data, R_OK | W_OK | X_OK) < 0) {
            printf("data:        %s: ERROR: %snot writable by this user (%s)\n", c->data, dorg,
                   strerror(errno));
            bad = 1;
        } else {
            char probe[CFG_MAX_PATH + 16];
            snprintf(probe, sizeof(probe), "%s/data.mdb", c->data);
            if (access(probe, F_OK) == 0) {
                char why[256] = "";
                store_opts_t so = {.read_only = 1, .why = why, .why_len = sizeof(why)};
                int rc = 0;
                store_t *s = store_new(c->data, &so, &rc);
                store_counts_t cnt = {0};
                if (!s || store_counts(s, &cnt) < 0) {
                    printf("data:        %s: ERROR: %sstore does not open: %s%s%s\n", c->data, dorg,
                           s_store_reason(rc, why), *why ? ": " : "", why);
                    bad = 1;
                } else {
                    printf("data:        %s (%llu events, %llu tips)\n", c->data,
                           (unsigned long long)cnt.events, (unsigned long long)cnt.tips);
                }
                store_destroy(&s);
            } else {
                printf("data:        %s (empty; the store will be created)\n", c->data);
            }
        }
    } else {
        char anc[CFG_MAX_PATH];
        if (s_creatable(c->data, anc, sizeof(anc)) &&
            safefile_check_parents(c->data, err, sizeof(err)) < 0) {
            printf("data:        %s: ERROR: %s%s\n", c->data, dorg, err);
            bad = 1;
        } else if (s_creatable(c->data, anc, sizeof(anc))) {
            printf("data:        %s (missing; will be created)\n", c->data);
        } else {
            printf("data:        %s: ERROR: %smissing, and %s is not a directory this user can "
                   "write to\n",
                   c->data, dorg, anc);
            bad = 1;
        }
    }
    char kp[CFG_MAX_PATH + 16];
    s_node_key_path(c, kp, sizeof(kp));
    if (access(kp, F_OK) == 0) {
        ident_t id;
        if (ident_load(kp, &id, err, sizeof(err)) < 0) {
            printf("node key:    ERROR: %s\n", err);
            bad = 1;
        } else {
            char hex[65];
            event_hex(id.pk, sizeof(id.pk), hex);
            printf("node key:    %s\n", hex);
        }
        ident_wipe(&id);
    } else {
        printf("node key:    %s (missing; will be created)\n", kp);
    }
    if (c->network_key[0]) {
        uint8_t key[32];
        if (ident_netkey_load(c->network_key, key, err, sizeof(err)) < 0) {
            printf("network:     ERROR: %s%s\n", cfg_origin(c, "network-key", org, sizeof(org)),
                   err);
            bad = 1;
        } else {
            char nid[17];
            ident_net_id(key, nid);
            printf("network:     %s (key %s)\n", nid, c->network_key);
        }
    } else {
        printf("network:     open (no network-key: any tipd on the LAN may join)\n");
    }
    char anc[CFG_MAX_PATH];
    if (s_creatable(c->api, anc, sizeof(anc))) {
        printf("api:         %s\n", c->api);
    } else {
        printf("api:         %s: ERROR: %s%s is not a directory this user can write to\n", c->api,
               cfg_origin(c, "api", org, sizeof(org)), anc);
        bad = 1;
    }
    printf("listen:      %s\n", c->listen);
    printf("discovery:   %s\n", c->no_discovery ? "off" : "mdns (avahi)");
    printf("peers:       %zu static\n", c->npeers);
    for (size_t i = 0; i < c->npeers; i++) printf("             %s\n", c->peers[i]);
    printf("name:        %s\n", c->name[0] ? c->name : "(host name)");
    printf("log-level:   %s\n", cfg_log_level_name(c->log_level));
    printf(bad ? "tipd: configuration has errors\n" : "tipd: configuration OK\n");
    return bad ? 1 : 0;
}

static void s_update_status(s_main_t *m)
{
    store_counts_t c = {0};
    if (store_counts(m->d.store, &c) < 0) return;
    notify_status(m->notify, "%llu tips, %zu peers", (unsigned long long)c.tips,
                  peers_daemon_linked(&m->d));
}

static void s_on_status_timer(loop_t *l, loop_timer_t *t, void *arg)
{
    (void)l;
    (void)t;
    s_update_status(arg);
}

/* SIGHUP: re-read the file and the same command line; a bad config is
 * logged line by line and the running one kept. Settings that need a
 * restart (data, api, listen, network-key) are reported, not applied. */
static void s_reload(s_main_t *m)
{
    tipd_t *d = &m->d;
    notify_reloading(m->notify);
    cfg_errors_t errs = {0};
    cfg_t c;
    const char *used = NULL;
    if (cfg_build(&c, &m->args, &used, &errs) < 0) {
        s_print_errors(&errs, 1);
        log_msg(LOG_E, "reload: configuration has errors; keeping the running one");
        notify_ready(m->notify, NULL);
        return;
    }
    static const struct {
        const char *key;
        size_t off;
    } restart[] = {
        {"data", offsetof(cfg_t, data)},
        {"api", offsetof(cfg_t, api)},
        {"listen", offsetof(cfg_t, listen)},
        {"network-key", offsetof(cfg_t, network_key)},
    };
    for (size_t i = 0; i < sizeof(restart) / sizeof(restart[0]); i++) {
        const char *now = (const char *)&d->cfg + restart[i].off;
        char *want = (char *)&c + restart[i].off;
        if (strcmp(now, want) != 0) {
            log_msg(LOG_W, "reload: %s changed to '%s'; restart tipd to apply it", restart[i].key,
                    want);
            /* keep describing what actually runs */
            memmove(want, now, strlen(now) + 1);
        }
    }
    d->cfg = c;
    log_set_level(c.log_level);
    s_default_name(d);
    peers_daemon_reload(d, d->gossip ? gossip_port(d->gossip) : peers_listen_port(d->cfg.listen));
    log_msg(LOG_I, "reloaded configuration from %s (%zu static peers, log-level %s)",
            used ? used : "defaults", c.npeers, cfg_log_level_name(c.log_level));
    notify_ready(m->notify, NULL);
}

static void s_on_signal(loop_t *l, loop_watch_t *w, short revents, void *arg)
{
    (void)w;
    (void)revents;
    s_main_t *m = arg;
    struct signalfd_siginfo si;
    while (read(m->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            s_reload(m);
        } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            log_msg(LOG_I, "%s: finishing the open batch and exiting",
                    si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
            loop_stop(l);
        }
    }
}

static int s_zmq_alive(void *arg)
{
    return zlive_ok(arg);
}

/* Open everything in start-up order. 0 or -1 (logged). */
static int s_start(s_main_t *m)
{
    tipd_t *d = &m->d;
    char err[1024], org[CFG_MAX_PATH + 32];
    d->started_ms = loop_now_ms();
    s_default_name(d);
    if (path_mkdir_p(d->cfg.data, 0700, NULL, 0) < 0) {
        log_msg(LOG_E, "%scannot create the data directory %s: %s",
                cfg_origin(&d->cfg, "data", org, sizeof(org)), d->cfg.data, strerror(errno));
        return -1;
    }
    if (s_data_safe(&d->cfg, err, sizeof(err)) < 0) {
        log_msg(LOG_E, "%s%s", cfg_origin(&d->cfg, "data", org, sizeof(org)), err);
        return -1;
    }
    /* Two daemons on one data directory would share a node key and look
     * like one node to every peer; LMDB would let them, so we refuse. */
    char lp[CFG_MAX_PATH + 16];
    snprintf(lp, sizeof(lp), "%s/tipd.lock", d->cfg.data);
    m->lockfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (m->lockfd < 0) {
        log_msg(LOG_E, "cannot open %s: %s", lp, strerror(errno));
        return -1;
    }
    if (flock(m->lockfd, LOCK_EX | LOCK_NB) < 0) {
        log_msg(LOG_E, "another tipd is already using the data directory %s", d->cfg.data);
        return -1;
    }
    char kp[CFG_MAX_PATH + 16];
    s_node_key_path(&d->cfg, kp, sizeof(kp));
    if (ident_load_or_create_path(kp, &d->node, err, sizeof(err)) < 0) {
        log_msg(LOG_E, "node key: %s", err);
        return -1;
    }
    event_hex(d->node.pk, sizeof(d->node.pk), d->node_hex);
    if (d->cfg.network_key[0]) {
        if (ident_netkey_load(d->cfg.network_key, d->netkey, err, sizeof(err)) < 0) {
            log_msg(LOG_E, "%snetwork key: %s",
                    cfg_origin(&d->cfg, "network-key", org, sizeof(org)), err);
            return -1;
        }
        d->has_netkey = 1;
        ident_net_id(d->netkey, d->net_id);
    } else {
        snprintf(d->net_id, sizeof(d->net_id), "open");
        log_msg(LOG_N, "no network key: this is an open network, any tipd on the LAN may join "
                       "(tipd genkey FILE; network-key = FILE)");
    }
    int rc = 0;
    char why[256] = "";
    store_opts_t so = {.why = why, .why_len = sizeof(why)};
    d->store = store_new(d->cfg.data, &so, &rc);
    if (!d->store) {
        log_msg(LOG_E, "cannot open the store in %s: %s%s%s", d->cfg.data, s_store_reason(rc, why),
                *why ? ": " : "", why);
        return -1;
    }
    double built_s = 0;
    uint64_t built = store_reindexed(d->store, &built_s);
    if (built)
        log_msg(LOG_N,
                "store: rebuilt the search index from %llu tips in %.1f s "
                "(an older tipd's index; done once)",
                (unsigned long long)built, built_s);
    built = store_agg_built(d->store, &built_s);
    if (built)
        log_msg(LOG_N,
                "store: built the stats figures from %llu held events in %.1f s "
                "(schema 4; done once)",
                (unsigned long long)built, built_s);
    d->loop = loop_new();
    d->zctx = zmq_ctx_new();
    if (!d->loop || !d->zctx) {
        log_msg(LOG_E, "out of memory");
        return -1;
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    m->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (m->sigfd < 0) {
        log_msg(LOG_E, "signalfd: %s", strerror(errno));
        return -1;
    }
    m->sigw = loop_watch_fd(d->loop, m->sigfd, ZMQ_POLLIN, s_on_signal, m);
    d->ingest = ingest_new(d->loop, d->store);
    if (!d->ingest) {
        log_msg(LOG_E, "cannot start ingest (out of memory or threads)");
        return -1;
    }
    d->api = api_new(d->loop, d->zctx, d->cfg.api, err, sizeof(err));
    if (!d->api) {
        log_msg(LOG_E, "%s", err);
        return -1;
    }
    d->views = views_cache_new();
    if (!d->views || api_loop_ops_register(d) < 0 || api_read_ops_register(d) < 0) {
        log_msg(LOG_E, "out of memory");
        return -1;
    }
    /* Reads run on their own threads so that no request holds up the loop
     * (gossip, ingest, other clients): docs/API.md, "Concurrency". */
    api_views_t views = api_read_views(d);
    if (api_readers_start(d->api, &views, API_READERS, err, sizeof(err)) < 0) {
        log_msg(LOG_E, "api: %s", err);
        return -1;
    }
    if (peers_daemon_init(d, err, sizeof(err)) < 0) {
        log_msg(LOG_E, "peers: %s", err);
        return -1;
    }
    /* Gossip after ingest, store and peers, before discovery so mDNS
     * publishes the port really bound. */
    {
        gossip_opts_t go = {
            .loop = d->loop,
            .zctx = d->zctx,
            .store = d->store,
            .ingest = d->ingest,
            .peers = d->peers,
            .node = &d->node,
            .listen = d->cfg.listen,
            .netkey = d->has_netkey ? d->netkey : NULL,
            .name = d->name,
            .log = log_msg,
        };
        d->gossip = gossip_new(&go, err, sizeof(err));
        if (!d->gossip) {
            log_msg(LOG_E, "%s", err);
            return -1;
        }
    }
    if (peers_daemon_discovery(d, gossip_port(d->gossip)) < 0) {
        log_msg(LOG_E, "discovery: out of memory");
        return -1;
    }
    m->notify = notify_new(d->loop);
    m->status_timer = loop_timer_add(d->loop, S_STATUS_MS, S_STATUS_MS, s_on_status_timer, m);
    if (!m->notify || !m->status_timer) {
        log_msg(LOG_E, "out of memory");
        return -1;
    }
    m->zlive = zlive_new(d->loop, d->zctx, log_msg, err, sizeof(err));
    if (!m->zlive) {
        log_msg(LOG_E, "%s", err);
        return -1;
    }
    notify_set_health(m->notify, s_zmq_alive, m->zlive);
    store_counts_t c = {0};
    store_counts(d->store, &c);
    char status[128];
    snprintf(status, sizeof(status), "%llu tips, %zu peers", (unsigned long long)c.tips,
             peers_daemon_linked(d));
    notify_ready(m->notify, status);
    ingest_ready(d->ingest);
    log_msg(LOG_I,
            "tipd %s ready: node %.16s, network %s, api %s, listen %s (port %u), %llu events",
            TIPD_VERSION, d->node_hex, d->net_id, d->cfg.api, d->cfg.listen,
            d->gossip ? (unsigned)gossip_port(d->gossip) : 0u, (unsigned long long)c.events);
    return 0;
}

/* Tear down in reverse order; the open batch is committed before the store
 * closes. Safe on a partly started daemon. */
static void s_stop(s_main_t *m)
{
    tipd_t *d = &m->d;
    if (m->notify) notify_stopping(m->notify);
    /* Stop reading requests, so nothing new is queued behind the flush; the
     * flush then answers every submit still owed (its events are on disk),
     * and only then does the API socket close (lingering briefly so those
     * acknowledgements reach their clients). */
    api_pause(d->api, 1);
    if (d->ingest) {
        size_t n = ingest_pending(d->ingest);
        ingest_flush(d->ingest);
        if (n) log_msg(LOG_I, "committed %zu queued event(s) before exiting", n);
    }
    api_destroy(&d->api); /* joins the reader threads: nothing reads the views after */
    views_cache_destroy(&d->views);
    gossip_destroy(&d->gossip); /* before the peer table it listens to */
    peers_daemon_stop(d);
    ingest_destroy(&d->ingest);
    zlive_destroy(&m->zlive);
    notify_destroy(&m->notify);
    loop_destroy(&d->loop);
    if (d->zctx) {
        zmq_ctx_term(d->zctx);
        d->zctx = NULL;
    }
    store_destroy(&d->store);
    if (m->sigfd >= 0) close(m->sigfd);
    ident_wipe(&d->node);
    if (m->lockfd >= 0) close(m->lockfd); /* releases the data directory */
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "genkey") == 0) return s_genkey(argc, argv);
    static s_main_t m; /* the daemon's one state; static keeps it off the stack */
    int check = 0;
    int rc = s_parse_args(argc, argv, &m.args, &check);
    if (rc != 0) return rc > 0 ? 0 : 2;
    cfg_errors_t errs = {0};
    const char *used = NULL;
    if (cfg_build(&m.d.cfg, &m.args, &used, &errs) < 0) {
        s_print_errors(&errs, 0);
        return 1;
    }
    m.d.cfg_path = used;
    m.d.cfg_explicit = m.args.config != NULL;
    if (check) return s_check(&m.d.cfg, used);
    log_init(m.d.cfg.log_level);
    s_malloc_policy();
    /* Block the signals before any thread starts, so only the signalfd sees
     * them; a dead API client must not kill us with SIGPIPE either. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    m.sigfd = -1;
    m.lockfd = -1;
    if (s_start(&m) < 0) {
        s_stop(&m);
        return 1;
    }
    if (loop_run(m.d.loop) < 0) {
        log_msg(LOG_E, "event loop failed: %s", zmq_strerror(zmq_errno()));
        m.exit_code = 1;
    }
    s_stop(&m);
    log_msg(LOG_I, "stopped");
    return m.exit_code;
}
