/* test_peers.c -- cmocka tests of the peer table (daemon/peers.c) and the
 * AvahiPoll adapter (daemon/avahi_poll.c).
 *
 * The table: static endpoints (valid and malformed), mDNS reports folded by
 * node key, keyless static entries merged when mDNS or a HELLO names their
 * node, foreign networks (advertised, or a failed CURVE handshake), link states from gossip,
 * reaping, the listener event sequence and the exact JSON of the `peers` op. The adapter: watches
 * and timeouts driven by the real loop, including freeing from inside a
 * callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include <avahi-common/timeval.h>

#include "avahi_poll.h"
#include "loop.h"
#include "peers.h"

static const uint8_t OUR[32] = {1};

typedef struct {
    int n;
    peers_ev_t ev[64];
    uint32_t id[64];
} rec_t;

static void s_rec(peers_t *t, peers_ev_t ev, peer_t *p, void *arg)
{
    (void)t;
    rec_t *r = arg;
    if (r->n < 64) {
        r->ev[r->n] = ev;
        r->id[r->n] = p->id;
        r->n++;
    }
}

static disc_peer_t s_dp(uint8_t fill, const char *name, const char *net, const char *addr)
{
    disc_peer_t d;
    memset(&d, 0, sizeof d);
    memset(d.node, fill, 32);
    for (int i = 0; i < 32; i++) snprintf(d.node_hex + 2 * i, 3, "%02x", fill);
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.net, sizeof d.net, "%s", net);
    snprintf(d.inst, sizeof d.inst, "00112233");
    d.version = 1;
    d.port = 7714;
    d.naddrs = 1;
    snprintf(d.addrs[0], sizeof d.addrs[0], "%s", addr);
    return d;
}

static void test_static_endpoints(void **state)
{
    (void)state;
    peers_t *t = peers_new(OUR, "open");
    char err[256];
    assert_int_equal(peers_add_static(t, "tcp://198.18.0.5:7714", err, sizeof err), 0);
    assert_int_equal(peers_add_static(t, "tcp://[fe80::1%eth0]:7714", err, sizeof err), 0);
    assert_int_equal(peers_add_static(t, "tcp://office-pc.local:9000", err, sizeof err), 0);
    /* The same endpoint again only adds the source (already there). */
    assert_int_equal(peers_add_static(t, "tcp://198.18.0.5:7714", err, sizeof err), 0);
    assert_int_equal(peers_count(t), 3);

    const char *bad[] = {
        "udp://1.2.3.4:1", "tcp://1.2.3.4", "tcp://1.2.3.4:0", "tcp://1.2.3.4:65536", "tcp://:7714",
        "tcp://*:7714",    "tcp://a b:1",   "tcp://[::1:7714", "tcp://1.2.3.4:12x",   ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_int_equal(peers_add_static(t, bad[i], err, sizeof err), -1);
        assert_non_null(strstr(err, "is not tcp://HOST:PORT"));
    }
    assert_int_equal(peers_add_static(t, NULL, err, sizeof err), -1);
    assert_int_equal(peers_count(t), 3);

    peer_t *p = peers_find_endpoint(t, "tcp://[fe80::1%eth0]:7714");
    assert_non_null(p);
    assert_string_equal(p->addrs[0], "fe80::1%eth0");
    assert_int_equal(p->port, 7714);
    assert_int_equal(p->has_node, 0);
    assert_int_equal(p->sources, PEER_SRC_STATIC);
    assert_int_equal(p->state, PEER_SEEN);
    assert_int_equal(p->net_match, -1);
    peers_destroy(&t);
    assert_null(t);
    peers_destroy(&t); /* idempotent */
}

static void test_mdns_up_changed_down(void **state)
{
    (void)state;
    rec_t r = {0};
    peers_t *t = peers_new(OUR, "open");
    assert_int_equal(peers_listen(t, s_rec, &r), 0);

    disc_peer_t d = s_dp(0xaa, "host2", "open", "198.18.0.12");
    peers_from_disc(t, DISC_UP, &d);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.ev[0], PEERS_EV_UP);
    peer_t *p = peers_find_node(t, d.node);
    assert_non_null(p);
    assert_string_equal(p->endpoint, "tcp://198.18.0.12:7714");
    assert_int_equal(p->net_match, 1);
    assert_int_equal(p->state, PEER_SEEN);
    assert_true(p->last_seen_ms > 0);

    /* Same report again: nothing visible changed, no event. */
    peers_from_disc(t, DISC_CHANGED, &d);
    assert_int_equal(r.n, 1);

    /* A second address (IPv6) arrives. */
    d.naddrs = 2;
    snprintf(d.addrs[1], sizeof d.addrs[1], "fe80::2%%eth0");
    peers_from_disc(t, DISC_CHANGED, &d);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.ev[1], PEERS_EV_CHANGED);
    assert_int_equal(p->naddrs, 2);

    /* Reports about ourselves are ignored. */
    disc_peer_t me = s_dp(1, "me", "open", "198.18.0.11");
    memcpy(me.node, OUR, 32);
    peers_from_disc(t, DISC_UP, &me);
    assert_int_equal(peers_count(t), 1);

    /* mDNS withdraws it: no source left, not linked -> gone. */
    peers_from_disc(t, DISC_DOWN, &d);
    assert_int_equal(peers_count(t), 0);
    assert_int_equal(r.ev[r.n - 1], PEERS_EV_GONE);
    peers_destroy(&t);
}

static void test_linked_peer_outlives_its_source(void **state)
{
    (void)state;
    peers_t *t = peers_new(OUR, "open");
    disc_peer_t d = s_dp(0xbb, "host3", "open", "198.18.0.13");
    peers_from_disc(t, DISC_UP, &d);
    peer_t *p = peers_find_node(t, d.node);
    assert_int_equal(peers_set_state(t, p, PEER_CONNECTING), 0);
    assert_int_equal(peers_set_state(t, p, PEER_LINKED), 0);
    assert_int_equal(peers_count_state(t, PEER_LINKED), 1);
    /* avahi-daemon restarts and the service is briefly gone: the link
     * keeps the entry. */
    peers_from_disc(t, DISC_DOWN, &d);
    assert_int_equal(peers_count(t), 1);
    assert_int_equal(p->sources, 0);
    /* The link drops too: now it goes. */
    assert_int_equal(peers_set_state(t, p, PEER_DOWN), 0);
    assert_int_equal(peers_count(t), 0);
    peers_destroy(&t);
}

/* A static peer whose CURVE handshake failed (another network key): foreign
 * with net unknown; a later HELLO/WELCOME on our network clears it. */
static void test_key_mismatch(void **state)
{
    (void)state;
    rec_t r = {0};
    char err[128];
    peers_t *t = peers_new(OUR, "0123456789abcdef");
    peers_listen(t, s_rec, &r);
    assert_int_equal(peers_add_static(t, "tcp://198.18.0.20:7714", err, sizeof err), 0);
    peer_t *p = peers_find_endpoint(t, "tcp://198.18.0.20:7714");
    assert_non_null(p);
    assert_int_equal(peers_set_state(t, p, PEER_CONNECTING), 0);
    r.n = 0;
    peers_set_key_mismatch(t, p, 1);
    assert_int_equal(p->key_mismatch, 1);
    assert_int_equal(p->state, PEER_FOREIGN);
    assert_int_equal(p->net_match, 0);
    assert_string_equal(p->net, "");
    assert_int_equal(r.n, 2);
    assert_int_equal(r.ev[0], PEERS_EV_CHANGED);
    assert_int_equal(r.ev[1], PEERS_EV_STATE);
    json_t *j = peers_peer_json(p);
    assert_true(json_is_null(json_object_get(j, "net")));
    assert_true(json_is_false(json_object_get(j, "net_match")));
    assert_string_equal(json_string_value(json_object_get(j, "state")), "foreign");
    json_decref(j);
    /* Gossip may not link it while the mismatch stands; again is a no-op. */
    assert_int_equal(peers_set_state(t, p, PEER_LINKED), -1);
    r.n = 0;
    peers_set_key_mismatch(t, p, 1);
    assert_int_equal(r.n, 0);
    /* The keys were fixed: a WELCOME on our network names the node. */
    uint8_t node[32];
    memset(node, 0xdd, 32);
    p = peers_set_node(t, p, node, "fixed", "0123456789abcdef", 1);
    assert_non_null(p);
    assert_int_equal(p->key_mismatch, 0);
    assert_int_equal(p->net_match, 1);
    assert_int_equal(p->state, PEER_SEEN);
    assert_int_equal(peers_set_state(t, p, PEER_LINKED), 0);
    /* Cleared explicitly with no advertised net: back to unknown. */
    peer_t *q = NULL;
    assert_int_equal(peers_add_static(t, "tcp://198.18.0.21:7714", err, sizeof err), 0);
    q = peers_find_endpoint(t, "tcp://198.18.0.21:7714");
    peers_set_key_mismatch(t, q, 1);
    assert_int_equal(q->state, PEER_FOREIGN);
    peers_set_key_mismatch(t, q, 0);
    assert_int_equal(q->net_match, -1);
    assert_int_equal(q->state, PEER_SEEN);
    peers_destroy(&t);
}

static void test_foreign_network(void **state)
{
    (void)state;
    rec_t r = {0};
    peers_t *t = peers_new(OUR, "0123456789abcdef");
    peers_listen(t, s_rec, &r);
    disc_peer_t d = s_dp(0xcc, "other", "fedcba9876543210", "198.18.0.14");
    peers_from_disc(t, DISC_UP, &d);
    peer_t *p = peers_find_node(t, d.node);
    assert_int_equal(p->net_match, 0);
    assert_int_equal(p->state, PEER_FOREIGN);
    /* Gossip may not move it out of FOREIGN. */
    assert_int_equal(peers_set_state(t, p, PEER_CONNECTING), -1);
    assert_int_equal(peers_set_state(t, p, PEER_LINKED), -1);
    assert_int_equal(p->state, PEER_FOREIGN);
    /* The host gets our key: it is one of us again. */
    snprintf(d.net, sizeof d.net, "0123456789abcdef");
    peers_from_disc(t, DISC_CHANGED, &d);
    assert_int_equal(p->net_match, 1);
    assert_int_equal(p->state, PEER_SEEN);
    assert_int_equal(r.ev[r.n - 1], PEERS_EV_STATE);
    assert_int_equal(peers_set_state(t, p, PEER_LINKED), 0);
    peers_destroy(&t);
}

static void test_keyless_static_merges_with_mdns(void **state)
{
    (void)state;
    peers_t *t = peers_new(OUR, "open");
    char err[128];
    assert_int_equal(peers_add_static(t, "tcp://198.18.0.12:7714", err, sizeof err), 0);
    peer_t *s = peers_first(t);
    s->user = (void *)0x1234;
    assert_int_equal(peers_set_state(t, s, PEER_CONNECTING), 0);

    /* mDNS first reports only the IPv6 address: a separate node entry. */
    disc_peer_t d = s_dp(0xdd, "host2", "open", "fe80::2%eth0");
    peers_from_disc(t, DISC_UP, &d);
    assert_int_equal(peers_count(t), 2);
    /* Then the IPv4 address, which is what the static entry dials: one
     * entry, the connecting one survives with its user data. */
    d.naddrs = 2;
    snprintf(d.addrs[0], sizeof d.addrs[0], "198.18.0.12");
    snprintf(d.addrs[1], sizeof d.addrs[1], "fe80::2%%eth0");
    peers_from_disc(t, DISC_CHANGED, &d);
    assert_int_equal(peers_count(t), 1);
    peer_t *p = peers_first(t);
    assert_ptr_equal(p, s);
    assert_ptr_equal(p->user, (void *)0x1234);
    assert_int_equal(p->has_node, 1);
    assert_memory_equal(p->node, d.node, 32);
    assert_int_equal(p->sources, PEER_SRC_STATIC | PEER_SRC_MDNS);
    assert_int_equal(p->state, PEER_CONNECTING);
    assert_string_equal(p->endpoint, "tcp://198.18.0.12:7714");
    assert_string_equal(p->name, "host2");
    char buf[32];
    assert_string_equal(peers_sources_name(p->sources, buf, sizeof buf), "mdns+static");
    peers_destroy(&t);
}

static void test_set_node_from_hello(void **state)
{
    (void)state;
    peers_t *t = peers_new(OUR, "open");
    char err[128];
    /* A static peer by host name: mDNS cannot match it by address. */
    assert_int_equal(peers_add_static(t, "tcp://pc7.example:7714", err, sizeof err), 0);
    peer_t *s = peers_first(t);
    disc_peer_t d = s_dp(0xee, "pc7", "open", "198.18.0.17");
    peers_from_disc(t, DISC_UP, &d);
    assert_int_equal(peers_count(t), 2);
    assert_int_equal(peers_set_state(t, s, PEER_LINKED), 0);
    /* HELLO says the static one is that node: the linked entry survives. */
    peer_t *p = peers_set_node(t, s, d.node, "pc7", "open", 1);
    assert_ptr_equal(p, s);
    assert_int_equal(peers_count(t), 1);
    assert_int_equal(p->sources, PEER_SRC_STATIC | PEER_SRC_MDNS);
    assert_int_equal(p->state, PEER_LINKED);
    assert_string_equal(p->endpoint, "tcp://pc7.example:7714");
    assert_int_equal(p->net_match, 1);

    /* A pex endpoint that turns out to be ourselves disappears. */
    peer_t *x = peers_add_pex(t, "tcp://198.18.0.11:7714", NULL, NULL);
    assert_non_null(x);
    assert_int_equal(peers_count(t), 2);
    assert_null(peers_set_node(t, x, OUR, NULL, NULL, 0));
    assert_int_equal(peers_count(t), 1);
    /* pex with our own key is refused outright. */
    assert_null(peers_add_pex(t, "tcp://198.18.0.11:7714", OUR, "open"));
    peers_destroy(&t);
}

static void test_reload_static(void **state)
{
    (void)state;
    peers_t *t = peers_new(OUR, "open");
    const char *a[] = {"tcp://198.18.0.2:7714", "tcp://198.18.0.3:7714"};
    assert_int_equal(peers_set_static(t, a, 2), 0);
    assert_int_equal(peers_count(t), 2);
    peer_t *two = peers_find_endpoint(t, a[0]);
    uint32_t id2 = two->id;
    const char *b[] = {"tcp://198.18.0.2:7714", "tcp://198.18.0.4:7714", "bogus"};
    assert_int_equal(peers_set_static(t, b, 3), 1);
    assert_int_equal(peers_count(t), 2);
    assert_non_null(peers_find_endpoint(t, "tcp://198.18.0.4:7714"));
    assert_null(peers_find_endpoint(t, "tcp://198.18.0.3:7714"));
    assert_ptr_equal(peers_find_id(t, id2), two); /* kept, not re-created */
    assert_int_equal(peers_set_static(t, NULL, 0), 0);
    assert_int_equal(peers_count(t), 0);
    peers_destroy(&t);
}

static void test_json_shape(void **state)
{
    (void)state;
    peers_t *t = peers_new(OUR, "open");
    disc_peer_t d = s_dp(0x0f, "host2", "open", "198.18.0.12");
    peers_from_disc(t, DISC_UP, &d);
    char err[64];
    peers_add_static(t, "tcp://10.0.0.9:7714", err, sizeof err);
    json_t *a = peers_json(t);
    assert_int_equal(json_array_size(a), 2);
    json_t *o = json_array_get(a, 0);
    assert_string_equal(json_string_value(json_object_get(o, "name")), "host2");
    assert_string_equal(json_string_value(json_object_get(o, "node")),
                        "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f");
    assert_string_equal(json_string_value(json_object_get(o, "addr")), "198.18.0.12");
    assert_int_equal(json_integer_value(json_object_get(o, "port")), 7714);
    assert_string_equal(json_string_value(json_object_get(o, "source")), "mdns");
    assert_string_equal(json_string_value(json_object_get(o, "net")), "open");
    assert_true(json_is_true(json_object_get(o, "net_match")));
    assert_string_equal(json_string_value(json_object_get(o, "state")), "seen");
    const char *ls = json_string_value(json_object_get(o, "last_seen"));
    assert_non_null(ls);
    assert_int_equal(strlen(ls), 24); /* 2026-11-29T16:03:39.123Z */
    assert_int_equal(ls[10], 'T');
    assert_int_equal(ls[23], 'Z');
    json_t *s = json_array_get(a, 1);
    assert_true(json_is_null(json_object_get(s, "node")));
    assert_true(json_is_null(json_object_get(s, "net")));
    assert_true(json_is_null(json_object_get(s, "net_match")));
    assert_true(json_is_null(json_object_get(s, "last_seen")));
    assert_string_equal(json_string_value(json_object_get(s, "source")), "static");
    assert_string_equal(json_string_value(json_object_get(s, "addr")), "10.0.0.9");
    json_decref(a);
    assert_string_equal(peers_state_name(PEER_FOREIGN), "foreign");
    assert_string_equal(peers_state_name(PEER_DOWN), "down");
    char buf[8];
    /* Truncation never overruns. */
    assert_string_equal(peers_sources_name(PEER_SRC_MDNS | PEER_SRC_STATIC, buf, sizeof buf),
                        "mdns");
    peers_destroy(&t);
}

static void test_listeners(void **state)
{
    (void)state;
    rec_t r1 = {0}, r2 = {0};
    peers_t *t = peers_new(OUR, "open");
    assert_int_equal(peers_listen(t, s_rec, &r1), 0);
    assert_int_equal(peers_listen(t, s_rec, &r2), 0);
    assert_int_equal(peers_listen(t, s_rec, &r2), 0);
    assert_int_equal(peers_listen(t, s_rec, &r2), 0);
    assert_int_equal(peers_listen(t, s_rec, &r2), -1); /* PEERS_MAX_LISTEN */
    peers_unlisten(t, s_rec, &r2);
    char err[64];
    peers_add_static(t, "tcp://198.18.0.2:7714", err, sizeof err);
    assert_int_equal(r1.n, 1);
    assert_int_equal(r2.n, 0);
    peers_destroy(&t); /* GONE for every entry */
    assert_int_equal(r1.n, 2);
    assert_int_equal(r1.ev[1], PEERS_EV_GONE);
}

static void test_table_is_bounded(void **state)
{
    (void)state;
    peers_t *t = peers_new(OUR, "open");
    char ep[64], err[128];
    for (int i = 0; i < PEERS_MAX_ENTRIES; i++) {
        snprintf(ep, sizeof ep, "tcp://10.%d.%d.%d:7714", i >> 16, (i >> 8) & 255, i & 255);
        assert_int_equal(peers_add_static(t, ep, err, sizeof err), 0);
    }
    assert_int_equal(peers_count(t), PEERS_MAX_ENTRIES);
    assert_int_equal(peers_add_static(t, "tcp://192.0.2.1:7714", err, sizeof err), -1);
    disc_peer_t d = s_dp(0x77, "late", "open", "192.0.2.2");
    peers_from_disc(t, DISC_UP, &d);
    assert_null(peers_find_node(t, d.node));
    assert_null(peers_add_pex(t, "tcp://192.0.2.3:7714", NULL, NULL));
    assert_int_equal(peers_count(t), PEERS_MAX_ENTRIES);
    peers_destroy(&t);
}

/* Peer exchange fills at most PEERS_MAX_PEX entries; a table full of PEX
 * and static entries gives a PEX-only one up for mDNS and static peers. */
static void test_pex_share_and_eviction(void **state)
{
    (void)state;
    peers_t *t = peers_new(OUR, "open");
    char ep[64], err[128];
    for (int i = 0; i < PEERS_MAX_PEX; i++) {
        snprintf(ep, sizeof ep, "tcp://10.1.%d.%d:7714", i >> 8, i & 255);
        assert_non_null(peers_add_pex(t, ep, NULL, NULL));
    }
    assert_null(peers_add_pex(t, "tcp://10.2.0.1:7714", NULL, NULL)); /* PEX share full */
    for (int i = PEERS_MAX_PEX; i < PEERS_MAX_ENTRIES; i++) {
        snprintf(ep, sizeof ep, "tcp://10.3.%d.%d:7714", i >> 8, i & 255);
        assert_int_equal(peers_add_static(t, ep, err, sizeof err), 0);
    }
    assert_int_equal(peers_count(t), PEERS_MAX_ENTRIES);
    /* Full: the oldest PEX-only entry makes way for a static and an mDNS peer. */
    assert_int_equal(peers_add_static(t, "tcp://192.0.2.1:7714", err, sizeof err), 0);
    assert_null(peers_find_endpoint(t, "tcp://10.1.0.0:7714"));
    disc_peer_t d = s_dp(0x77, "late", "open", "192.0.2.2");
    peers_from_disc(t, DISC_UP, &d);
    assert_non_null(peers_find_node(t, d.node));
    assert_null(peers_find_endpoint(t, "tcp://10.1.0.1:7714"));
    assert_non_null(peers_find_endpoint(t, "tcp://10.1.0.2:7714"));
    assert_int_equal(peers_count(t), PEERS_MAX_ENTRIES);
    assert_null(peers_add_pex(t, "tcp://10.2.0.2:7714", NULL, NULL));
    peers_destroy(&t);
}

static void test_norm_endpoint(void **state)
{
    (void)state;
    char out[PEERS_MAX_ENDPOINT];
    int lo = -1;
    assert_int_equal(peers_norm_endpoint("tcp://127.0.0.1:7714", out, sizeof out, &lo), 0);
    assert_string_equal(out, "tcp://127.0.0.1:7714");
    assert_int_equal(lo, 1);
    assert_int_equal(peers_norm_endpoint("tcp://198.18.0.12:7714", out, sizeof out, &lo), 0);
    assert_int_equal(lo, 0);
    assert_int_equal(peers_norm_endpoint("tcp://[::1]:7714", out, sizeof out, &lo), 0);
    assert_string_equal(out, "tcp://[::1]:7714");
    assert_int_equal(lo, 1);
    assert_int_equal(peers_norm_endpoint("tcp://[FE80:0:0::1%eth0]:99", out, sizeof out, &lo), 0);
    assert_string_equal(out, "tcp://[fe80::1%eth0]:99");
    /* Other spellings of an address, names, and what no peer listens on. */
    const char *bad[] = {"tcp://127.1:7714",         "tcp://0x7f.0.0.1:7714",
                         "tcp://127.000.000.1:7714", "tcp://2130706433:7714",
                         "tcp://localhost:7714",     "tcp://0.0.0.0:7714",
                         "tcp://255.255.255.255:1",  "tcp://224.0.0.251:5353",
                         "tcp://[::]:7714",          "tcp://[ff02::1]:7714",
                         "tcp://10.0.0.1:0",         "tcp://10.0.0.1:65536",
                         "udp://10.0.0.1:7714",      "tcp://[fe80::1%]:7714",
                         "tcp://10.0.0.1",           ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(peers_norm_endpoint(bad[i], out, sizeof out, NULL), -1);
}

/* ---- AvahiPoll adapter ---- */

typedef struct {
    loop_t *loop;
    const AvahiPoll *api;
    int fired;
    int io;
    AvahiWatch *w;
    AvahiTimeout *t;
} ap_state_t;

static void s_timeout_cb(AvahiTimeout *t, void *u)
{
    ap_state_t *s = u;
    s->fired++;
    if (s->fired == 1) {
        /* Re-arm from inside the callback. */
        struct timeval tv;
        avahi_elapse_time(&tv, 5, 0);
        s->api->timeout_update(t, &tv);
    } else {
        s->api->timeout_free(t); /* free inside its own callback */
        s->t = NULL;
        loop_stop(s->loop);
    }
}

static void s_watch_cb(AvahiWatch *w, int fd, AvahiWatchEvent ev, void *u)
{
    ap_state_t *s = u;
    assert_true(ev & AVAHI_WATCH_IN);
    assert_int_equal(s->api->watch_get_events(w), ev);
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
    s->io++;
    s->api->watch_free(w);
    s->w = NULL;
}

static void test_avahi_poll_adapter(void **state)
{
    (void)state;
    ap_state_t s = {0};
    s.loop = loop_new();
    apoll_t *ap = apoll_new(s.loop);
    s.api = apoll_get(ap);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    s.w = s.api->watch_new(s.api, pfd[0], AVAHI_WATCH_IN, s_watch_cb, &s);
    assert_non_null(s.w);
    assert_int_equal(write(pfd[1], "x", 1), 1);
    struct timeval tv;
    avahi_elapse_time(&tv, 20, 0);
    s.t = s.api->timeout_new(s.api, &tv, s_timeout_cb, &s);
    /* A disabled timeout (NULL tv) never fires. */
    AvahiTimeout *never = s.api->timeout_new(s.api, NULL, s_timeout_cb, &s);
    assert_non_null(never);
    for (int i = 0; i < 100 && s.fired < 2; i++) loop_once(s.loop, 50);
    assert_int_equal(s.fired, 2);
    assert_int_equal(s.io, 1);
    assert_null(s.w);
    /* Leftovers (the disabled timeout, a live watch) are freed by destroy. */
    AvahiWatch *left = s.api->watch_new(s.api, pfd[1], AVAHI_WATCH_OUT, s_watch_cb, &s);
    assert_non_null(left);
    apoll_destroy(&ap);
    assert_null(ap);
    apoll_destroy(&ap);
    loop_destroy(&s.loop);
    close(pfd[0]);
    close(pfd[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_endpoints),
        cmocka_unit_test(test_mdns_up_changed_down),
        cmocka_unit_test(test_linked_peer_outlives_its_source),
        cmocka_unit_test(test_foreign_network),
        cmocka_unit_test(test_key_mismatch),
        cmocka_unit_test(test_keyless_static_merges_with_mdns),
        cmocka_unit_test(test_set_node_from_hello),
        cmocka_unit_test(test_reload_static),
        cmocka_unit_test(test_json_shape),
        cmocka_unit_test(test_listeners),
        cmocka_unit_test(test_table_is_bounded),
        cmocka_unit_test(test_pex_share_and_eviction),
        cmocka_unit_test(test_norm_endpoint),
        cmocka_unit_test(test_avahi_poll_adapter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
