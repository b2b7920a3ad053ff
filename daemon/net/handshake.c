/* handshake.c -- the link handshake (docs/PROTOCOL.md section 2.4).
 *
 * Dialer HELLO -> listener WELCOME -> dialer ACK. The listener first checks
 * that the HELLO's node key converts to the CURVE key the connection
 * authenticated with (ZAP put it in User-Id), that it is not us, not held
 * off and on our network id; it answers with its own node key, a fresh nonce,
 * a network proof and an Ed25519 signature over both keys and both nonces.
 * The dialer checks proof and signature and answers with its own proof; the
 * listener checks that and the link is up. Proofs are keyed BLAKE2b over
 * (from, to, nonces), so each is good for one direction of one session only.
 * Any failure answers REJECT and forgets the connection; a network mismatch
 * also marks the peer foreign in the table. Nothing but these messages may
 * cross before the link is up (gossip.c enforces it).
 */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "endpoint.h"
#include "handshake.h"

/* An advertised wildcard endpoint (host "*", 0.0.0.0 or [::]) seen from addr becomes
 * "tcp://addr:PORT"; one that does not parse becomes "". */
static void s_fix_endpoint(const char *adv, const char *addr, char *out, size_t cap)
{
    endpoint_t e;
    out[0] = 0;
    if (endpoint_parse(adv, &e) != ENDPOINT_OK) return;
    if (e.wildcard && addr && addr[0]) {
        if (endpoint_format(addr, e.port, out, cap) < 0) out[0] = 0;
    } else {
        snprintf(out, cap, "%s", adv);
    }
}

void g_fill_hello(gossip_t *g, wire_hello_t *h, const uint8_t *nonce)
{
    memset(h, 0, sizeof *h);
    h->node = g->node.pk;
    h->nonce = nonce;
    snprintf(h->endpoint, sizeof h->endpoint, "%s", g->advertise);
    snprintf(h->name, sizeof h->name, "%s", g->name);
    snprintf(h->net, sizeof h->net, "%s", g->net_id);
}

static int s_net_ok_name(const gossip_t *g, const char *net)
{
    return strcmp(net, g->net_id) == 0;
}

void g_mark_foreign(gossip_t *g, g_link_t *l, const char *net)
{
    peer_t *p = g_peer(l);
    if (!p && l->has_node) p = peers_find_node(g->peers, l->node);
    if (p) {
        if (l->has_node && !p->has_node) p = peers_set_node(g->peers, p, l->node, NULL, net, 0);
        if (p) peers_set_state(g->peers, p, PEER_FOREIGN);
    }
}

/* Listener: a HELLO on a connection we hold no session for. */
void g_on_hello(gossip_t *g, const uint8_t *rid, size_t rid_len, const char *user_id,
                const char *peer_addr, uint8_t ver, const wire_hello_t *h)
{
    uint8_t curve[32], tkey[32];
    if (!user_id || strlen(user_id) != 64 || event_unhex(user_id, tkey, 32) != 0 ||
        crypto_sign_ed25519_pk_to_curve25519(curve, h->node) != 0 || memcmp(curve, tkey, 32)) {
        g_router_reply(g, rid, rid_len, WIRE_REJECT, WIRE_R_IDENTITY,
                       "node key does not match the transport key");
        return;
    }
    if (memcmp(h->node, g->node.pk, 32) == 0) {
        g_router_reply(g, rid, rid_len, WIRE_REJECT, WIRE_R_SELF, "that is me");
        return;
    }
    if (g_held(g, h->node, NULL)) {
        g_router_reply(g, rid, rid_len, WIRE_REJECT, WIRE_R_ABUSE, "held off");
        return;
    }
    if (!s_net_ok_name(g, h->net)) {
        g_router_reply(g, rid, rid_len, WIRE_REJECT, WIRE_R_NETWORK, "another network");
        peer_t *p = peers_find_node(g->peers, h->node);
        if (p) peers_set_state(g->peers, p, PEER_FOREIGN);
        return;
    }
    g_link_t *l = g_link_new(g, 0);
    if (!l) return;
    memcpy(l->rid, rid, rid_len);
    l->rid_len = rid_len;
    l->ver = ver; /* we answer, and run the link, in the dialer's version */
    memcpy(l->curve, curve, 32);
    l->has_node = 1;
    memcpy(l->node, h->node, 32);
    event_hex(l->node, 32, l->node_hex);
    memcpy(l->nonce_d, h->nonce, WIRE_NONCE_LEN);
    randombytes_buf(l->nonce_l, WIRE_NONCE_LEN);
    s_fix_endpoint(h->endpoint, peer_addr, l->endpoint, sizeof l->endpoint);
    l->conn_lo = peer_addr && (!strncmp(peer_addr, "127.", 4) || !strcmp(peer_addr, "::1") ||
                               !strncmp(peer_addr, "::ffff:127.", 11));
    snprintf(l->name, sizeof l->name, "%s", h->name);

    uint8_t proof[WIRE_PROOF_LEN], sig[WIRE_SIG_LEN], msg[111];
    size_t mlen;
    wire_hello_t w;
    g_fill_hello(g, &w, l->nonce_l);
    if (g->has_netkey) {
        wire_net_proof(g->netkey, g->node.pk, l->node, l->nonce_d, l->nonce_l, proof);
        w.proof = proof;
        w.proof_len = WIRE_PROOF_LEN;
    }
    wire_welcome_msg(g->node.pk, l->node, l->nonce_d, l->nonce_l, msg, &mlen);
    crypto_sign_detached(sig, NULL, msg, mlen, g->node.sk);
    w.sig = sig;
    uint8_t buf[600];
    size_t len;
    if (wire_enc_hello(&w, 1, buf, sizeof buf, &len) || g_send(l, WIRE_WELCOME, buf, len))
        g_link_close(l);
}

/* Dialer: the listener's WELCOME. */
int g_on_welcome(g_link_t *l, const wire_hello_t *h)
{
    gossip_t *g = l->g;
    memcpy(l->nonce_l, h->nonce, WIRE_NONCE_LEN);
    memcpy(l->node, h->node, 32);
    l->has_node = 1;
    event_hex(l->node, 32, l->node_hex);
    if (h->name[0]) snprintf(l->name, sizeof l->name, "%s", h->name);
    if (memcmp(h->node, g->node.pk, 32) == 0) {
        peer_t *p = g_peer(l);
        g_link_fail(l, WIRE_R_SELF, "dialed ourselves", 0);
        if (p) peers_set_node(g->peers, p, g->node.pk, NULL, NULL, 0); /* drops the entry */
        return 0;
    }
    if (!s_net_ok_name(g, h->net)) {
        g_mark_foreign(g, l, h->net);
        g_link_fail(l, WIRE_R_NETWORK, "another network", 0);
        return 0;
    }
    uint8_t expect[WIRE_PROOF_LEN];
    if (g->has_netkey) {
        wire_net_proof(g->netkey, h->node, g->node.pk, l->nonce_d, l->nonce_l, expect);
        if (h->proof_len != WIRE_PROOF_LEN || sodium_memcmp(expect, h->proof, WIRE_PROOF_LEN)) {
            /* It claims our network id but cannot prove it: nothing it
             * said about its network counts (net unknown, net_match false),
             * and it is checked again later like a listener of another key. */
            g_keyfail(g, g_peer(l)); /* before the close, which may forget p */
            g_link_fail(l, WIRE_R_NETWORK, "network proof missing or wrong", 0);
            return 0;
        }
    } else if (h->proof_len != 0) {
        g_link_fail(l, WIRE_R_NETWORK, "unexpected network proof on an open network", 0);
        return 0;
    }
    uint8_t msg[111];
    size_t mlen;
    wire_welcome_msg(h->node, g->node.pk, l->nonce_d, l->nonce_l, msg, &mlen);
    if (crypto_sign_verify_detached(h->sig, msg, mlen, h->node) != 0) {
        g_link_fail(l, WIRE_R_IDENTITY, "bad WELCOME signature", 0);
        return 0;
    }
    if (g_held(g, h->node, NULL)) {
        g_link_fail(l, WIRE_R_ABUSE, "held off", 0);
        return 0;
    }
    peer_t *p = g_peer(l);
    if (p) {
        p = peers_set_node(g->peers, p, h->node, h->name[0] ? h->name : NULL, h->net, l->ver);
        l->peer_id = p ? p->id : 0;
    }
    uint8_t proof[WIRE_PROOF_LEN], buf[64];
    size_t len;
    if (g->has_netkey)
        wire_net_proof(g->netkey, g->node.pk, h->node, l->nonce_d, l->nonce_l, proof);
    if (wire_enc_ack(proof, g->has_netkey ? WIRE_PROOF_LEN : 0, buf, sizeof buf, &len) ||
        g_send(l, WIRE_ACK, buf, len)) {
        g_link_fail(l, 0, "cannot send ACK", 0);
        return 0;
    }
    return 1;
}

/* Listener: the dialer's ACK. */
int g_on_ack(g_link_t *l, const wire_msg_t *m)
{
    gossip_t *g = l->g;
    if (g->has_netkey) {
        uint8_t expect[WIRE_PROOF_LEN];
        wire_net_proof(g->netkey, l->node, g->node.pk, l->nonce_d, l->nonce_l, expect);
        if (m->u.ack.proof_len != WIRE_PROOF_LEN ||
            sodium_memcmp(expect, m->u.ack.proof, WIRE_PROOF_LEN)) {
            g_keyfail(g, peers_find_node(g->peers, l->node));
            g_link_fail(l, WIRE_R_NETWORK, "network proof missing or wrong", 0);
            return 0;
        }
    } else if (m->u.ack.proof_len != 0) {
        g_link_fail(l, WIRE_R_NETWORK, "unexpected network proof on an open network", 0);
        return 0;
    }
    peer_t *p = peers_find_node(g->peers, l->node);
    if (!p && l->endpoint[0]) p = peers_add_pex(g->peers, l->endpoint, l->node, g->net_id);
    if (p && l->name[0] && !p->name[0])
        p = peers_set_node(g->peers, p, l->node, l->name, g->net_id, l->ver);
    l->peer_id = p ? p->id : 0;
    return 1;
}
