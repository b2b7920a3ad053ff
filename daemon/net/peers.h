/* peers.h -- the daemon's peer table: every other tipd this node knows of.
 *
 * Entries come from three sources: mDNS discovery (the disc glue feeds
 * peers_from_disc), static configuration (--peer / `peer =`, keyless until a
 * HELLO tells gossip the node key) and peer exchange (gossip). An entry is
 * keyed by its node key when known, else by its configured endpoint; the same
 * node learned from several sources is ONE entry whose `sources` bitmask says
 * where it came from ("mdns+static").
 *
 * Ownership of fields: discovery/config/pex fill identity and addresses
 * (node, name, addrs, port, net, inst, sources); gossip drives the link
 * `state` (connecting/linked/down) and `last_seen` through peers_set_state()
 * and peers_touch(). A peer that advertises another network id is FOREIGN as
 * soon as it is seen and gossip must never link it (peers_set_state refuses
 * to move a net-mismatched peer out of FOREIGN). A static/pex peer whose
 * listener holds another network key advertises nothing; gossip marks it
 * with peers_set_key_mismatch (FOREIGN, net unknown) when the CURVE
 * handshake fails.
 *
 * Listeners (gossip, logging) hear about every change: a new entry (UP),
 * changed identity/addresses/sources (CHANGED), a new link state (STATE), and
 * GONE right before an entry is freed -- after GONE the peer_t pointer is
 * dangling, so anything holding it (gossip's link) must drop it then.
 *
 * An entry is removed when no source vouches for it any more (mDNS withdrew
 * the service, static list reloaded without it, pex forgot it) and it is not
 * linked or connecting; a linked peer that loses its last source stays until
 * gossip reports it down.
 *
 * Single-threaded: called from the daemon loop only. Do not add or remove
 * entries while iterating with peers_first/peers_next except through the
 * pointer you already fetched `next` for; peers_foreach tolerates removal of
 * the current entry.
 */
#ifndef TIPD_PEERS_H
#define TIPD_PEERS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "disc.h"

#define PEERS_MAX_ADDRS    DISC_MAX_ADDRS
#define PEERS_MAX_ENDPOINT 300  /* "tcp://" + host (<=255) + ":" + port */
#define PEERS_MAX_LISTEN   4    /* listeners per table */
#define PEERS_MAX_ENTRIES  4096 /* entries beyond this are not added */
#define PEERS_MAX_PEX      1024 /* entries known from peer exchange alone */

typedef struct peers peers_t;

/* Where an entry was learned (bitmask). */
enum {
    PEER_SRC_MDNS = 1u << 0,
    PEER_SRC_STATIC = 1u << 1,
    PEER_SRC_PEX = 1u << 2,
};

typedef enum {
    PEER_SEEN = 0,   /* known, no link attempt yet */
    PEER_CONNECTING, /* gossip is dialling / in HELLO */
    PEER_LINKED,     /* HELLO done, heartbeats flowing */
    PEER_DOWN,       /* link lost (heartbeat timeout, cable pulled) */
    PEER_FOREIGN,    /* another network id: listed, never linked */
} peer_state_t;

typedef struct peer {
    uint32_t id;                       /* handle unique for the table's lifetime */
    int has_node;                      /* 0 for a static peer before its HELLO */
    uint8_t node[32];                  /* node public key */
    char node_hex[65];                 /* "" while unknown */
    char name[64];                     /* service / display name; "" unknown */
    char endpoint[PEERS_MAX_ENDPOINT]; /* what gossip dials: tcp://addr:port */
    int naddrs;                        /* mDNS addresses, IPv4 first; static: the host */
    char addrs[PEERS_MAX_ADDRS][64];
    uint16_t port;
    unsigned sources; /* PEER_SRC_* */
    char net[32];     /* advertised network id; "" unknown */
    int net_match;    /* 1 same network, 0 other network, -1 unknown */
    char inst[32];    /* per-start instance id from TXT ("" unknown) */
    int version;      /* protocol version from TXT/HELLO; 0 unknown */
    peer_state_t state;
    uint64_t last_seen_ms; /* wall clock ms since the epoch; 0 = never */
    void *user;            /* free for gossip's per-peer link data */
    /* 1: our dial reached a listener whose CURVE key is not our network's
     * (peers_set_key_mismatch): FOREIGN with net unknown; gossip re-dials it
     * now and then in case the keys were fixed. */
    int key_mismatch;
} peer_t;

typedef enum {
    PEERS_EV_UP = 1,      /* new entry */
    PEERS_EV_CHANGED = 2, /* node/name/addrs/port/net/inst/sources changed */
    PEERS_EV_STATE = 3,   /* state changed (also when gossip set it) */
    PEERS_EV_GONE = 4,    /* entry is about to be freed */
} peers_ev_t;

typedef void (*peers_fn)(peers_t *t, peers_ev_t ev, peer_t *p, void *arg);

/* our_node: 32 bytes (own entries are never added); our_net: 16 hex chars or
 * "open". NULL on ENOMEM. */
peers_t *peers_new(const uint8_t our_node[32], const char *our_net);
/* Frees every entry (listeners get GONE for each); idempotent. */
void peers_destroy(peers_t **p);

/* Subscribe to changes. 0, or -1 when PEERS_MAX_LISTEN are taken. */
int peers_listen(peers_t *t, peers_fn fn, void *arg);
void peers_unlisten(peers_t *t, peers_fn fn, void *arg);

/* Feed one discovery report (DISC_UP/CHANGED/DOWN). DOWN drops the mdns
 * source. Reports for our own node key are ignored. */
void peers_from_disc(peers_t *t, disc_what_t what, const disc_peer_t *dp);

/* Add a static peer "tcp://host:port". 0, or -1 with a sentence in err for a
 * malformed endpoint. An endpoint already listed just gains the source. */
int peers_add_static(peers_t *t, const char *endpoint, char *err, size_t errlen);
/* Replace the set of static peers (SIGHUP): entries not in the list lose the
 * static source. Returns the number of malformed endpoints (skipped). */
int peers_set_static(peers_t *t, const char *const *endpoints, size_t n);

/* The one spelling of a numeric endpoint "tcp://ADDR:PORT" (IPv4 dotted
 * quad, IPv6 in brackets, optional %scope): what peer exchange accepts, so
 * 127.1, 0x7f.0.0.1 and 127.000.000.001 cannot fill the table as distinct
 * peers. Host names, the unspecified address, broadcast and multicast are
 * refused. *loopback (may be NULL) says whether it is 127/8 or ::1. 0 or -1. */
int peers_norm_endpoint(const char *in, char *out, size_t cap, int *loopback);
/* A peer learned from a linked peer (peer exchange): NULL when the table
 * already holds PEERS_MAX_PEX entries known from peer exchange alone.
 * node may be NULL. */
peer_t *peers_add_pex(peers_t *t, const char *endpoint, const uint8_t *node, const char *net);
/* Drop one source from an entry (may free it: returns NULL then). */
peer_t *peers_drop_source(peers_t *t, peer_t *p, unsigned source);

/* Gossip learned p's node key (and name / net / version from HELLO; any may
 * be NULL/0). If another entry already has that key the two merge and the
 * survivor is returned: the one with the busier link (linked > connecting >
 * anything else; ties: p) keeps its pointer, user data and state and gains
 * the other's sources; the other gets GONE (free your data for it then). The
 * same merge happens when mDNS reports a node at the address of a keyless
 * static/pex entry. If node is our own key, the entry is removed (GONE) and
 * NULL returned. */
peer_t *peers_set_node(peers_t *t, peer_t *p, const uint8_t node[32], const char *name,
                       const char *net, int version);

/* Link state from gossip. Refused (-1) for a net-mismatched peer unless the
 * new state is FOREIGN; a peer with no sources left that leaves
 * LINKED/CONNECTING (to DOWN, SEEN or FOREIGN) is freed (GONE) before this
 * returns. 0 otherwise. */
int peers_set_state(peers_t *t, peer_t *p, peer_state_t st);
/* Gossip's dial reached p's listener but the CURVE handshake failed: it
 * listens with another network's key. on=1: net becomes unknown (""),
 * net_match 0, state FOREIGN (STATE event). on=0 (a handshake with it
 * worked): the flag is cleared and net_match recomputed from net, so the
 * entry leaves FOREIGN unless it advertises another network. */
void peers_set_key_mismatch(peers_t *t, peer_t *p, int on);
/* Heard from p just now (heartbeat, any message): last_seen = now. */
void peers_touch(peers_t *t, peer_t *p);

/* Lookup. */
peer_t *peers_find_node(const peers_t *t, const uint8_t node[32]);
peer_t *peers_find_endpoint(const peers_t *t, const char *endpoint);
peer_t *peers_find_id(const peers_t *t, uint32_t id);

/* Iteration in insertion order. */
peer_t *peers_first(const peers_t *t);
peer_t *peers_next(const peers_t *t, const peer_t *p);
/* Calls fn on every entry; fn may free the entry it was given. */
void peers_foreach(peers_t *t, void (*fn)(peers_t *t, peer_t *p, void *arg), void *arg);

/* Entries in total, and those in state st. */
size_t peers_count(const peers_t *t);
size_t peers_count_state(const peers_t *t, peer_state_t st);

/* "seen", "connecting", "linked", "down", "foreign". */
const char *peers_state_name(peer_state_t st);
/* "mdns", "static", "pex", joined with '+' ("mdns+static"); "" for none. */
const char *peers_sources_name(unsigned sources, char *buf, size_t cap);

/* One peer as the `peers` API op shows it:
 * {name, node (hex or null), addr, port, addrs [..], source, net (or null),
 *  net_match (bool, null while unknown), state, last_seen (RFC 3339 UTC or
 *  null)}. New reference. */
json_t *peers_peer_json(const peer_t *p);
/* Every entry, as a JSON array of the above. New reference. */
json_t *peers_json(const peers_t *t);

/* ---- daemon glue (peers_daemon.c): what main.c calls ---- */

struct tipd;

/* Create d->peers (our node key and net id), add the configured static
 * peers and log peer changes. Call before the gossip engine so it can
 * subscribe. 0 or -1 with a sentence in err. */
int peers_daemon_init(struct tipd *d, char *err, size_t errlen);
/* Unless d->cfg.no_discovery: create the AvahiPoll adapter on d->loop and
 * start mDNS (d->disc) publishing `port` (the gossip port actually bound) and
 * feeding d->peers. Never fails because avahi-daemon is missing. 0 or -1
 * (out of memory). */
int peers_daemon_discovery(struct tipd *d, uint16_t port);
/* SIGHUP: re-read the static peer list and start/stop mDNS if no-discovery
 * changed (port as for peers_daemon_discovery). */
void peers_daemon_reload(struct tipd *d, uint16_t port);
/* Stop mDNS and free the table (call after the gossip engine is gone). */
void peers_daemon_stop(struct tipd *d);
/* Peers linked right now / known at all (0 without a peer table), for
 * status and sd_notify. */
size_t peers_daemon_linked(const struct tipd *d);
size_t peers_daemon_known(const struct tipd *d);
/* The port of a listen endpoint "tcp://HOST:PORT" (0 if none/invalid). */
uint16_t peers_listen_port(const char *listen);

#endif
