/* link.c -- the link layer under the gossip engine: one link per peer
 * connection and what every part of gossip does with one.
 *
 * A link is an outgoing DEALER of ours or an incoming connection on our
 * ROUTER (its routing id). Here: sending a message (one ZeroMQ frame each,
 * wire.h), answering a connection we hold no session for, the list of
 * links (new, close, fail, reap), the per-peer dial record kept in the peer
 * table's user pointer, hold-offs of abusive nodes, the sets of ids a link
 * remembers, and the log prefix. The handshake (handshake.c), replication
 * (replicate.c) and the engine (gossip.c: sockets, reading, dialing, the
 * overlay, the timers) all build on this file; it calls none of them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>

#include "link.h"

struct g_hold {
    struct g_hold *next;
    uint8_t node[32];
    uint8_t curve[32];
    uint64_t until, backoff;
};

void g_log(gossip_t *g, int prio, const char *fmt, ...)
{
    if (!g->log) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g->log(prio, "gossip: %s", buf);
}

const char *g_who(const g_link_t *l)
{
    if (l->name[0]) return l->name;
    if (l->endpoint[0]) return l->endpoint;
    return l->has_node ? l->node_hex : "?";
}

/* ---- sending ---- */

int g_send(g_link_t *l, uint8_t type, const uint8_t *body, size_t len)
{
    gossip_t *g = l->g;
    if (l->state == G_DEAD || len + 2 > WIRE_MAX_MSG) return -1;
    void *s = l->out ? l->sock : g->router;
    if (!l->out && zmq_send(s, l->rid, l->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return -1;
    /* One frame per message (wire.h says why). */
    zmq_msg_t m;
    if (zmq_msg_init_size(&m, len + 2) < 0) return -1;
    wire_header_ver(l->ver ? l->ver : WIRE_VERSION_MIN, type, zmq_msg_data(&m));
    if (len) memcpy((uint8_t *)zmq_msg_data(&m) + 2, body, len);
    if (zmq_msg_send(&m, s, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return -1;
    }
    l->t_tx = loop_now_ms();
    l->stat_tx++;
    g->stat_bytes_tx += len + 2;
    return 0;
}

void g_send_reason(g_link_t *l, uint8_t type, uint8_t code, const char *text)
{
    uint8_t buf[WIRE_MAX_TEXT + 8];
    size_t len;
    if (wire_enc_reason(code, text, buf, sizeof buf, &len) == 0) g_send(l, type, buf, len);
}

/* Answer a connection we hold no session for (ROUTER side). */
void g_router_reply(gossip_t *g, const uint8_t *rid, size_t rid_len, uint8_t type, uint8_t code,
                    const char *text)
{
    g_link_t tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.g = g;
    tmp.out = 0;
    tmp.state = G_HS;
    tmp.ver = WIRE_VERSION_MIN; /* understood by every version */
    if (rid_len > sizeof tmp.rid) return;
    memcpy(tmp.rid, rid, rid_len);
    tmp.rid_len = rid_len;
    g_send_reason(&tmp, type, code, text);
}

/* ---- peers and hold-offs ---- */

g_pinfo_t *g_pinfo(peer_t *p)
{
    if (!p->user) {
        g_pinfo_t *pi = calloc(1, sizeof *pi);
        if (!pi) return NULL;
        pi->backoff = G_BACKOFF_MIN_MS;
        pi->keyfail_backoff = G_KEYFAIL_MIN_MS;
        pi->first_seen = loop_now_ms();
        p->user = pi;
    }
    return p->user;
}

peer_t *g_peer(g_link_t *l)
{
    return l->peer_id ? peers_find_id(l->g->peers, l->peer_id) : NULL;
}

struct g_hold *g_held(gossip_t *g, const uint8_t *node, const uint8_t *curve)
{
    uint64_t now = loop_now_ms();
    for (struct g_hold *h = g->holds; h; h = h->next) {
        if (h->until <= now) continue;
        if (node && memcmp(h->node, node, 32) == 0) return h;
        if (curve && memcmp(h->curve, curve, 32) == 0) return h;
    }
    return NULL;
}

void g_hold(gossip_t *g, const uint8_t node[32])
{
    struct g_hold *h;
    for (h = g->holds; h; h = h->next)
        if (memcmp(h->node, node, 32) == 0) break;
    if (!h) {
        h = calloc(1, sizeof *h);
        if (!h) return;
        memcpy(h->node, node, 32);
        if (crypto_sign_ed25519_pk_to_curve25519(h->curve, node) != 0) memset(h->curve, 0, 32);
        h->next = g->holds;
        g->holds = h;
    } else {
        h->backoff *= 2;
    }
    if (h->backoff < G_HOLD_MIN_MS) h->backoff = G_HOLD_MIN_MS;
    if (h->backoff > G_HOLD_MAX_MS) h->backoff = G_HOLD_MAX_MS;
    h->until = loop_now_ms() + h->backoff;
}

void g_keyfail(gossip_t *g, peer_t *p)
{
    if (!p) return;
    g_pinfo_t *pi = g_pinfo(p);
    if (pi) {
        pi->next_dial = loop_now_ms() + pi->keyfail_backoff;
        pi->keyfail_backoff =
            pi->keyfail_backoff * 2 > G_KEYFAIL_MAX_MS ? G_KEYFAIL_MAX_MS : pi->keyfail_backoff * 2;
    }
    peers_set_key_mismatch(g->peers, p, 1); /* may free p */
}

/* Forget hold-offs long after they ended (so the backoff resets); with
 * now = UINT64_MAX, all of them. */
void g_holds_expire(gossip_t *g, uint64_t now)
{
    struct g_hold **hp = &g->holds;
    while (*hp) {
        if (now == UINT64_MAX || (*hp)->until + 4 * (*hp)->backoff < now) {
            struct g_hold *h = *hp;
            *hp = h->next;
            free(h);
        } else {
            hp = &(*hp)->next;
        }
    }
}

/* ---- links ---- */

g_link_t *g_link_by_id(gossip_t *g, uint32_t id)
{
    for (g_link_t *l = g->links; l; l = l->next)
        if (l->id == id && l->state != G_DEAD) return l;
    return NULL;
}

g_link_t *g_link_new(gossip_t *g, int out)
{
    size_t n = 0, hs = 0;
    for (g_link_t *l = g->links; l; l = l->next) {
        if (l->state == G_DEAD) continue;
        n++;
        if (l->state == G_HS && !l->out) hs++;
    }
    /* Unauthenticated incoming handshakes are capped on their own, so a
     * crowd of them cannot stop us from dialing out. */
    if (n >= G_MAX_LINKS || (!out && hs >= G_MAX_HANDSHAKES)) return NULL;
    g_link_t *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    if (g_idset_init(&l->known, 1 << 14)) {
        free(l);
        return NULL;
    }
    l->g = g;
    l->out = out;
    l->ver = WIRE_VERSION;
    l->eager = 1; /* every link starts in the eager set; duplicates prune it */
    l->id = ++g->next_link_id;
    l->state = G_HS;
    l->t_start = l->t_rx = l->tok_t = loop_now_ms();
    l->tok_bytes = G_RATE_BYTES * G_RATE_BURST;
    l->push_tok = G_PUSH_RATE;
    l->push_tok_t = l->t_start;
    l->tok_msgs = G_RATE_MSGS * G_RATE_BURST;
    l->next = g->links;
    g->links = l;
    loop_timer_due(g->loop, g->tick, G_HANDSHAKE_MS + 1);
    return l;
}

/* Stop watching the DEALER's handshake (at link-up, and before any close).
 * libzmq's I/O thread sends monitor events with a blocking zmq_msg_send:
 * once our reading PAIR is gone (or while the DEALER's close is still under
 * way) the next event -- a handshake timing out, a reconnect -- would block
 * that thread for good, and every ZeroMQ socket of the process with it.
 * zmq_socket_monitor(NULL) detaches the monitor under libzmq's monitor
 * lock, so no event is sent after it returns; only then is the PAIR
 * closed. */
void g_mon_stop(g_link_t *l)
{
    if (l->sock && l->mon) zmq_socket_monitor(l->sock, NULL, 0);
    if (l->mon_watch) loop_watch_free(l->g->loop, l->mon_watch);
    l->mon_watch = NULL;
    if (l->mon) zmq_close(l->mon);
    l->mon = NULL;
}

/* Forget that the ids queued at or asked of l are being fetched, so the next
 * INV for one of them from another peer is acted on at once instead of being
 * taken for a duplicate of a request that will now never be answered. */
static void s_void_asks(g_link_t *l)
{
    gossip_t *g = l->g;
    for (size_t i = l->fetch_head; i < l->nfetch; i++) {
        uint64_t k = g_idkey(l->fetch[i]);
        if (g->want_key[k % g->want_cap] == k) g->want_key[k % g->want_cap] = 0;
    }
    for (size_t i = 0; l->asked.slot && i < l->asked.cap; i++) {
        uint64_t k = l->asked.slot[i];
        if (k && g->want_key[k % g->want_cap] == k) g->want_key[k % g->want_cap] = 0;
    }
}

void g_link_close(g_link_t *l)
{
    if (l->state == G_DEAD) return;
    /* Ids this peer announced and we had not received yet are asked of
     * nobody else (their INVs from others were not queued): reconcile
     * with another peer soon instead of waiting for the periodic round. */
    if (l->state == G_LINKED && (l->fetch_head < l->nfetch || l->outstanding)) {
        l->g->repair_due = 1;
        loop_timer_due(l->g->loop, l->g->tick, G_MIN_TICK_MS);
        s_void_asks(l);
    }
    /* Nothing more is owed or asked on a closed link. */
    l->recon_active = 0;
    l->npush = l->push_head = l->eager_queued = 0;
    l->nfetch = l->fetch_head = 0;
    l->outstanding = 0;
    l->state = G_DEAD;
    if (l->watch) loop_watch_free(l->g->loop, l->watch);
    l->watch = NULL;
    g_mon_stop(l);
    if (l->sock) zmq_close(l->sock);
    l->sock = NULL;
    if (!l->out && l->rid_len) {
        gossip_t *g = l->g;
        unsigned k = g->quiet_next++ % (sizeof g->quiet / sizeof g->quiet[0]);
        memcpy(g->quiet[k].rid, l->rid, l->rid_len);
        g->quiet[k].len = l->rid_len;
        g->quiet[k].until = loop_now_ms() + G_QUIET_MS;
    }
}

/* 1 if rid belongs to an incoming connection we closed recently. */
int g_quiet(gossip_t *g, const uint8_t *rid, size_t len)
{
    uint64_t now = loop_now_ms();
    for (size_t k = 0; k < sizeof g->quiet / sizeof g->quiet[0]; k++)
        if (g->quiet[k].until > now && g->quiet[k].len == len && !memcmp(g->quiet[k].rid, rid, len))
            return 1;
    return 0;
}

void g_reap(gossip_t *g)
{
    g_link_t **pp = &g->links;
    while (*pp) {
        g_link_t *l = *pp;
        if (l->state == G_DEAD) {
            *pp = l->next;
            g_idset_free(&l->known);
            g_idset_free(&l->asked);
            free(l->push);
            free(l->fetch);
            free(l);
        } else {
            pp = &l->next;
        }
    }
}

/* Close a link for a reason; abuse adds a hold-off for its node. A linked
 * peer goes DOWN in the table (unless another link to it remains). */
void g_link_fail(g_link_t *l, uint8_t code, const char *why, int abuse)
{
    gossip_t *g = l->g;
    if (l->state == G_DEAD) return;
    int was_linked = l->state == G_LINKED;
    g_log(g, abuse ? LOG_W : LOG_I, "link %s closed: %s", g_who(l), why);
    if (code) g_send_reason(l, l->state == G_LINKED ? WIRE_BYE : WIRE_REJECT, code, why);
    if (abuse && l->has_node) g_hold(g, l->node);
    g_link_close(l);
    loop_timer_due(g->loop, g->tick, G_MIN_TICK_MS); /* reap it, plan the re-dial */
    peer_t *p = g_peer(l);
    if (!p) return;
    if (l->out && !was_linked) {
        /* Peer exchange may hand out addresses nobody answers on: a
         * PEX-only entry that fails G_PEX_MAX_FAILS dials in a row is
         * forgotten (static and mDNS entries are kept and keep backing off). */
        g_pinfo_t *pi = g_pinfo(p);
        if (pi && ++pi->fails >= G_PEX_MAX_FAILS && p->sources == PEER_SRC_PEX) {
            g->stat_pex_aged++;
            g_log(g, LOG_D, "forgetting %s: %u dials failed", p->endpoint, pi->fails);
            peers_drop_source(g->peers, p, PEER_SRC_PEX); /* may free p */
            return;
        }
    }
    for (g_link_t *o = g->links; o; o = o->next)
        if (o != l && o->state == G_LINKED && o->peer_id == l->peer_id) return;
    if (was_linked && p->state == PEER_LINKED) peers_set_state(g->peers, p, PEER_DOWN);
}

int g_behind(const gossip_t *g, uint64_t now)
{
    return g->router_paused || (g->t_resumed && now - g->t_resumed < G_BEHIND_GRACE_MS);
}

void g_kick(gossip_t *g)
{
    loop_timer_reset(g->loop, g->work_timer, 1);
}

/* ---- id sets: open addressing on the first 8 id bytes ---- */

uint64_t g_idkey(const uint8_t id[32])
{
    uint64_t k;
    memcpy(&k, id, 8);
    return k ? k : 1;
}

int g_idset_init(g_idset_t *s, size_t cap)
{
    s->slot = calloc(cap, sizeof(uint64_t));
    s->cap = cap;
    s->n = 0;
    return s->slot ? 0 : -1;
}

void g_idset_free(g_idset_t *s)
{
    free(s->slot);
    s->slot = NULL;
    s->cap = s->n = 0;
}

int g_idset_has(const g_idset_t *s, const uint8_t id[32])
{
    uint64_t k = g_idkey(id);
    for (size_t i = k % s->cap, probes = 0; probes < s->cap; i = (i + 1) % s->cap, probes++) {
        if (s->slot[i] == k) return 1;
        if (s->slot[i] == 0) return 0;
    }
    return 0;
}

void g_idset_clear(g_idset_t *s)
{
    if (s->n) memset(s->slot, 0, s->cap * sizeof(uint64_t));
    s->n = 0;
}

/* When the set is 70% full it is cleared: it remembers the recent past, which
 * is what duplicate suppression needs; the store is the real record. */
void g_idset_add(g_idset_t *s, const uint8_t id[32])
{
    if (g_idset_has(s, id)) return;
    if (s->n * 10 >= s->cap * 7) {
        memset(s->slot, 0, s->cap * sizeof(uint64_t));
        s->n = 0;
    }
    uint64_t k = g_idkey(id);
    size_t i = k % s->cap;
    while (s->slot[i]) i = (i + 1) % s->cap;
    s->slot[i] = k;
    s->n++;
}
