/* peers.c -- the peer table (see peers.h for the contract).
 *
 * A handful to a few hundred entries live in a doubly linked list in
 * insertion order; lookups are linear scans, which at office scale cost less
 * than keeping a hash in sync. Every mutation goes through s_emit() so the
 * listeners (gossip, logging) see one event per visible change, and entries
 * are freed only in s_free_entry() after GONE has been delivered.
 *
 * Static peers are keyed by their configured endpoint until gossip learns
 * the node key; peers_set_node() then folds the entry into any mDNS/pex entry
 * of the same node, so `tip peers` lists every node once.
 */
#include "peers.h"

#include "endpoint.h"

#include "event.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

typedef struct entry {
    peer_t p; /* first: peer_t* and entry* convert */
    struct entry *prev, *next;
} entry_t;

struct peers {
    uint8_t our_node[32];
    char our_net[32];
    entry_t *head, *tail;
    size_t n;
    uint32_t next_id;
    struct {
        peers_fn fn;
        void *arg;
    } ls[PEERS_MAX_LISTEN];
};

static uint64_t s_wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

/* Bounded copy that truncates on purpose (fields are display-sized). */
static void s_copy(char *dst, size_t cap, const char *src)
{
    if (!cap) return;
    size_t n = src ? strnlen(src, cap - 1) : 0;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

static void s_emit(peers_t *t, peers_ev_t ev, peer_t *p)
{
    for (int i = 0; i < PEERS_MAX_LISTEN; i++)
        if (t->ls[i].fn) t->ls[i].fn(t, ev, p, t->ls[i].arg);
}

peers_t *peers_new(const uint8_t our_node[32], const char *our_net)
{
    peers_t *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    if (our_node) memcpy(t->our_node, our_node, 32);
    s_copy(t->our_net, sizeof(t->our_net), our_net ? our_net : "open");
    t->next_id = 1;
    return t;
}

static void s_unlink(peers_t *t, entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        t->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        t->tail = e->prev;
    t->n--;
}

/* Deliver GONE, then unlink and free. */
static void s_free_entry(peers_t *t, entry_t *e)
{
    s_emit(t, PEERS_EV_GONE, &e->p);
    s_unlink(t, e);
    free(e);
}

void peers_destroy(peers_t **p)
{
    if (!p || !*p) return;
    peers_t *t = *p;
    while (t->head) s_free_entry(t, t->head);
    free(t);
    *p = NULL;
}

int peers_listen(peers_t *t, peers_fn fn, void *arg)
{
    for (int i = 0; i < PEERS_MAX_LISTEN; i++) {
        if (!t->ls[i].fn) {
            t->ls[i].fn = fn;
            t->ls[i].arg = arg;
            return 0;
        }
    }
    return -1;
}

void peers_unlisten(peers_t *t, peers_fn fn, void *arg)
{
    for (int i = 0; i < PEERS_MAX_LISTEN; i++)
        if (t->ls[i].fn == fn && t->ls[i].arg == arg) t->ls[i].fn = NULL;
}

/* Entries learned only from peer exchange, not linked or being dialed:
 * the ones a full table may give up. */
static int s_pex_only(const peer_t *p)
{
    return p->sources == PEER_SRC_PEX;
}

static size_t s_count_pex_only(const peers_t *t)
{
    size_t n = 0;
    for (const entry_t *e = t->head; e; e = e->next) n += s_pex_only(&e->p);
    return n;
}

static entry_t *s_new_entry(peers_t *t, unsigned source)
{
    /* A hostile LAN or peer could announce endless nodes; the table (and
     * `tip peers`) stays bounded. Peer exchange may fill at most
     * PEERS_MAX_PEX of it, and a full table gives the oldest idle
     * PEX-only entry up for an mDNS or static peer, so what peers tell us
     * can never keep out what we see or were configured with. */
    if (source == PEER_SRC_PEX && t->n >= PEERS_MAX_PEX && s_count_pex_only(t) >= PEERS_MAX_PEX)
        return NULL;
    if (t->n >= PEERS_MAX_ENTRIES) {
        entry_t *victim = NULL;
        if (source != PEER_SRC_PEX)
            for (entry_t *o = t->head; o && !victim; o = o->next)
                if (s_pex_only(&o->p) && o->p.state != PEER_LINKED && o->p.state != PEER_CONNECTING)
                    victim = o;
        if (!victim) return NULL;
        s_free_entry(t, victim);
    }
    entry_t *e = calloc(1, sizeof(*e));
    if (!e) return NULL;
    e->p.id = t->next_id++;
    e->p.net_match = -1;
    e->p.state = PEER_SEEN;
    e->prev = t->tail;
    if (t->tail)
        t->tail->next = e;
    else
        t->head = e;
    t->tail = e;
    t->n++;
    return e;
}

/* Recompute net_match from the advertised net; a mismatch forces FOREIGN.
 * Returns 1 if the state changed. */
static int s_apply_net(peers_t *t, peer_t *p)
{
    if (!p->net[0]) {
        /* Nothing advertised; a failed CURVE handshake still says "not ours". */
        p->net_match = p->key_mismatch ? 0 : -1;
        if (p->key_mismatch && p->state != PEER_FOREIGN) {
            p->state = PEER_FOREIGN;
            return 1;
        }
        if (!p->key_mismatch && p->state == PEER_FOREIGN) {
            p->state = PEER_SEEN;
            return 1;
        }
        return 0;
    }
    p->net_match = strcmp(p->net, t->our_net) == 0;
    if (!p->net_match && p->state != PEER_FOREIGN) {
        p->state = PEER_FOREIGN;
        return 1;
    }
    if (p->net_match && p->state == PEER_FOREIGN) {
        /* It moved to our network (new key on that host): start over. */
        p->state = PEER_SEEN;
        return 1;
    }
    return 0;
}

/* An entry nobody vouches for and nobody is using goes away. */
static int s_maybe_reap(peers_t *t, peer_t *p)
{
    if (p->sources) return 0;
    if (p->state == PEER_LINKED || p->state == PEER_CONNECTING) return 0;
    s_free_entry(t, (entry_t *)p);
    return 1;
}

static void s_set_endpoint(peer_t *p)
{
    if (!p->naddrs || !p->port) return;
    endpoint_format(p->addrs[0], p->port, p->endpoint, sizeof(p->endpoint));
}

peer_t *peers_find_node(const peers_t *t, const uint8_t node[32])
{
    for (entry_t *e = t->head; e; e = e->next)
        if (e->p.has_node && memcmp(e->p.node, node, 32) == 0) return &e->p;
    return NULL;
}

peer_t *peers_find_endpoint(const peers_t *t, const char *endpoint)
{
    for (entry_t *e = t->head; e; e = e->next)
        if (strcmp(e->p.endpoint, endpoint) == 0) return &e->p;
    return NULL;
}

peer_t *peers_find_id(const peers_t *t, uint32_t id)
{
    for (entry_t *e = t->head; e; e = e->next)
        if (e->p.id == id) return &e->p;
    return NULL;
}

static int s_rank(peer_state_t st)
{
    return st == PEER_LINKED ? 2 : st == PEER_CONNECTING ? 1 : 0;
}

/* a and b turned out to be the same node: keep the one with the busier link
 * (ties: a), fold the other's sources and identity into it, free the other
 * (GONE). The survivor keeps its own user pointer and state. */
static peer_t *s_merge(peers_t *t, peer_t *a, peer_t *b)
{
    peer_t *keep = a, *gone = b;
    if (s_rank(b->state) > s_rank(a->state)) {
        keep = b;
        gone = a;
    }
    keep->sources |= gone->sources;
    if (!keep->has_node && gone->has_node) {
        keep->has_node = 1;
        memcpy(keep->node, gone->node, 32);
        memcpy(keep->node_hex, gone->node_hex, sizeof(keep->node_hex));
    }
    if (!keep->name[0]) s_copy(keep->name, sizeof(keep->name), gone->name);
    if (!keep->net[0]) s_copy(keep->net, sizeof(keep->net), gone->net);
    if (!keep->inst[0]) s_copy(keep->inst, sizeof(keep->inst), gone->inst);
    if (!keep->version) keep->version = gone->version;
    if ((gone->sources & PEER_SRC_MDNS) && gone->naddrs) {
        /* mDNS knows every address; the endpoint in use stays. */
        keep->naddrs = gone->naddrs;
        memcpy(keep->addrs, gone->addrs, sizeof(keep->addrs));
        keep->port = gone->port;
    }
    if (!keep->endpoint[0]) s_copy(keep->endpoint, sizeof(keep->endpoint), gone->endpoint);
    if (gone->last_seen_ms > keep->last_seen_ms) keep->last_seen_ms = gone->last_seen_ms;
    gone->sources = 0;
    s_free_entry(t, (entry_t *)gone);
    return keep;
}

/* A static/pex entry that does not know its key yet but dials one of p's
 * addresses on p's port is p: merge them. Returns the survivor. */
static peer_t *s_absorb_keyless(peers_t *t, peer_t *p)
{
again:
    for (entry_t *e = t->head; e; e = e->next) {
        if (&e->p == p || e->p.has_node || e->p.port != p->port || !e->p.naddrs) continue;
        for (int i = 0; i < p->naddrs; i++) {
            if (strcmp(e->p.addrs[0], p->addrs[i]) == 0) {
                p = s_merge(t, p, &e->p);
                goto again;
            }
        }
    }
    return p;
}

/* 1 if what discovery/config says about the peer differs (not link state). */
static int s_identity_differs(const peer_t *a, const peer_t *b)
{
    if (a->sources != b->sources || a->port != b->port || a->naddrs != b->naddrs ||
        a->version != b->version || strcmp(a->name, b->name) || strcmp(a->net, b->net) ||
        strcmp(a->inst, b->inst) || strcmp(a->endpoint, b->endpoint))
        return 1;
    for (int i = 0; i < a->naddrs; i++)
        if (strcmp(a->addrs[i], b->addrs[i])) return 1;
    return 0;
}

void peers_from_disc(peers_t *t, disc_what_t what, const disc_peer_t *dp)
{
    if (!t || !dp) return;
    if (memcmp(dp->node, t->our_node, 32) == 0) return;
    peer_t *p = peers_find_node(t, dp->node);
    if (what == DISC_DOWN) {
        if (p) peers_drop_source(t, p, PEER_SRC_MDNS);
        return;
    }
    int fresh = 0;
    if (!p) {
        entry_t *e = s_new_entry(t, PEER_SRC_MDNS);
        if (!e) return;
        p = &e->p;
        p->has_node = 1;
        memcpy(p->node, dp->node, 32);
        event_hex(dp->node, 32, p->node_hex);
        fresh = 1;
    }
    peer_t before = *p;
    p->sources |= PEER_SRC_MDNS;
    s_copy(p->name, sizeof(p->name), dp->name);
    s_copy(p->net, sizeof(p->net), dp->net);
    s_copy(p->inst, sizeof(p->inst), dp->inst);
    p->version = dp->version;
    p->port = dp->port;
    int n = dp->naddrs < PEERS_MAX_ADDRS ? dp->naddrs : PEERS_MAX_ADDRS;
    if (n < 0) n = 0;
    p->naddrs = n;
    for (int i = 0; i < n; i++) s_copy(p->addrs[i], sizeof(p->addrs[i]), dp->addrs[i]);
    /* A configured endpoint is what the operator asked for: keep dialling
     * it; otherwise dial the best mDNS address (IPv4 first). */
    if (!(p->sources & PEER_SRC_STATIC) || !p->endpoint[0]) s_set_endpoint(p);
    p->last_seen_ms = s_wall_ms();
    int state_changed = s_apply_net(t, p);
    if (fresh) {
        s_emit(t, PEERS_EV_UP, p);
        if (state_changed) s_emit(t, PEERS_EV_STATE, p);
    } else {
        if (s_identity_differs(&before, p)) s_emit(t, PEERS_EV_CHANGED, p);
        if (state_changed) s_emit(t, PEERS_EV_STATE, p);
    }
    unsigned src = p->sources;
    peer_t *q = s_absorb_keyless(t, p);
    if (q != p || q->sources != src) {
        s_apply_net(t, q);
        s_emit(t, PEERS_EV_CHANGED, q);
    }
}

/* Parse a peer's "tcp://host:port": a host one can dial and a port > 0.
 * 0 or -1. */
static int s_parse_endpoint(const char *ep, char *host, size_t hcap, uint16_t *port)
{
    endpoint_t e;
    if (endpoint_parse(ep, &e) != ENDPOINT_OK || !endpoint_host_dialable(e.host) || e.port == 0 ||
        strlen(e.host) >= hcap)
        return -1;
    memcpy(host, e.host, strlen(e.host) + 1);
    *port = e.port;
    return 0;
}

/* Find or create a keyless-or-keyed entry for endpoint, adding source. */
static peer_t *s_add_endpoint(peers_t *t, const char *endpoint, unsigned source, char *err,
                              size_t errlen)
{
    char host[256];
    uint16_t port;
    if (s_parse_endpoint(endpoint, host, sizeof(host), &port) < 0) {
        if (err)
            snprintf(err, errlen, "peer endpoint '%.200s' is not tcp://HOST:PORT",
                     endpoint ? endpoint : "");
        return NULL;
    }
    char norm[PEERS_MAX_ENDPOINT];
    endpoint_format(host, port, norm, sizeof norm);
    peer_t *p = peers_find_endpoint(t, norm);
    if (!p) {
        /* An mDNS entry may already know this address under its node key. */
        for (entry_t *e = t->head; e && !p; e = e->next)
            for (int i = 0; i < e->p.naddrs; i++)
                if (e->p.port == port && strcmp(e->p.addrs[i], host) == 0) p = &e->p;
    }
    if (p) {
        if (!(p->sources & source)) {
            p->sources |= source;
            s_emit(t, PEERS_EV_CHANGED, p);
        }
        return p;
    }
    entry_t *e = s_new_entry(t, source);
    if (!e) {
        if (err) snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p = &e->p;
    p->sources = source;
    s_copy(p->endpoint, sizeof(p->endpoint), norm);
    s_copy(p->addrs[0], sizeof(p->addrs[0]), host);
    p->naddrs = 1;
    p->port = port;
    s_emit(t, PEERS_EV_UP, p);
    return p;
}

int peers_norm_endpoint(const char *in, char *out, size_t cap, int *loopback)
{
    char host[256];
    uint16_t port;
    unsigned char a[16];
    char txt[INET6_ADDRSTRLEN];
    if (s_parse_endpoint(in, host, sizeof host, &port) < 0) return -1;
    char *scope = strchr(host, '%');
    if (scope) *scope++ = 0;
    int v6 = strchr(host, ':') != NULL;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, host, a) != 1) return -1;
    if (!v6) {
        uint32_t x = ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) | a[3];
        if (x == 0 || x == 0xffffffffu || a[0] >= 224) return -1; /* any, broadcast, multicast */
        if (loopback) *loopback = a[0] == 127;
        inet_ntop(AF_INET, a, txt, sizeof txt);
        return snprintf(out, cap, "tcp://%s:%u", txt, port) < (int)cap ? 0 : -1;
    }
    static const unsigned char any[16], lo[16] = {[15] = 1};
    if (!memcmp(a, any, 16) || a[0] == 0xff) return -1; /* any, multicast */
    if (scope && (!*scope || strlen(scope) > 15)) return -1;
    if (loopback) *loopback = !memcmp(a, lo, 16);
    inet_ntop(AF_INET6, a, txt, sizeof txt);
    int n = scope ? snprintf(out, cap, "tcp://[%s%%%s]:%u", txt, scope, port)
                  : snprintf(out, cap, "tcp://[%s]:%u", txt, port);
    return n < (int)cap ? 0 : -1;
}

int peers_add_static(peers_t *t, const char *endpoint, char *err, size_t errlen)
{
    return s_add_endpoint(t, endpoint, PEER_SRC_STATIC, err, errlen) ? 0 : -1;
}

int peers_set_static(peers_t *t, const char *const *endpoints, size_t n)
{
    int bad = 0;
    /* Mark, add, sweep: entries listed again keep their state and link. */
    uint32_t keep_max = t->next_id;
    unsigned char *keep = calloc(keep_max + 1, 1);
    if (!keep) return -1;
    for (size_t i = 0; i < n; i++) {
        peer_t *p = s_add_endpoint(t, endpoints[i], PEER_SRC_STATIC, NULL, 0);
        if (!p)
            bad++;
        else if (p->id <= keep_max)
            keep[p->id] = 1;
    }
    for (entry_t *e = t->head, *nx; e; e = nx) {
        nx = e->next;
        if (!(e->p.sources & PEER_SRC_STATIC)) continue;
        if (e->p.id <= keep_max && keep[e->p.id]) continue;
        if (e->p.id > keep_max) continue; /* just added */
        peers_drop_source(t, &e->p, PEER_SRC_STATIC);
    }
    free(keep);
    return bad;
}

peer_t *peers_add_pex(peers_t *t, const char *endpoint, const uint8_t *node, const char *net)
{
    if (node && memcmp(node, t->our_node, 32) == 0) return NULL;
    peer_t *p = node ? peers_find_node(t, node) : NULL;
    if (p) {
        if (!(p->sources & PEER_SRC_PEX)) {
            p->sources |= PEER_SRC_PEX;
            s_emit(t, PEERS_EV_CHANGED, p);
        }
        return p;
    }
    p = s_add_endpoint(t, endpoint, PEER_SRC_PEX, NULL, 0);
    if (!p) return NULL;
    if (node && !p->has_node) p = peers_set_node(t, p, node, NULL, net, 0);
    return p;
}

peer_t *peers_drop_source(peers_t *t, peer_t *p, unsigned source)
{
    if (!p || !(p->sources & source)) return p;
    p->sources &= ~source;
    if (s_maybe_reap(t, p)) return NULL;
    s_emit(t, PEERS_EV_CHANGED, p);
    return p;
}

peer_t *peers_set_node(peers_t *t, peer_t *p, const uint8_t node[32], const char *name,
                       const char *net, int version)
{
    if (!p || !node) return p;
    if (memcmp(node, t->our_node, 32) == 0) {
        /* A static/pex endpoint that turned out to be ourselves. */
        p->sources = 0;
        p->state = PEER_SEEN;
        s_free_entry(t, (entry_t *)p);
        return NULL;
    }
    peer_t *other = peers_find_node(t, node);
    if (other && other != p) {
        /* Two entries for one node: merge (the linked one survives). */
        p = s_merge(t, p, other);
    } else {
        p->has_node = 1;
        memcpy(p->node, node, 32);
        event_hex(node, 32, p->node_hex);
    }
    if (name && *name) s_copy(p->name, sizeof(p->name), name);
    if (net && *net) s_copy(p->net, sizeof(p->net), net);
    if (version > 0) p->key_mismatch = 0; /* a HELLO/WELCOME got through */
    if (version > 0) p->version = version;
    int st = s_apply_net(t, p);
    s_emit(t, PEERS_EV_CHANGED, p);
    if (st) s_emit(t, PEERS_EV_STATE, p);
    return p;
}

int peers_set_state(peers_t *t, peer_t *p, peer_state_t st)
{
    if (!p) return -1;
    if (p->net_match == 0 && st != PEER_FOREIGN) return -1;
    if (p->state == st) return 0;
    p->state = st;
    if (st == PEER_LINKED) p->last_seen_ms = s_wall_ms();
    s_emit(t, PEERS_EV_STATE, p);
    if (st == PEER_DOWN || st == PEER_FOREIGN || st == PEER_SEEN) s_maybe_reap(t, p);
    return 0;
}

void peers_set_key_mismatch(peers_t *t, peer_t *p, int on)
{
    if (!p) return;
    int was = p->key_mismatch;
    p->key_mismatch = on ? 1 : 0;
    /* What it advertised (mDNS, pex) is contradicted by the handshake. */
    int cleared = on && p->net[0];
    if (on) p->net[0] = 0;
    int st = s_apply_net(t, p);
    if (was != p->key_mismatch || cleared) s_emit(t, PEERS_EV_CHANGED, p);
    if (st) {
        s_emit(t, PEERS_EV_STATE, p);
        if (p->state == PEER_FOREIGN) s_maybe_reap(t, p);
    }
}

void peers_touch(peers_t *t, peer_t *p)
{
    (void)t;
    if (p) p->last_seen_ms = s_wall_ms();
}

peer_t *peers_first(const peers_t *t)
{
    return t && t->head ? &t->head->p : NULL;
}

peer_t *peers_next(const peers_t *t, const peer_t *p)
{
    (void)t;
    const entry_t *e = (const entry_t *)p;
    return e && e->next ? &e->next->p : NULL;
}

void peers_foreach(peers_t *t, void (*fn)(peers_t *t, peer_t *p, void *arg), void *arg)
{
    for (entry_t *e = t->head, *nx; e; e = nx) {
        nx = e->next;
        fn(t, &e->p, arg);
    }
}

size_t peers_count(const peers_t *t)
{
    return t ? t->n : 0;
}

size_t peers_count_state(const peers_t *t, peer_state_t st)
{
    size_t n = 0;
    for (entry_t *e = t ? t->head : NULL; e; e = e->next)
        if (e->p.state == st) n++;
    return n;
}

const char *peers_state_name(peer_state_t st)
{
    switch (st) {
    case PEER_SEEN:
        return "seen";
    case PEER_CONNECTING:
        return "connecting";
    case PEER_LINKED:
        return "linked";
    case PEER_DOWN:
        return "down";
    case PEER_FOREIGN:
        return "foreign";
    }
    return "unknown";
}

const char *peers_sources_name(unsigned sources, char *buf, size_t cap)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{PEER_SRC_MDNS, "mdns"}, {PEER_SRC_STATIC, "static"}, {PEER_SRC_PEX, "pex"}};
    size_t off = 0;
    if (!cap) return buf;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(sources & names[i].bit)) continue;
        int w = snprintf(buf + off, cap - off, "%s%s", off ? "+" : "", names[i].name);
        if (w < 0 || (size_t)w >= cap - off) {
            buf[off] = 0; /* whole names only */
            break;
        }
        off += (size_t)w;
    }
    return buf;
}

/* RFC 3339 UTC with milliseconds (event_time_rfc3339), or null for never. */
static json_t *s_time_json(uint64_t ms)
{
    if (!ms) return json_null();
    char buf[40];
    event_time_rfc3339(ms, buf, sizeof buf);
    return json_string(buf);
}

json_t *peers_peer_json(const peer_t *p)
{
    char src[32];
    json_t *addrs = json_array();
    for (int i = 0; i < p->naddrs; i++) json_array_append_new(addrs, json_string(p->addrs[i]));
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "node", p->has_node ? json_string(p->node_hex) : json_null());
    json_object_set_new(o, "addr", p->naddrs ? json_string(p->addrs[0]) : json_null());
    json_object_set_new(o, "port", json_integer(p->port));
    json_object_set_new(o, "addrs", addrs);
    json_object_set_new(o, "endpoint", json_string(p->endpoint));
    json_object_set_new(o, "source", json_string(peers_sources_name(p->sources, src, sizeof src)));
    json_object_set_new(o, "net", p->net[0] ? json_string(p->net) : json_null());
    json_object_set_new(o, "net_match",
                        p->net_match < 0 ? json_null() : json_boolean(p->net_match));
    json_object_set_new(o, "state", json_string(peers_state_name(p->state)));
    json_object_set_new(o, "last_seen", s_time_json(p->last_seen_ms));
    json_object_set_new(o, "version", json_integer(p->version));
    return o;
}

json_t *peers_json(const peers_t *t)
{
    json_t *a = json_array();
    for (entry_t *e = t ? t->head : NULL; e; e = e->next)
        json_array_append_new(a, peers_peer_json(&e->p));
    return a;
}
