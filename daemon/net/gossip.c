/* gossip.c -- the gossip engine: sockets, reading, dialing, the overlay,
 * the timers. Built on the link layer (link.c); brings links up after the
 * handshake (handshake.c) and hands linked traffic to replication
 * (replicate.c).
 *
 * Transport. One ROUTER bound at --listen is a CURVE server whose keypair is
 * derived from the network key (wire_server_keys): every member of a network
 * listens with the same server key, so a dialer needs nothing but host:port,
 * and a machine without the network key cannot even complete the CURVE
 * handshake. A ZAP handler (REP on inproc://zeromq.zap.01, bound before the
 * ROUTER, answered from this loop) accepts CURVE clients, refuses held-off
 * ones, and sets each connection's User-Id to the client's transport key, so
 * a HELLO's node key can be checked against the key the connection really
 * authenticated with. Each outgoing link is its own DEALER whose client key is
 * our Ed25519 node key converted to X25519. Every message is one ZeroMQ
 * frame (wire.h says why); a message of several frames is refused.
 *
 * Handshake (PROTOCOL.md §2.4): dialer HELLO -> listener WELCOME (proof +
 * Ed25519 signature over both keys and both nonces) -> dialer ACK (proof).
 * Nothing but these three may cross before the link is up. A listener of
 * another network key never gets that far: our CURVE HELLO is sealed to a
 * server key it does not hold, so it drops the connection. Each DEALER is
 * watched with zmq_socket_monitor until it links to see that (s_mon_in):
 * the peer is marked foreign with its network unknown and re-dialed on a
 * slow backoff in case the keys get fixed.
 *
 * Overlay (PROTOCOL.md §2.7): static peers are always dialed; of the rest of
 * the peer table we dial random ones until 8 links are up or in handshake,
 * and when a link comes up while 16 others are linked a random non-static
 * one gives way (BYE 9). One link per pair of nodes: when two links to one
 * node come up, both sides keep the one dialed by the smaller node key, and
 * the larger key waits G_DEFER_MS before dialing a peer it knows the key of.
 *
 * Timers: the housekeeping tick (heartbeats, timeouts, dialing, hold-offs,
 * back-pressure, replication's timers) runs when its earliest deadline is
 * due, so an idle node sleeps from one heartbeat to the next.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>

#include "endpoint.h"
#include "handshake.h"
#include "link.h"
#include "replicate.h"

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"

static void s_make_room(gossip_t *g, g_link_t *keep);

/* The link to keep when two are up to one node: the one whose dialer has the
 * smaller node key. */
static int s_link_wins(const gossip_t *g, const g_link_t *l)
{
    const uint8_t *dialer = l->out ? g->node.pk : l->node;
    const uint8_t *other = l->out ? l->node : g->node.pk;
    return memcmp(dialer, other, 32) < 0;
}

static void s_link_up(g_link_t *l)
{
    gossip_t *g = l->g;
    for (g_link_t *o = g->links; o; o = o->next) {
        if (o == l || o->state == G_DEAD || !o->has_node || memcmp(o->node, l->node, 32)) continue;
        if (o->state == G_HS) {
            g_link_close(o); /* a handshake racing a finished one */
            continue;
        }
        /* Same dialer twice: the peer restarted or reconnected and the old
         * link is stale (its heartbeat has not timed out yet). */
        if (o->out == l->out || s_link_wins(g, l)) {
            g_send_reason(o, WIRE_BYE, WIRE_R_DUPLICATE, "duplicate link");
            g_link_close(o);
        } else {
            g_send_reason(l, WIRE_BYE, WIRE_R_DUPLICATE, "duplicate link");
            g_link_close(l);
            return;
        }
    }
    l->state = G_LINKED;
    l->t_rx = loop_now_ms();
    g_mon_stop(l); /* handshake failures are all it was for */
    s_make_room(g, l);
    loop_timer_due(g->loop, g->tick, G_PING_MS);
    peer_t *p = g_peer(l);
    if (p) {
        g_pinfo_t *pi = g_pinfo(p);
        if (pi) pi->backoff = G_BACKOFF_MIN_MS;
        if (pi) pi->keyfail_backoff = G_KEYFAIL_MIN_MS;
        if (pi) pi->fails = 0;
        if (p->key_mismatch) peers_set_key_mismatch(g->peers, p, 0);
        peers_set_state(g->peers, p, PEER_LINKED);
        peers_touch(g->peers, p);
    }
    g_log(g, LOG_I, "linked with %s (%.16s, %s)", g_who(l), l->node_hex, l->out ? "out" : "in");
    g_sync_on_link_up(l);
}

/* ---- dialing ---- */

static void s_dealer_in(loop_t *loop, loop_watch_t *w, short revents, void *arg);

/* The DEALER's handshake-failure events (zmq_socket_monitor). A listener
 * that took the TCP connection and then dropped it in the CURVE handshake
 * (NO_DETAIL) or spoke broken ZMTP (PROTOCOL) holds a server key that is
 * not our network's: the peer is marked foreign (key mismatch) and re-checked
 * after keyfail_backoff. A wrong key fails within a round trip of the TCP
 * connection; a drop later than half the handshake window is a listener too
 * busy to answer (its handshake timer), not a verdict, and is left to our
 * own handshake timeout. AUTH means its ZAP refused us (held off): not
 * foreign, just a failed dial. Nothing listening never gets this far (no
 * CONNECTED, so no handshake event): that stays connecting/down. */
static void s_mon_in(loop_t *loop, loop_watch_t *w, short revents, void *arg)
{
    g_link_t *l = arg;
    gossip_t *g = l->g;
    /* Read every event in every state: an unread event keeps the PAIR
     * readable (zmq_poll would return at once, forever). */
    for (int i = 0; i < 64 && l->mon; i++) {
        zmq_msg_t a, b;
        zmq_msg_init(&a);
        if (zmq_msg_recv(&a, l->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&a);
            break;
        }
        uint16_t ev = 0;
        uint32_t val = 0;
        int ok = zmq_msg_size(&a) >= 6 && zmq_msg_more(&a);
        if (ok) {
            memcpy(&ev, zmq_msg_data(&a), 2);
            memcpy(&val, (uint8_t *)zmq_msg_data(&a) + 2, 4);
        }
        /* The second part (the endpoint) follows atomically. */
        while (zmq_msg_more(&a)) {
            zmq_msg_init(&b);
            int rc = zmq_msg_recv(&b, l->mon, 0);
            zmq_msg_close(&a);
            a = b;
            if (rc < 0) break;
        }
        zmq_msg_close(&a);
        if (!ok || l->state != G_HS) continue;
        uint64_t now = loop_now_ms();
        if (ev == ZMQ_EVENT_CONNECTED) {
            l->t_conn = now;
        } else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            g_link_fail(l, 0, "its ZAP refused our key (held off)", 0);
        } else if (((ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL && val != ETIMEDOUT) ||
                    ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) &&
                   l->t_conn && now - l->t_conn < G_HANDSHAKE_MS / 2) {
            peer_t *p = g_peer(l);
            if (p && !p->key_mismatch)
                g_log(g, LOG_N, "%s listens with another network key (CURVE handshake failed)",
                      l->endpoint);
            g_keyfail(g, p); /* may free p */
            g_link_fail(l, 0, "CURVE handshake failed: another network key", 0);
        }
    }
    (void)loop;
    (void)w;
    (void)revents;
}

/* Watch the DEALER's handshake failures on a PAIR of our own. 0 or -1. */
static int s_monitor(gossip_t *g, g_link_t *l)
{
    char ep[96];
    int zero = 0;
    snprintf(ep, sizeof ep, "inproc://tipd-gmon-%p-%u", (void *)g, l->id);
    if (zmq_socket_monitor(l->sock, ep,
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) < 0)
        return -1;
    l->mon = zmq_socket(g->zctx, ZMQ_PAIR);
    if (!l->mon) return -1;
    zmq_setsockopt(l->mon, ZMQ_LINGER, &zero, sizeof zero);
    /* No high-water mark on the reading side makes the inproc pipe
     * unbounded (libzmq adds both sides' HWMs, and 0 means none), so the
     * I/O thread's blocking send of an event can never wait for room. A
     * DEALER makes a handful of events per dial, and we read them all. */
    zmq_setsockopt(l->mon, ZMQ_RCVHWM, &zero, sizeof zero);
    if (zmq_connect(l->mon, ep) < 0) return -1;
    l->mon_watch = loop_watch_zsock(g->loop, l->mon, ZMQ_POLLIN, s_mon_in, l);
    return l->mon_watch ? 0 : -1;
}

/* Dial p: a new DEALER, connect, HELLO (queued until the TCP connection and
 * CURVE handshake are done). */
static void s_dial(gossip_t *g, peer_t *p)
{
    g_link_t *l = g_link_new(g, 1);
    if (!l) return;
    void *s = zmq_socket(g->zctx, ZMQ_DEALER);
    int one = 1, zero = 0, hwm = G_SNDHWM, rhwm = G_RCVHWM, ivl = 500, hs = G_HANDSHAKE_MS;
    int64_t maxmsg = WIRE_MAX_MSG;
    if (!s) goto fail;
    l->sock = s;
    g_pinfo_t *pinfo = g_pinfo(p);
    if (pinfo && pinfo->v2_until > loop_now_ms()) l->ver = WIRE_VERSION_MIN;
    if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, g->server_pk, 32) ||
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, g->curve_pk, 32) ||
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, g->curve_sk, 32) ||
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) ||
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm) ||
        zmq_setsockopt(s, ZMQ_RCVHWM, &rhwm, sizeof rhwm) ||
        zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) ||
        zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl) ||
        zmq_setsockopt(s, ZMQ_HANDSHAKE_IVL, &hs, sizeof hs) ||
        zmq_setsockopt(s, ZMQ_SNDTIMEO, &zero, sizeof zero))
        goto fail;
    (void)one;
    if (s_monitor(g, l) < 0) goto fail;
    if (zmq_connect(s, p->endpoint) < 0) {
        g_log(g, LOG_W, "cannot dial %s: %s", p->endpoint, zmq_strerror(errno));
        goto fail;
    }
    l->watch = loop_watch_zsock(g->loop, s, ZMQ_POLLIN, s_dealer_in, l);
    if (!l->watch) goto fail;
    l->peer_id = p->id;
    snprintf(l->endpoint, sizeof l->endpoint, "%.255s", p->endpoint);
    snprintf(l->name, sizeof l->name, "%s", p->name);
    if (p->has_node) {
        l->has_node = 0; /* learned from WELCOME; the table's key is only a hint */
    }
    randombytes_buf(l->nonce_d, sizeof l->nonce_d);
    wire_hello_t h;
    g_fill_hello(g, &h, l->nonce_d);
    uint8_t buf[512];
    size_t len;
    if (wire_enc_hello(&h, 0, buf, sizeof buf, &len) || g_send(l, WIRE_HELLO, buf, len)) goto fail;
    if (p->state == PEER_SEEN) peers_set_state(g->peers, p, PEER_CONNECTING);
    g->dials++;
    g_log(g, LOG_D, "dialing %s", p->endpoint);
    return;
fail:
    g_link_close(l);
}

/* ---- receiving ---- */

/* Per-link token buckets; 0 if within the rate, -1 if flooding. */
static int s_rate(g_link_t *l, size_t bytes)
{
    uint64_t now = loop_now_ms();
    double dt = (double)(now - l->tok_t) / 1000.0;
    l->tok_t = now;
    l->tok_bytes += dt * G_RATE_BYTES;
    l->tok_msgs += dt * G_RATE_MSGS;
    if (l->tok_bytes > G_RATE_BYTES * G_RATE_BURST) l->tok_bytes = G_RATE_BYTES * G_RATE_BURST;
    if (l->tok_msgs > G_RATE_MSGS * G_RATE_BURST) l->tok_msgs = G_RATE_MSGS * G_RATE_BURST;
    l->tok_bytes -= (double)bytes;
    l->tok_msgs -= 1;
    return (l->tok_bytes < 0 || l->tok_msgs < 0) ? -1 : 0;
}

/* Our version 3 HELLO got REJECT version: a node of an older release.
 * Dial it again at once with version 2 (and keep doing so for a while);
 * the failed attempt does not count against the peer. */
static void s_fall_back(g_link_t *l)
{
    gossip_t *g = l->g;
    peer_t *p = g_peer(l);
    g_pinfo_t *pi = p ? g_pinfo(p) : NULL;
    g_log(g, LOG_I, "%s speaks wire version %d only", g_who(l), WIRE_VERSION_MIN);
    if (pi) {
        pi->v2_until = loop_now_ms() + G_V2_RETRY_MS;
        pi->next_dial = 0;
    }
    g_link_close(l);
    loop_timer_due(g->loop, g->tick, G_MIN_TICK_MS);
}

/* One decoded-or-not message on an existing link. */
static void s_on_link_msg(g_link_t *l, const uint8_t *msg, size_t bytes)
{
    gossip_t *g = l->g;
    wire_msg_t *m = malloc(sizeof *m);
    if (!m) return;
    l->stat_rx++;
    g->stat_bytes_rx += bytes;
    int rc = wire_decode(msg, bytes, m);
    if (rc) {
        char why[96];
        snprintf(why, sizeof why, "%s", wire_strerror(rc));
        g_link_fail(l, WIRE_R_PROTOCOL, why, 1);
        goto out;
    }
    if (l->state == G_LINKED && s_rate(l, bytes)) {
        if (!g_behind(g, loop_now_ms())) {
            g_link_fail(l, WIRE_R_ABUSE, "flooding", 1);
            goto out;
        }
        /* queued while we were not reading: the peer sent it in time */
        if (l->tok_bytes < 0) l->tok_bytes = 0;
        if (l->tok_msgs < 0) l->tok_msgs = 0;
    }
    l->t_rx = loop_now_ms();
    if (m->type == WIRE_REJECT && m->u.reason.code == WIRE_R_VERSION && l->out &&
        l->state == G_HS && l->ver > WIRE_VERSION_MIN) {
        s_fall_back(l);
        goto out;
    }
    if (m->type == WIRE_BYE || m->type == WIRE_REJECT) {
        g_log(g, LOG_I, "%s from %s: %s", wire_type_name(m->type), g_who(l), m->u.reason.text);
        if (m->u.reason.code == WIRE_R_NETWORK) g_mark_foreign(g, l, "");
        if (m->u.reason.code == WIRE_R_DUPLICATE) {
            g_link_close(l);
            goto out;
        }
        if (m->u.reason.code == WIRE_R_FULL) {
            /* It made room for a newcomer: find another peer, not it. */
            peer_t *p = g_peer(l);
            g_pinfo_t *pi = p ? g_pinfo(p) : NULL;
            if (pi) {
                /* Doubling, so a seed everyone lists as static is not
                 * re-dialed by all of them every 30 s. */
                if (pi->full_backoff < G_FULL_BACKOFF_MS) pi->full_backoff = G_FULL_BACKOFF_MS;
                pi->next_dial = loop_now_ms() + pi->full_backoff;
                if (pi->full_backoff < G_FULL_BACKOFF_MAX_MS) pi->full_backoff *= 2;
            }
        }
        g_link_fail(l, 0, "closed by peer", 0);
        goto out;
    }
    if (l->state == G_HS) {
        if (l->out && m->type == WIRE_WELCOME) {
            if (m->ver < l->ver) l->ver = m->ver; /* never above what the listener speaks */
            if (g_on_welcome(l, &m->u.hello)) s_link_up(l);
        } else if (!l->out && m->type == WIRE_ACK) {
            if (g_on_ack(l, m)) s_link_up(l);
        } else
            g_link_fail(l, WIRE_R_PROTOCOL, "unexpected message during handshake", 1);
        goto out;
    }
    peer_t *p = g_peer(l);
    if (p) peers_touch(g->peers, p);
    switch (m->type) {
    case WIRE_PING: {
        uint8_t b[8];
        size_t len;
        wire_enc_seq(m->u.seq, b, sizeof b, &len);
        g_send(l, WIRE_PONG, b, len);
        break;
    }
    case WIRE_PONG:
        break;
    case WIRE_HELLO:
    case WIRE_WELCOME:
    case WIRE_ACK:
        g_link_fail(l, WIRE_R_PROTOCOL, "handshake message on a linked link", 1);
        break;
    default:
        g_sync_on_msg(l, m);
        break;
    }
out:
    free(m);
}

typedef struct {
    zmq_msg_t part[8];
    size_t n;
    int overflow;
} s_inmsg_t;

/* Read one whole multipart message (at most cap parts are kept; the rest is
 * drained and flagged). 0, or -1 when nothing is waiting. */
static int s_read(void *s, s_inmsg_t *in, size_t cap)
{
    in->n = 0;
    in->overflow = 0;
    for (;;) {
        zmq_msg_t tmp;
        zmq_msg_init(&tmp);
        if (zmq_msg_recv(&tmp, s, in->n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&tmp);
            return in->n ? 0 : -1;
        }
        int more = zmq_msg_more(&tmp);
        if (in->n < cap) {
            in->part[in->n++] = tmp;
        } else {
            in->overflow = 1;
            zmq_msg_close(&tmp);
        }
        if (!more) return 0;
    }
}

static void s_inmsg_close(s_inmsg_t *in)
{
    for (size_t i = 0; i < in->n; i++) zmq_msg_close(&in->part[i]);
    in->n = 0;
}

/* A message of more than one frame is no message of ours: a peer of wire
 * version 1 (multipart) gets REJECT version, anything else is malformed. */
static int s_multipart_rc(zmq_msg_t *first)
{
    const uint8_t *p = zmq_msg_data(first);
    return zmq_msg_size(first) >= 1 && (p[0] < WIRE_VERSION_MIN || p[0] > WIRE_VERSION)
               ? WIRE_E_VERSION
               : WIRE_E_MALFORMED;
}

static void s_dealer_in(loop_t *loop, loop_watch_t *w, short revents, void *arg)
{
    g_link_t *l = arg;
    s_inmsg_t in;
    (void)loop;
    (void)w;
    (void)revents;
    for (int i = 0; i < G_READ_BURST && l->state != G_DEAD; i++) {
        if (s_read(l->sock, &in, 1)) break;
        if (in.overflow)
            g_link_fail(
                l, s_multipart_rc(&in.part[0]) == WIRE_E_VERSION ? WIRE_R_VERSION : WIRE_R_PROTOCOL,
                "a message of several frames", 1);
        else
            s_on_link_msg(l, zmq_msg_data(&in.part[0]), zmq_msg_size(&in.part[0]));
        s_inmsg_close(&in);
    }
}

static g_link_t *s_link_by_rid(gossip_t *g, const uint8_t *rid, size_t rid_len)
{
    for (g_link_t *x = g->links; x; x = x->next)
        if (!x->out && x->state != G_DEAD && x->rid_len == rid_len &&
            memcmp(x->rid, rid, rid_len) == 0)
            return x;
    return NULL;
}

/* A message on a ROUTER connection we hold no session for: only a HELLO
 * starts one. */
static void s_router_stranger(gossip_t *g, s_inmsg_t *in)
{
    const uint8_t *rid = zmq_msg_data(&in->part[0]);
    size_t rid_len = zmq_msg_size(&in->part[0]);
    if (rid_len > sizeof(((g_link_t *)0)->rid)) return;
    wire_msg_t *m = malloc(sizeof *m);
    if (!m) return;
    int rc = in->overflow ? s_multipart_rc(&in->part[1])
                          : wire_decode(zmq_msg_data(&in->part[1]), zmq_msg_size(&in->part[1]), m);
    if (rc == 0 && m->type == WIRE_HELLO) {
        const char *uid = zmq_msg_gets(&in->part[1], "User-Id");
        const char *addr = zmq_msg_gets(&in->part[1], "Peer-Address");
        g_on_hello(g, rid, rid_len, uid, addr, m->ver, &m->u.hello);
    } else if (rc == WIRE_E_VERSION) {
        g_router_reply(g, rid, rid_len, WIRE_REJECT, WIRE_R_VERSION, "wire version not supported");
    } else if (!(rc == 0 && (m->type == WIRE_BYE || m->type == WIRE_REJECT)) &&
               !g_quiet(g, rid, rid_len)) {
        g_router_reply(g, rid, rid_len, WIRE_BYE, WIRE_R_PROTOCOL, "no session");
    }
    free(m);
}

static void s_router_in(loop_t *loop, loop_watch_t *w, short revents, void *arg)
{
    gossip_t *g = arg;
    s_inmsg_t in;
    (void)loop;
    (void)w;
    (void)revents;
    for (int i = 0; i < G_READ_BURST && !g->router_paused; i++) {
        if (s_read(g->router, &in, 2)) break;
        if (in.n < 2) {
            s_inmsg_close(&in);
            continue;
        }
        g_link_t *l = s_link_by_rid(g, zmq_msg_data(&in.part[0]), zmq_msg_size(&in.part[0]));
        if (!l)
            s_router_stranger(g, &in);
        else if (in.overflow)
            g_link_fail(
                l, s_multipart_rc(&in.part[1]) == WIRE_E_VERSION ? WIRE_R_VERSION : WIRE_R_PROTOCOL,
                "a message of several frames", 1);
        else
            s_on_link_msg(l, zmq_msg_data(&in.part[1]), zmq_msg_size(&in.part[1]));
        s_inmsg_close(&in);
    }
}

/* ZAP: accept CURVE clients that are not held off; User-Id = client key hex. */
static void s_zap_in(loop_t *loop, loop_watch_t *w, short revents, void *arg)
{
    gossip_t *g = arg;
    for (int i = 0; i < G_READ_BURST; i++) {
        s_inmsg_t in;
        if (s_read(g->zap, &in, 8)) break;
        const char *status = "400", *text = "refused";
        char user[65] = "";
        if (in.n >= 6 && !in.overflow && zmq_msg_size(&in.part[0]) == 3 &&
            !memcmp(zmq_msg_data(&in.part[0]), "1.0", 3)) {
            size_t ml = zmq_msg_size(&in.part[5]);
            if (ml == 5 && !memcmp(zmq_msg_data(&in.part[5]), "CURVE", 5) && in.n == 7 &&
                zmq_msg_size(&in.part[6]) == 32) {
                const uint8_t *key = zmq_msg_data(&in.part[6]);
                if (!g_held(g, NULL, key)) {
                    status = "200";
                    text = "OK";
                    event_hex(key, 32, user);
                } else {
                    text = "held off";
                }
            }
        }
        /* Reply: version, request id, status, text, user id, metadata. */
        zmq_send(g->zap, "1.0", 3, ZMQ_SNDMORE);
        if (in.n >= 2)
            zmq_send(g->zap, zmq_msg_data(&in.part[1]), zmq_msg_size(&in.part[1]), ZMQ_SNDMORE);
        else
            zmq_send(g->zap, "", 0, ZMQ_SNDMORE);
        zmq_send(g->zap, status, 3, ZMQ_SNDMORE);
        zmq_send(g->zap, text, strlen(text), ZMQ_SNDMORE);
        zmq_send(g->zap, user, strlen(user), ZMQ_SNDMORE);
        zmq_send(g->zap, "", 0, 0);
        s_inmsg_close(&in);
    }
}

/* ---- the tick: heartbeats, timeouts, dialing ---- */

static int s_has_link(gossip_t *g, const peer_t *p)
{
    for (g_link_t *l = g->links; l; l = l->next) {
        if (l->state == G_DEAD) continue;
        if (l->peer_id == p->id) return 1;
        if (p->has_node && l->has_node && !memcmp(l->node, p->node, 32)) return 1;
    }
    return 0;
}

/* Earlier of a deadline so far and t (0 = none). */
static void s_due(uint64_t *next, uint64_t t)
{
    if (t && (!*next || t < *next)) *next = t;
}

/* Dial p if it is time; *next learns when p next wants attention. */
/* A peer no source vouches for any more (static list reloaded without it,
 * PEX aged it out) is not dialed again: a handshake still under way is
 * dropped and the entry goes back to SEEN, which frees it (peers.h). 1 if
 * p is gone. */
static int s_forget_sourceless(gossip_t *g, peer_t *p)
{
    if (p->sources || p->state != PEER_CONNECTING) return 0;
    for (g_link_t *l = g->links; l; l = l->next)
        if (l->peer_id == p->id && l->state == G_LINKED) return 0;
    for (g_link_t *l = g->links; l; l = l->next)
        if (l->peer_id == p->id && l->state == G_HS) g_link_close(l);
    peers_set_state(g->peers, p, PEER_SEEN);
    return 1;
}

/* 1 if p may be dialed now; otherwise *next learns when it may be. */
static int s_dialable(gossip_t *g, peer_t *p, uint64_t now, uint64_t *next)
{
    if (!p->endpoint[0] || s_forget_sourceless(g, p)) return 0;
    /* Another network: an advertised id is believed (never dialed); a key
     * mismatch is re-checked on its own backoff (g_keyfail set next_dial). */
    if ((p->state == PEER_FOREIGN || p->net_match == 0) && !p->key_mismatch) return 0;
    if (p->has_node && g_held(g, p->node, NULL)) return 0;
    g_pinfo_t *pi = g_pinfo(p);
    if (!pi || s_has_link(g, p)) return 0;
    if (now < pi->next_dial) {
        s_due(next, pi->next_dial);
        return 0;
    }
    if (p->has_node && memcmp(p->node, g->node.pk, 32) < 0 && now - pi->first_seen < G_DEFER_MS) {
        s_due(next, pi->first_seen + G_DEFER_MS); /* they have the smaller key: their go */
        return 0;
    }
    return 1;
}

static void s_dial_now(gossip_t *g, peer_t *p, uint64_t now, uint64_t *next)
{
    g_pinfo_t *pi = g_pinfo(p);
    if (!pi) return;
    if (g->dials >= G_MAX_DIALS) {
        s_due(next, now + G_HANDSHAKE_MS / 4); /* a slot frees when one finishes */
        return;
    }
    pi->next_dial = now + pi->backoff + G_HANDSHAKE_MS;
    pi->backoff = pi->backoff * 2 > G_BACKOFF_MAX_MS ? G_BACKOFF_MAX_MS : pi->backoff * 2;
    s_dial(g, p);
}

/* A static peer is dialed whatever the overlay holds -- unless it once
 * made room with BYE 9 and we have our G_ACTIVE links: then it is one of
 * the passive view like the rest. Otherwise a seed that every node lists
 * would be re-dialed by all of them for ever (each dial a CURVE handshake,
 * a reconciliation and a BYE 9 on the seed), and its idle cost would grow
 * with the size of the office. */
static int s_static_forced(peer_t *p, size_t active)
{
    if (!(p->sources & PEER_SRC_STATIC)) return 0;
    g_pinfo_t *pi = g_pinfo(p);
    return !(pi && pi->full_backoff && active >= G_ACTIVE);
}

/* The active view (PROTOCOL.md §2.7): static peers are always dialed; of
 * the rest of the table (the passive view: mDNS, peer exchange, peers
 * that linked before) we dial random ones until G_ACTIVE links are up or
 * being dialed. Reservoir sampling picks them uniformly in one pass. */
static void s_fill_active(gossip_t *g, uint64_t now, uint64_t *next)
{
    size_t active = 0;
    g->dials = 0;
    for (g_link_t *l = g->links; l; l = l->next) {
        active += l->state == G_LINKED || (l->out && l->state == G_HS);
        g->dials += l->out && l->state == G_HS;
    }
    size_t want = active < G_ACTIVE ? G_ACTIVE - active : 0, npick = 0;
    uint32_t pick[G_ACTIVE], seen = 0;
    for (peer_t *p = peers_first(g->peers); p;) {
        peer_t *pn = peers_next(g->peers, p);
        if (s_dialable(g, p, now, next)) {
            if (s_static_forced(p, active)) {
                s_dial_now(g, p, now, next);
            } else if (want) {
                seen++;
                if (npick < want) {
                    pick[npick++] = p->id;
                } else {
                    uint32_t r = randombytes_uniform(seen);
                    if (r < want) pick[r] = p->id;
                }
            }
        }
        p = pn;
    }
    for (size_t i = 0; i < npick; i++) {
        peer_t *p = peers_find_id(g->peers, pick[i]);
        if (p) s_dial_now(g, p, now, next);
    }
}

/* A link just came up and we hold G_ACTIVE_MAX others: close a random one
 * that is not to a static peer (BYE 9), so a newcomer always gets in (the
 * HyParView join rule) and no node's degree passes the bound. A lazy link
 * goes first: closing an eager one cuts the spread's tree, which then has
 * to be grafted back. */
static int s_room_candidate(g_link_t *o, const g_link_t *keep, int lazy_only)
{
    if (o == keep || o->state != G_LINKED) return 0;
    peer_t *p = g_peer(o);
    if (p && (p->sources & PEER_SRC_STATIC)) return 0;
    return !lazy_only || (o->ver >= 3 && !o->eager);
}

static void s_make_room(gossip_t *g, g_link_t *keep)
{
    size_t n = 0, cand = 0, lazy = 0;
    for (g_link_t *o = g->links; o; o = o->next) {
        n += o != keep && o->state == G_LINKED;
        cand += s_room_candidate(o, keep, 0);
        lazy += s_room_candidate(o, keep, 1);
    }
    if (n < G_ACTIVE_MAX || cand == 0) return;
    int lazy_only = lazy > 0;
    uint32_t r = randombytes_uniform((uint32_t)(lazy_only ? lazy : cand));
    for (g_link_t *o = g->links; o; o = o->next) {
        if (!s_room_candidate(o, keep, lazy_only)) continue;
        if (r-- == 0) {
            g->stat_room++;
            g_link_fail(o, WIRE_R_FULL, "making room in the overlay", 0);
            return;
        }
    }
}

/* When the dialer of l owes a PING: G_PING_MS after the later of our last
 * PING and the older of the last message each way -- so the listener hears
 * from us although we may only be receiving, and we hear its PONG although
 * we may only be sending. */
static uint64_t s_ping_due(const g_link_t *l)
{
    uint64_t quiet = l->t_tx < l->t_rx ? l->t_tx : l->t_rx;
    uint64_t t = quiet > l->t_ping ? quiet : l->t_ping;
    return t + G_PING_MS;
}

/* When an accepted link we do not read (g_behind) needs a sign of life
 * from us: its dialer's PINGs wait unread, so nothing answers them. */
static uint64_t s_alive_due(const g_link_t *l)
{
    return (l->t_tx > l->t_ping ? l->t_tx : l->t_ping) + G_PING_MS;
}

/* Housekeeping: heartbeats, timeouts, dialing, hold-offs, back-pressure,
 * and the replication timers (g_sync_tick). It runs when the earliest of
 * those is due, not on a fixed period, so an idle node sleeps between
 * heartbeats; heartbeats due within G_SLACK_MS are sent together. Only the
 * dialer of a link sends PING (the listener's PONG is its sign of life),
 * so a quiet link costs one message each way per G_PING_MS: with 8-16
 * links the heartbeats are most of what an idle node does. */
static void s_tick(loop_t *loop, loop_timer_t *t, void *arg)
{
    gossip_t *g = arg;
    uint64_t now = loop_now_ms(), next = now + G_IDLE_MAX_MS;
    int behind = g_behind(g, now);
    for (g_link_t *l = g->links; l; l = l->next) {
        /* Accepted links are not read while we are behind: their silence
         * is ours, so it closes nothing, and a PONG now and then tells the
         * dialer we live (any message is a sign of life). */
        int deaf = behind && !l->out;
        uint8_t b[8];
        size_t len;
        if (l->state == G_HS && now - l->t_start > G_HANDSHAKE_MS) {
            g_link_fail(l, 0, "handshake timed out", 0);
        } else if (l->state == G_LINKED && !deaf && now - l->t_rx > G_DEAD_MS) {
            g_link_fail(l, 0, "heartbeat timed out", 0);
        } else if (l->state == G_LINKED && l->out && s_ping_due(l) <= now + G_SLACK_MS) {
            wire_enc_seq(++l->ping_seq, b, sizeof b, &len);
            if (g_send(l, WIRE_PING, b, len) == 0) l->t_ping = now;
        } else if (l->state == G_LINKED && deaf && s_alive_due(l) <= now + G_SLACK_MS) {
            wire_enc_seq(0, b, sizeof b, &len);
            if (g_send(l, WIRE_PONG, b, len) == 0) l->t_ping = now;
        }
        if (l->state == G_HS) s_due(&next, l->t_start + G_HANDSHAKE_MS + 1);
        if (l->state == G_LINKED) {
            s_due(&next, deaf ? s_alive_due(l) : l->t_rx + G_DEAD_MS + 1);
            if (l->out) s_due(&next, s_ping_due(l));
        }
    }
    s_fill_active(g, now, &next);
    g_holds_expire(g, now);
    g_sync_pressure(g, now);
    if (ingest_pending(g->ingest) || g->router_paused) s_due(&next, now + G_BUSY_TICK_MS);
    s_due(&next, g_sync_tick(g, now));
    g_reap(g);
    if (next < now + G_MIN_TICK_MS) next = now + G_MIN_TICK_MS;
    loop_timer_reset(loop, t, next - now);
}

static void s_work(loop_t *loop, loop_timer_t *t, void *arg)
{
    g_sync_work(arg);
}

static void s_on_peers(peers_t *t, peers_ev_t ev, peer_t *p, void *arg)
{
    gossip_t *g = arg;
    if (ev == PEERS_EV_GONE) {
        free(p->user);
        p->user = NULL;
        for (g_link_t *l = g->links; l; l = l->next)
            if (l->peer_id == p->id) l->peer_id = 0;
        return;
    }
    if (ev == PEERS_EV_UP || ev == PEERS_EV_CHANGED) {
        /* Re-dial a known node soon when discovery sees it (again). */
        g_pinfo_t *pi = g_pinfo(p);
        if (pi && ev == PEERS_EV_UP) pi->next_dial = 0;
        loop_timer_due(g->loop, g->tick, 5);
    }
}

/* ---- lifecycle ---- */

static void *s_socket(gossip_t *g, int type, char *err, size_t errlen)
{
    void *s = zmq_socket(g->zctx, type);
    if (!s) snprintf(err, errlen, "gossip: zmq_socket: %s", zmq_strerror(errno));
    int zero = 0;
    if (s) zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    return s;
}

gossip_t *gossip_new(const gossip_opts_t *o, char *err, size_t errlen)
{
    if (!o || !o->loop || !o->zctx || !o->store || !o->ingest || !o->peers || !o->node ||
        !o->listen) {
        snprintf(err, errlen, "gossip: missing options");
        return NULL;
    }
    if (sodium_init() < 0) {
        snprintf(err, errlen, "gossip: libsodium failed to initialise");
        return NULL;
    }
    gossip_t *g = calloc(1, sizeof *g);
    if (!g) goto nomem;
    g->loop = o->loop;
    g->zctx = o->zctx;
    g->store = o->store;
    g->ingest = o->ingest;
    g->peers = o->peers;
    g->log = o->log;
    g->node = *o->node;
    g->ingest_high = G_INGEST_HIGH;
#ifdef TIPD_TEST_HOOKS
    const char *hi = getenv("TIPD_TEST_INGEST_HIGH");
    if (hi && atol(hi) > 0) g->ingest_high = (size_t)atol(hi);
#endif
    if (crypto_sign_ed25519_pk_to_curve25519(g->curve_pk, g->node.pk) != 0 ||
        crypto_sign_ed25519_sk_to_curve25519(g->curve_sk, g->node.sk) != 0) {
        snprintf(err, errlen, "gossip: node key cannot be converted to a CURVE key");
        goto fail;
    }
    if (o->netkey) {
        g->has_netkey = 1;
        memcpy(g->netkey, o->netkey, 32);
        ident_net_id(g->netkey, g->net_id);
    } else {
        snprintf(g->net_id, sizeof g->net_id, "open");
    }
    wire_server_keys(o->netkey, g->server_pk, g->server_sk);
    snprintf(g->name, sizeof g->name, "%s", o->name ? o->name : "");
    snprintf(g->listen, sizeof g->listen, "%s", o->listen);
    g->anchor = calloc(1, sizeof *g->anchor);
    g->set = recon_set_new(g_sync_fetch, g);
    g->recon_buf = malloc(RECON_MAX_MSG);
    g->ev_buf = malloc(WIRE_MAX_MSG);
    g->msg_buf = malloc(WIRE_MAX_MSG);
    g->ev = malloc(sizeof(event_t));
    if (g_idset_init(&g->submitted, G_SUBMITTED_SLOTS) || g_idset_init(&g->awaited, 1 << 15))
        goto nomem;
    g->want_cap = 1 << 16; /* direct-mapped: collisions refetch a body; 1 MiB */
    g->want_key = calloc(g->want_cap, sizeof(uint64_t));
    g->want_t = calloc(g->want_cap, sizeof(uint64_t));
    if (!g->anchor || !g->set || !g->recon_buf || !g->ev_buf || !g->msg_buf || !g->ev ||
        !g->want_key || !g->want_t)
        goto nomem;
    g->anchor->g = g;
    g->anchor->refs = 1;

    /* ZAP first: a CURVE socket bound without a handler accepts anyone. */
    g->zap = s_socket(g, ZMQ_REP, err, errlen);
    if (!g->zap) goto fail;
    if (zmq_bind(g->zap, S_ZAP_ENDPOINT) < 0) {
        snprintf(err, errlen, "gossip: cannot bind the ZAP handler: %s", zmq_strerror(errno));
        goto fail;
    }
    g->router = s_socket(g, ZMQ_ROUTER, err, errlen);
    if (!g->router) goto fail;
    int one = 1, hwm = G_SNDHWM, rhwm = G_RCVHWM, hs = G_HANDSHAKE_MS, zero = 0;
    int64_t maxmsg = WIRE_MAX_MSG;
    if (zmq_setsockopt(g->router, ZMQ_CURVE_SERVER, &one, sizeof one) ||
        zmq_setsockopt(g->router, ZMQ_CURVE_SECRETKEY, g->server_sk, 32) ||
        zmq_setsockopt(g->router, ZMQ_ZAP_DOMAIN, "tipd", 4) ||
        zmq_setsockopt(g->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one) ||
        zmq_setsockopt(g->router, ZMQ_SNDHWM, &hwm, sizeof hwm) ||
        zmq_setsockopt(g->router, ZMQ_RCVHWM, &rhwm, sizeof rhwm) ||
        zmq_setsockopt(g->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) ||
        zmq_setsockopt(g->router, ZMQ_HANDSHAKE_IVL, &hs, sizeof hs) ||
        zmq_setsockopt(g->router, ZMQ_SNDTIMEO, &zero, sizeof zero)) {
        snprintf(err, errlen, "gossip: socket options: %s", zmq_strerror(errno));
        goto fail;
    }
    if (zmq_bind(g->router, o->listen) < 0) {
        int e = errno;
        /* ZeroMQ says "No such device" for a host that is not one of ours. */
        snprintf(err, errlen, "gossip: cannot listen on %s: %s%s", o->listen, zmq_strerror(e),
                 e == ENODEV || e == EADDRNOTAVAIL
                     ? " (listen takes * or an address or interface of this machine)"
                     : "");
        goto fail;
    }
    char last[300];
    size_t ll = sizeof last;
    if (zmq_getsockopt(g->router, ZMQ_LAST_ENDPOINT, last, &ll) == 0) g->port = endpoint_port(last);
    /* Advertise what we were told to listen on, with the real port. */
    const char *c = strrchr(o->listen, ':');
    snprintf(g->advertise, sizeof g->advertise, "%.*s:%u",
             c ? (int)(c - o->listen) : (int)strlen(o->listen), o->listen, g->port);

    if (g_sync_load(g) < 0) {
        snprintf(err, errlen, "gossip: cannot read the sync set from the store");
        goto fail;
    }
    g->zap_w = loop_watch_zsock(g->loop, g->zap, ZMQ_POLLIN, s_zap_in, g);
    g->router_w = loop_watch_zsock(g->loop, g->router, ZMQ_POLLIN, s_router_in, g);
    g->tick = loop_timer_add(g->loop, G_MIN_TICK_MS, 0, s_tick, g);
    g->inv_timer = loop_timer_add(g->loop, G_INV_DELAY_MS, 0, g_sync_flush_inv, g);
    g->work_timer = loop_timer_add(g->loop, 10, 0, s_work, g);
    g->lazy_timer = loop_timer_add(g->loop, G_LAZY_DELAY_MS, 0, g_sync_flush_lazy, g);
    if (!g->zap_w || !g->router_w || !g->tick || !g->inv_timer || !g->work_timer || !g->lazy_timer)
        goto nomem;
    loop_timer_disarm(g->loop, g->inv_timer);
    loop_timer_disarm(g->loop, g->lazy_timer);
    loop_timer_disarm(g->loop, g->work_timer);
    if (peers_listen(g->peers, s_on_peers, g) < 0) {
        snprintf(err, errlen, "gossip: peer table has no free listener slot");
        goto fail;
    }
    ingest_on_new(g->ingest, g_sync_on_new, g);
    g->next_recon = loop_now_ms() + G_RECON_MS;
    g_log(g, LOG_I, "listening on %s (port %u), network %s, %ld events in the sync set", o->listen,
          g->port, g->net_id, recon_set_seal(g->set));
    return g;
nomem:
    snprintf(err, errlen, "gossip: out of memory");
fail:
    gossip_destroy(&g);
    return NULL;
}

void gossip_destroy(gossip_t **pp)
{
    if (!pp || !*pp) return;
    gossip_t *g = *pp;
    if (g->peers) {
        peers_unlisten(g->peers, s_on_peers, g);
        for (peer_t *p = peers_first(g->peers); p; p = peers_next(g->peers, p)) {
            free(p->user);
            p->user = NULL;
        }
    }
    if (g->ingest && g->anchor) ingest_off_new(g->ingest, g_sync_on_new, g);
    for (g_link_t *l = g->links; l; l = l->next) {
        if (l->state == G_LINKED) g_send_reason(l, WIRE_BYE, WIRE_R_SHUTDOWN, "node stopping");
        g_link_close(l);
    }
    g_reap(g);
    if (g->loop) {
        if (g->zap_w) loop_watch_free(g->loop, g->zap_w);
        if (g->router_w) loop_watch_free(g->loop, g->router_w);
        if (g->tick) loop_timer_free(g->loop, g->tick);
        if (g->inv_timer) loop_timer_free(g->loop, g->inv_timer);
        if (g->work_timer) loop_timer_free(g->loop, g->work_timer);
        if (g->lazy_timer) loop_timer_free(g->loop, g->lazy_timer);
    }
    if (g->router) zmq_close(g->router);
    if (g->zap) zmq_close(g->zap);
    g_holds_expire(g, UINT64_MAX);
    if (g->anchor) {
        g->anchor->g = NULL;
        if (--g->anchor->refs == 0) free(g->anchor);
    }
    recon_set_destroy(&g->set);
    free(g->recon_buf);
    free(g->ev_buf);
    free(g->msg_buf);
    free(g->ev);
    free(g->inv);
    free(g->lazy);
    free(g->missing);
    free(g->want_key);
    free(g->want_t);
    g_idset_free(&g->submitted);
    g_idset_free(&g->awaited);
    sodium_memzero(&g->node, sizeof g->node);
    sodium_memzero(g->curve_sk, sizeof g->curve_sk);
    sodium_memzero(g->server_sk, sizeof g->server_sk);
    sodium_memzero(g->netkey, sizeof g->netkey);
    free(g);
    *pp = NULL;
}

uint16_t gossip_port(const gossip_t *g)
{
    return g ? g->port : 0;
}

static size_t s_linked(const gossip_t *g)
{
    size_t n = 0;
    if (!g) return 0;
    for (const g_link_t *l = g->links; l; l = l->next) n += l->state == G_LINKED;
    return n;
}

json_t *gossip_stats_json(const gossip_t *g)
{
    json_t *o = json_object();
    if (!g || !o) return o;
    size_t hs = 0, eager = 0, v2 = 0;
    for (const g_link_t *l = g->links; l; l = l->next) {
        hs += l->state == G_HS;
        eager += l->state == G_LINKED && l->ver >= 3 && l->eager;
        v2 += l->state == G_LINKED && l->ver < 3;
    }
    json_object_set_new(o, "linked", json_integer((json_int_t)s_linked(g)));
    json_object_set_new(o, "handshaking", json_integer((json_int_t)hs));
    json_object_set_new(o, "sync_set",
                        json_integer((json_int_t)recon_set_size(((gossip_t *)g)->set)));
    json_object_set_new(o, "recons", json_integer((json_int_t)g->stat_recons));
    json_object_set_new(o, "events_in", json_integer((json_int_t)g->stat_ev_rx));
    json_object_set_new(o, "events_out", json_integer((json_int_t)g->stat_ev_tx));
    json_object_set_new(o, "rejected", json_integer((json_int_t)g->stat_rejects));
    json_object_set_new(o, "replays", json_integer((json_int_t)g->stat_replays));
    json_object_set_new(o, "unasked", json_integer((json_int_t)g->stat_unasked));
    json_object_set_new(o, "pex_refused", json_integer((json_int_t)g->stat_pex_refused));
    json_object_set_new(o, "pex_aged", json_integer((json_int_t)g->stat_pex_aged));
    json_object_set_new(o, "made_room", json_integer((json_int_t)g->stat_room));
    json_object_set_new(o, "bytes_out", json_integer((json_int_t)g->stat_bytes_tx));
    json_object_set_new(o, "bytes_in", json_integer((json_int_t)g->stat_bytes_rx));
    json_object_set_new(o, "eager", json_integer((json_int_t)eager));
    json_object_set_new(o, "linked_v2", json_integer((json_int_t)v2));
    json_object_set_new(o, "pushed", json_integer((json_int_t)g->stat_pushed));
    json_object_set_new(o, "grafts", json_integer((json_int_t)g->stat_grafts));
    json_object_set_new(o, "prunes", json_integer((json_int_t)g->stat_prunes));
    json_object_set_new(o, "awaited", json_integer((json_int_t)g->nmissing));
    json_object_set_new(o, "port", json_integer(g->port));
    json_object_set_new(o, "network", json_string(g->net_id));
    return o;
}
