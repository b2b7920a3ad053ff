/* disc.c -- mDNS publish and browse of _tipd._tcp through avahi-client.
 *
 * One AvahiClient (created with AVAHI_CLIENT_NO_FAIL, so a missing
 * avahi-daemon only delays us) owns one entry group (our service) and one
 * service browser. Every browse result -- one per (interface, protocol,
 * service name) -- becomes an `svc` with a resolver that is kept alive, so a
 * TXT or address change arrives as another FOUND. Resolved services are then
 * folded by node key into `known` peers: one node seen on two interfaces, over
 * IPv4 and IPv6, or under an old and a new service name is still one peer,
 * with every address it was resolved on. Only changes to that folded view
 * reach the caller (UP / CHANGED / DOWN).
 *
 * When avahi-daemon goes away the client enters AVAHI_CLIENT_FAILURE; we
 * rebuild it from a zero-delay timeout (freeing a client inside its own
 * D-Bus filter callback is not safe), keep what we knew as "stale", and let
 * the new browser confirm it; whatever is not seen again within a grace
 * period after the new browser's ALL_FOR_NOW is reported DOWN. If the system
 * bus itself is missing, avahi_client_new fails even with NO_FAIL, so we
 * retry on a timer. Either way the caller gets one warning, not a stream.
 *
 * Nothing here reads or trusts more than it must: TXT values are length- and
 * charset-checked before use, and the number of tracked services is capped.
 */
#include "disc.h"
#include "loglevel.h"
#include "event.h"

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-common/timeval.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define DISC_MAX_SVCS       1024  /* browse results tracked at once */
#define DISC_RETRY_MS       2000  /* client/browser/resolver retry */
#define DISC_SWEEP_GRACE_MS 3000  /* after ALL_FOR_NOW, drop stale services */
#define DISC_SWEEP_MAX_MS   30000 /* ...or this long after losing the daemon */
#define DISC_MAX_RENAMES    32

typedef struct svc {
    struct disc *d;
    AvahiIfIndex iface;
    AvahiProtocol proto;
    char *name;
    char *domain;
    AvahiServiceResolver *res;
    AvahiTimeout *retry;
    int stale;    /* from before a client rebuild, not yet re-seen */
    int resolved; /* fields below are valid */
    uint64_t seq; /* resolution order: the newest wins for name/net/... */
    uint8_t node[32];
    char net[32];
    char inst[32];
    int version;
    uint16_t port;
    char addr[64];
    char host[64]; /* the A/AAAA host name the service points at */
    struct svc *next;
} svc_t;

typedef struct known {
    disc_peer_t peer;
    int warned_clone; /* said that two live instances share this key */
    struct known *next;
} known_t;

struct disc {
    const AvahiPoll *poll;
    char *name; /* requested service name or NULL */
    uint16_t port;
    uint8_t node[32];
    char node_hex[65];
    char net[32];
    char inst[17];
    int version;
    disc_peer_fn on_peer;
    disc_log_fn on_log;
    void *arg;

    AvahiClient *client;
    AvahiEntryGroup *group;
    AvahiServiceBrowser *browser;
    char *svc_name; /* name currently published (avahi_malloc) */
    int renames;
    AvahiTimeout *rebuild;   /* deferred client (re)creation */
    AvahiTimeout *rebrowse;  /* browser retry after a failure */
    AvahiTimeout *republish; /* entry group retry after a failure */
    AvahiTimeout *sweep;     /* drop stale services */
    int warned;              /* said once that avahi-daemon is missing */
    int running;
    size_t nsvcs;
    int warned_cap;
    svc_t *svcs;
    known_t *known;
    uint64_t seq;
};

static void s_log(disc_t *d, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void s_log(disc_t *d, int prio, const char *fmt, ...)
{
    if (!d->on_log) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    d->on_log(prio, buf, d->arg);
}

/* Arm (or re-arm) one of our timeouts ms from now. */
static void s_arm(disc_t *d, AvahiTimeout **t, unsigned ms, AvahiTimeoutCallback cb)
{
    struct timeval tv;
    avahi_elapse_time(&tv, ms, 0);
    if (*t)
        d->poll->timeout_update(*t, &tv);
    else
        *t = d->poll->timeout_new(d->poll, &tv, cb, d);
}

static void s_disarm(disc_t *d, AvahiTimeout *t)
{
    if (t) d->poll->timeout_update(t, NULL);
}

/* ---- folding services into peers ---------------------------------------- */

static known_t *s_known_find(disc_t *d, const uint8_t node[32])
{
    for (known_t *k = d->known; k; k = k->next)
        if (memcmp(k->peer.node, node, 32) == 0) return k;
    return NULL;
}

static int s_has_addr(const disc_peer_t *p, const char *a)
{
    for (int i = 0; i < p->naddrs; i++)
        if (strcmp(p->addrs[i], a) == 0) return 1;
    return 0;
}

static int s_peer_differs(const disc_peer_t *a, const disc_peer_t *b)
{
    if (a->port != b->port || a->version != b->version || a->naddrs != b->naddrs) return 1;
    if (strcmp(a->name, b->name) || strcmp(a->net, b->net) || strcmp(a->inst, b->inst)) return 1;
    for (int i = 0; i < a->naddrs; i++)
        if (strcmp(a->addrs[i], b->addrs[i])) return 1;
    return 0;
}

/* Rebuild the folded view of one node from its resolved services and tell
 * the caller what changed. */
static void s_update_node(disc_t *d, const uint8_t node[32])
{
    disc_peer_t agg;
    memset(&agg, 0, sizeof(agg));
    const svc_t *newest = NULL;
    for (int pass = 0; pass < 2; pass++) { /* IPv4 addresses first */
        for (svc_t *s = d->svcs; s; s = s->next) {
            if (!s->resolved || memcmp(s->node, node, 32) != 0) continue;
            if (pass == 0 && (!newest || s->seq > newest->seq)) newest = s;
            int v6 = strchr(s->addr, ':') != NULL;
            if (v6 != pass || !s->addr[0]) continue;
            if (agg.naddrs < DISC_MAX_ADDRS && !s_has_addr(&agg, s->addr))
                snprintf(agg.addrs[agg.naddrs++], sizeof(agg.addrs[0]), "%s", s->addr);
        }
    }
    /* One key announced by two machines (different host names, different
     * instances): usually a machine cloned with its data directory. They
     * would be folded into one peer, so say it loudly (once) instead of
     * failing mysteriously. A restarted host on two interfaces keeps its
     * host name, so it does not trip this. */
    const char *clone = NULL;
    for (svc_t *s = d->svcs; s && newest && !clone; s = s->next)
        if (s->resolved && !s->stale && memcmp(s->node, node, 32) == 0 && s->host[0] &&
            newest->host[0] && strcmp(s->host, newest->host) != 0 &&
            strcmp(s->inst, newest->inst) != 0)
            clone = s->host;
    known_t *k = s_known_find(d, node);
    if (clone && k && !k->warned_clone) {
        k->warned_clone = 1;
        s_log(d, LOG_W,
              "mdns: two machines (%s and %s) announce the same node key %.16s; was a data "
              "directory copied? Give one of them a fresh node key",
              clone, newest->host, k->peer.node_hex);
    }
    if (!newest) {
        if (!k) return;
        for (known_t **pk = &d->known; *pk; pk = &(*pk)->next) {
            if (*pk == k) {
                *pk = k->next;
                break;
            }
        }
        s_log(d, LOG_I, "mdns: peer %s (%.16s) gone", k->peer.name, k->peer.node_hex);
        if (d->on_peer) d->on_peer(DISC_DOWN, &k->peer, d->arg);
        free(k);
        return;
    }
    memcpy(agg.node, node, 32);
    event_hex(node, 32, agg.node_hex);
    snprintf(agg.name, sizeof(agg.name), "%s", newest->name);
    snprintf(agg.net, sizeof(agg.net), "%s", newest->net);
    snprintf(agg.inst, sizeof(agg.inst), "%s", newest->inst);
    agg.version = newest->version;
    agg.port = newest->port;
    if (!k) {
        k = calloc(1, sizeof(*k));
        if (!k) return;
        k->peer = agg;
        k->next = d->known;
        d->known = k;
        s_log(d, LOG_I, "mdns: peer %s (%.16s) at %s port %u net %s", agg.name, agg.node_hex,
              agg.naddrs ? agg.addrs[0] : "?", agg.port, agg.net);
        if (d->on_peer) d->on_peer(DISC_UP, &k->peer, d->arg);
    } else if (s_peer_differs(&k->peer, &agg)) {
        k->peer = agg;
        if (d->on_peer) d->on_peer(DISC_CHANGED, &k->peer, d->arg);
    }
}

/* ---- services ------------------------------------------------------------ */

static void s_resolve_cb(AvahiServiceResolver *r, AvahiIfIndex iface, AvahiProtocol proto,
                         AvahiResolverEvent ev, const char *name, const char *type,
                         const char *domain, const char *host, const AvahiAddress *addr,
                         uint16_t port, AvahiStringList *txt, AvahiLookupResultFlags flags,
                         void *userdata);
static void s_svc_retry(AvahiTimeout *t, void *userdata);

static svc_t *s_svc_find(disc_t *d, AvahiIfIndex iface, AvahiProtocol proto, const char *name,
                         const char *domain)
{
    for (svc_t *s = d->svcs; s; s = s->next)
        if (s->iface == iface && s->proto == proto && strcmp(s->name, name) == 0 &&
            strcmp(s->domain, domain) == 0)
            return s;
    return NULL;
}

/* Start (or restart) the long-lived resolver of s. */
static void s_svc_resolve(svc_t *s)
{
    disc_t *d = s->d;
    if (s->res || !d->client) return;
    s->res = avahi_service_resolver_new(d->client, s->iface, s->proto, s->name, DISC_SERVICE_TYPE,
                                        s->domain, s->proto, 0, s_resolve_cb, s);
    if (!s->res) {
        struct timeval tv;
        avahi_elapse_time(&tv, DISC_RETRY_MS, 0);
        if (s->retry)
            d->poll->timeout_update(s->retry, &tv);
        else
            s->retry = d->poll->timeout_new(d->poll, &tv, s_svc_retry, s);
    }
}

static void s_svc_retry(AvahiTimeout *t, void *userdata)
{
    svc_t *s = userdata;
    s->d->poll->timeout_update(t, NULL);
    s_svc_resolve(s);
}

/* Unlink and free s; the caller re-folds s's node afterwards if it was
 * resolved. */
static void s_svc_free(disc_t *d, svc_t *s)
{
    for (svc_t **ps = &d->svcs; *ps; ps = &(*ps)->next) {
        if (*ps == s) {
            *ps = s->next;
            break;
        }
    }
    if (s->res) avahi_service_resolver_free(s->res);
    if (s->retry) d->poll->timeout_free(s->retry);
    avahi_free(s->name);
    avahi_free(s->domain);
    d->nsvcs--;
    free(s);
}

static void s_svc_remove(disc_t *d, svc_t *s)
{
    uint8_t node[32];
    int had = s->resolved;
    memcpy(node, s->node, 32);
    s_svc_free(d, s);
    if (had) s_update_node(d, node);
}

/* Copy TXT value of key into out (NUL-terminated) if present, short enough
 * and made of [0-9A-Za-z._-]. 0 or -1. */
static int s_txt_get(AvahiStringList *txt, const char *key, char *out, size_t cap)
{
    AvahiStringList *l = avahi_string_list_find(txt, key);
    if (!l) return -1;
    char *k = NULL, *v = NULL;
    size_t len = 0;
    if (avahi_string_list_get_pair(l, &k, &v, &len) < 0) return -1;
    int rc = -1;
    if (v && len > 0 && len < cap) {
        rc = 0;
        for (size_t i = 0; i < len; i++) {
            char c = v[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '.' || c == '_' || c == '-'))
                rc = -1;
        }
        if (rc == 0) {
            memcpy(out, v, len);
            out[len] = 0;
        }
    }
    avahi_free(k);
    avahi_free(v);
    return rc;
}

int disc_parse_txt(AvahiStringList *txt, disc_txt_t *out)
{
    char nodehex[80], v[16];
    memset(out, 0, sizeof(*out));
    if (s_txt_get(txt, "node", nodehex, sizeof(nodehex)) < 0 || strlen(nodehex) != 64 ||
        event_unhex(nodehex, out->node, 32) != 0 ||
        s_txt_get(txt, "net", out->net, sizeof(out->net)) < 0 ||
        s_txt_get(txt, "v", v, sizeof(v)) < 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    char *end;
    long ver = strtol(v, &end, 10);
    if (*end || v[0] < '0' || v[0] > '9' || ver <= 0 || ver >= 1000) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    out->version = (int)ver;
    if (s_txt_get(txt, "inst", out->inst, sizeof(out->inst)) < 0) out->inst[0] = 0;
    return 0;
}

static void s_resolve_cb(AvahiServiceResolver *r, AvahiIfIndex iface, AvahiProtocol proto,
                         AvahiResolverEvent ev, const char *name, const char *type,
                         const char *domain, const char *host, const AvahiAddress *addr,
                         uint16_t port, AvahiStringList *txt, AvahiLookupResultFlags flags,
                         void *userdata)
{
    svc_t *s = userdata;
    disc_t *d = s->d;
    uint8_t old[32];
    int had = s->resolved;
    memcpy(old, s->node, 32);

    if (ev == AVAHI_RESOLVER_FAILURE) {
        /* Usually a host that stopped answering; the browser will withdraw
         * the service if it is really gone, until then try again later. */
        s_log(d, LOG_D, "mdns: resolving '%s' failed: %s", s->name,
              avahi_strerror(avahi_client_errno(d->client)));
        avahi_service_resolver_free(r);
        s->res = NULL;
        s->resolved = 0;
        if (had) s_update_node(d, old);
        struct timeval tv;
        avahi_elapse_time(&tv, DISC_RETRY_MS, 0);
        if (s->retry)
            d->poll->timeout_update(s->retry, &tv);
        else
            s->retry = d->poll->timeout_new(d->poll, &tv, s_svc_retry, s);
        return;
    }

    disc_txt_t tx;
    int ok = disc_parse_txt(txt, &tx) == 0;
    int self = ok && memcmp(tx.node, d->node, 32) == 0; /* our own service */
    if (!ok || self) {
        if (!self) s_log(d, LOG_D, "mdns: ignoring '%s': TXT lacks valid v/node/net", s->name);
        s->resolved = 0;
        if (had) s_update_node(d, old);
        return;
    }
    const uint8_t *node = tx.node;
    memcpy(s->net, tx.net, sizeof(s->net));
    memcpy(s->inst, tx.inst, sizeof(s->inst));
    s->version = tx.version;
    memcpy(s->node, node, 32);
    s->port = port;
    snprintf(s->host, sizeof(s->host), "%s", host ? host : "");
    s->addr[0] = 0;
    if (addr) {
        char a[AVAHI_ADDRESS_STR_MAX];
        avahi_address_snprint(a, sizeof(a), addr);
        char ifn[IF_NAMESIZE] = "";
        /* A link-local IPv6 address is useless without its scope. */
        if (addr->proto == AVAHI_PROTO_INET6 && addr->data.ipv6.address[0] == 0xfe &&
            (addr->data.ipv6.address[1] & 0xc0) == 0x80 && if_indextoname((unsigned)iface, ifn))
            snprintf(s->addr, sizeof(s->addr), "%s%%%s", a, ifn);
        else
            snprintf(s->addr, sizeof(s->addr), "%s", a);
    }
    s->resolved = 1;
    s->seq = ++d->seq;
    if (had && memcmp(old, node, 32) != 0) s_update_node(d, old);
    s_update_node(d, node);
}

/* ---- browsing ------------------------------------------------------------ */

static void s_sweep_cb(AvahiTimeout *t, void *userdata)
{
    disc_t *d = userdata;
    d->poll->timeout_update(t, NULL);
    for (svc_t *s = d->svcs, *nx; s; s = nx) {
        nx = s->next;
        if (s->stale) s_svc_remove(d, s);
    }
}

static void s_browse_cb(AvahiServiceBrowser *b, AvahiIfIndex iface, AvahiProtocol proto,
                        AvahiBrowserEvent ev, const char *name, const char *type,
                        const char *domain, AvahiLookupResultFlags flags, void *userdata);
static void s_rebrowse_cb(AvahiTimeout *t, void *userdata);

static void s_browse(disc_t *d)
{
    if (d->browser || !d->client) return;
    d->browser = avahi_service_browser_new(d->client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                           DISC_SERVICE_TYPE, NULL, 0, s_browse_cb, d);
    if (!d->browser) {
        s_log(d, LOG_W, "mdns: cannot browse %s: %s; retrying", DISC_SERVICE_TYPE,
              avahi_strerror(avahi_client_errno(d->client)));
        s_arm(d, &d->rebrowse, DISC_RETRY_MS, s_rebrowse_cb);
    }
}

static void s_rebrowse_cb(AvahiTimeout *t, void *userdata)
{
    disc_t *d = userdata;
    d->poll->timeout_update(t, NULL);
    if (d->running) s_browse(d);
}

static void s_browse_cb(AvahiServiceBrowser *b, AvahiIfIndex iface, AvahiProtocol proto,
                        AvahiBrowserEvent ev, const char *name, const char *type,
                        const char *domain, AvahiLookupResultFlags flags, void *userdata)
{
    disc_t *d = userdata;
    svc_t *s;
    switch (ev) {
    case AVAHI_BROWSER_NEW:
        if (!name || !domain) return;
        s = s_svc_find(d, iface, proto, name, domain);
        if (s) {
            s->stale = 0;
        } else {
            if (d->nsvcs >= DISC_MAX_SVCS) {
                if (!d->warned_cap)
                    s_log(d, LOG_W, "mdns: more than %d %s services; ignoring the rest",
                          DISC_MAX_SVCS, DISC_SERVICE_TYPE);
                d->warned_cap = 1;
                return;
            }
            s = calloc(1, sizeof(*s));
            if (!s) return;
            s->d = d;
            s->iface = iface;
            s->proto = proto;
            s->name = avahi_strdup(name);
            s->domain = avahi_strdup(domain);
            if (!s->name || !s->domain) {
                avahi_free(s->name);
                avahi_free(s->domain);
                free(s);
                return;
            }
            s->next = d->svcs;
            d->svcs = s;
            d->nsvcs++;
        }
        s_svc_resolve(s);
        break;
    case AVAHI_BROWSER_REMOVE:
        if (!name || !domain) return;
        s = s_svc_find(d, iface, proto, name, domain);
        if (s) s_svc_remove(d, s);
        break;
    case AVAHI_BROWSER_ALL_FOR_NOW:
        for (s = d->svcs; s; s = s->next) {
            if (s->stale) {
                s_arm(d, &d->sweep, DISC_SWEEP_GRACE_MS, s_sweep_cb);
                break;
            }
        }
        break;
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
        break;
    case AVAHI_BROWSER_FAILURE:
        s_log(d, LOG_W, "mdns: browsing failed: %s; retrying",
              avahi_strerror(avahi_client_errno(d->client)));
        avahi_service_browser_free(b);
        d->browser = NULL;
        s_arm(d, &d->rebrowse, DISC_RETRY_MS, s_rebrowse_cb);
        break;
    }
}

/* ---- publishing ---------------------------------------------------------- */

static void s_publish(disc_t *d);

static void s_republish_cb(AvahiTimeout *t, void *userdata)
{
    disc_t *d = userdata;
    d->poll->timeout_update(t, NULL);
    if (d->running) s_publish(d);
}

/* Switch to the next alternative name ("host #2", ...). */
static void s_rename(disc_t *d)
{
    char *n = avahi_alternative_service_name(d->svc_name);
    if (!n) return;
    s_log(d, LOG_N, "mdns: service name '%s' is taken, renaming to '%s'", d->svc_name, n);
    avahi_free(d->svc_name);
    d->svc_name = n;
    d->renames++;
}

static void s_group_cb(AvahiEntryGroup *g, AvahiEntryGroupState st, void *userdata)
{
    disc_t *d = userdata;
    d->group = g; /* may run inside avahi_entry_group_new() */
    switch (st) {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
        s_log(d, LOG_I, "mdns: published '%s' (%s port %u, net %s)", d->svc_name, DISC_SERVICE_TYPE,
              d->port, d->net);
        break;
    case AVAHI_ENTRY_GROUP_COLLISION: {
        /* Someone else on the LAN uses our name: same group, next name.
         * Two hosts that collide while probing at the same moment would
         * pick the same next name and collide again, round after round; a
         * random pause lets one of them win each name. */
        s_rename(d);
        avahi_entry_group_reset(g);
        uint32_t r = 0;
        if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r)) r = (uint32_t)d->seq * 7919u;
        s_arm(d, &d->republish, 100 + r % 1000, s_republish_cb);
        break;
    }
    case AVAHI_ENTRY_GROUP_FAILURE:
        s_log(d, LOG_W, "mdns: publishing failed: %s; retrying",
              avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(g))));
        avahi_entry_group_reset(g);
        s_arm(d, &d->republish, DISC_RETRY_MS, s_republish_cb);
        break;
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
        break;
    }
}

static void s_publish(disc_t *d)
{
    AvahiClient *c = d->client;
    if (!c) return;
    if (!d->group) {
        if (!avahi_entry_group_new(c, s_group_cb, d)) {
            s_log(d, LOG_W, "mdns: cannot create entry group: %s; retrying",
                  avahi_strerror(avahi_client_errno(c)));
            s_arm(d, &d->republish, DISC_RETRY_MS, s_republish_cb);
            return;
        }
    }
    if (!avahi_entry_group_is_empty(d->group)) return;
    if (!d->svc_name) {
        const char *hn = d->name ? d->name : avahi_client_get_host_name(c);
        d->svc_name = avahi_strdup(hn && *hn ? hn : "tipd");
        if (!d->svc_name) return;
    }
    char txt_v[16], txt_node[80], txt_net[48], txt_inst[32];
    snprintf(txt_v, sizeof(txt_v), "v=%d", d->version);
    snprintf(txt_node, sizeof(txt_node), "node=%s", d->node_hex);
    snprintf(txt_net, sizeof(txt_net), "net=%s", d->net);
    snprintf(txt_inst, sizeof(txt_inst), "inst=%s", d->inst);
    for (;;) {
        int rc = avahi_entry_group_add_service(d->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, 0,
                                               d->svc_name, DISC_SERVICE_TYPE, NULL, NULL, d->port,
                                               txt_v, txt_node, txt_net, txt_inst, NULL);
        if (rc == AVAHI_ERR_COLLISION && d->renames < DISC_MAX_RENAMES) {
            s_rename(d);
            avahi_entry_group_reset(d->group);
            continue;
        }
        if (rc < 0) {
            s_log(d, LOG_W, "mdns: cannot add service '%s': %s; retrying", d->svc_name,
                  avahi_strerror(rc));
            avahi_entry_group_reset(d->group);
            s_arm(d, &d->republish, DISC_RETRY_MS, s_republish_cb);
            return;
        }
        break;
    }
    int rc = avahi_entry_group_commit(d->group);
    if (rc < 0) {
        s_log(d, LOG_W, "mdns: cannot commit service: %s; retrying", avahi_strerror(rc));
        avahi_entry_group_reset(d->group);
        s_arm(d, &d->republish, DISC_RETRY_MS, s_republish_cb);
    }
}

/* ---- the client ---------------------------------------------------------- */

static void s_client_cb(AvahiClient *c, AvahiClientState st, void *userdata);

static void s_rebuild_cb(AvahiTimeout *t, void *userdata);

/* Create the client; on failure (no system bus) retry later. */
static void s_client_start(disc_t *d)
{
    int err = 0;
    AvahiClient *c = avahi_client_new(d->poll, AVAHI_CLIENT_NO_FAIL, s_client_cb, d, &err);
    if (!c) {
        if (!d->warned)
            s_log(d, LOG_W,
                  "mdns: cannot reach avahi-daemon over D-Bus (%s); discovery waits for it, "
                  "static peers still work",
                  avahi_strerror(err));
        d->warned = 1;
        d->client = NULL;
        s_arm(d, &d->rebuild, DISC_RETRY_MS, s_rebuild_cb);
        return;
    }
    d->client = c;
}

/* Drop the client and everything Avahi-side hanging off it; services are
 * kept as stale so peers survive a daemon restart without flapping. */
static void s_client_drop(disc_t *d)
{
    for (svc_t *s = d->svcs; s; s = s->next) {
        s->res = NULL; /* freed with the client */
        s->stale = 1;
        if (s->retry) s_disarm(d, s->retry);
    }
    d->group = NULL;
    d->browser = NULL;
    d->running = 0;
    if (d->client) avahi_client_free(d->client);
    d->client = NULL;
    s_disarm(d, d->rebrowse);
    s_disarm(d, d->republish);
}

static void s_rebuild_cb(AvahiTimeout *t, void *userdata)
{
    disc_t *d = userdata;
    d->poll->timeout_update(t, NULL);
    int had = d->client != NULL;
    s_client_drop(d);
    if (had && d->svcs) s_arm(d, &d->sweep, DISC_SWEEP_MAX_MS, s_sweep_cb);
    s_client_start(d);
}

static void s_client_cb(AvahiClient *c, AvahiClientState st, void *userdata)
{
    disc_t *d = userdata;
    d->client = c; /* may run inside avahi_client_new() */
    switch (st) {
    case AVAHI_CLIENT_S_RUNNING:
        if (d->warned) s_log(d, LOG_N, "mdns: avahi-daemon is up");
        d->warned = 0;
        d->running = 1;
        s_publish(d);
        s_browse(d);
        break;
    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING:
        /* The host name is being (re)registered; publish again once the
         * server is running, or our records would carry a stale name. */
        d->running = 1;
        if (d->group) avahi_entry_group_reset(d->group);
        s_browse(d);
        break;
    case AVAHI_CLIENT_CONNECTING:
        d->running = 0;
        if (!d->warned)
            s_log(d, LOG_W,
                  "mdns: avahi-daemon is not running; discovery waits for it, "
                  "static peers still work");
        d->warned = 1;
        break;
    case AVAHI_CLIENT_FAILURE:
        d->running = 0;
        s_log(d, LOG_W, "mdns: lost avahi-daemon (%s); reconnecting",
              avahi_strerror(avahi_client_errno(c)));
        s_arm(d, &d->rebuild, 0, s_rebuild_cb);
        break;
    }
}

disc_t *disc_new(const disc_opts_t *o)
{
    if (!o || !o->poll || !o->node || !o->port) return NULL;
    disc_t *d = calloc(1, sizeof(*d));
    if (!d) return NULL;
    d->poll = o->poll;
    if (o->name && *o->name) {
        d->name = strndup(o->name, 63);
        if (!d->name) {
            free(d);
            return NULL;
        }
    }
    d->port = o->port;
    memcpy(d->node, o->node, 32);
    event_hex(d->node, 32, d->node_hex);
    snprintf(d->net, sizeof(d->net), "%s", o->net && *o->net ? o->net : "open");
    d->version = o->version > 0 ? o->version : 1;
    uint8_t r[8];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        /* Any value works as long as it changes per start. */
        uint64_t x = (uint64_t)(uintptr_t)d ^ (uint64_t)time(NULL);
        memcpy(r, &x, sizeof(r));
    }
    event_hex(r, sizeof(r), d->inst);
    d->on_peer = o->on_peer;
    d->on_log = o->on_log;
    d->arg = o->arg;
    s_client_start(d);
    return d;
}

void disc_destroy(disc_t **p)
{
    if (!p || !*p) return;
    disc_t *d = *p;
    s_client_drop(d);
    while (d->svcs) s_svc_free(d, d->svcs);
    while (d->known) {
        known_t *k = d->known;
        d->known = k->next;
        free(k);
    }
    AvahiTimeout **ts[] = {&d->rebuild, &d->rebrowse, &d->republish, &d->sweep};
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
        if (*ts[i]) d->poll->timeout_free(*ts[i]);
    avahi_free(d->svc_name);
    free(d->name);
    free(d);
    *p = NULL;
}

int disc_running(const disc_t *d)
{
    return d && d->running;
}

const char *disc_service_name(const disc_t *d)
{
    return d ? d->svc_name : NULL;
}

const char *disc_requested_name(const disc_t *d)
{
    return d && d->name ? d->name : "";
}

const char *disc_instance(const disc_t *d)
{
    return d ? d->inst : NULL;
}
