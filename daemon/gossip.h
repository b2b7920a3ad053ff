/* gossip.h -- encrypted peer links and replication between tipd nodes.
 *
 * One ROUTER (CURVE server, with a ZAP handler bound first) accepts peers;
 * one DEALER (CURVE client) per linked peer dials out. A HELLO exchange
 * carries protocol version, node key, listen endpoint and, with a network key,
 * a keyed proof bound to both node keys. Linked peers spread new events with
 * INV/WANT/EVENTS and repair with range-based set reconciliation (Negentropy
 * design) on link-up and periodically. Wire format: docs/PROTOCOL.md.
 *
 * Peers come from discovery (mdns), from the config (static) and from other
 * peers (pex); gossip keeps the peer table that `tip peers` shows.
 */
#ifndef TIPD_GOSSIP_H
#define TIPD_GOSSIP_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ident.h"
#include "ingest.h"
#include "loop.h"
#include "store.h"

#define GOSSIP_PROTOCOL_VERSION 1
#define GOSSIP_DEFAULT_PORT     7714

typedef struct gossip gossip_t;

typedef struct {
    loop_t *loop;
    void *zctx;
    store_t *store;
    ingest_t *ingest;
    const ident_t *node;   /* node identity (Ed25519; CURVE keys derive from it) */
    const char *listen;    /* e.g. "tcp://*:7714" */
    const uint8_t *netkey; /* 32 bytes, or NULL for an open network */
    const char *name;      /* our display name for peers */
    void (*log)(int priority, const char *fmt, ...);
} gossip_opts_t;

gossip_t *gossip_new(const gossip_opts_t *o, char *err, size_t errlen);
void gossip_destroy(gossip_t **p);

/* The port actually bound (for "tcp://*:0" in tests) and network id. */
uint16_t gossip_port(const gossip_t *g);
const char *gossip_net_id(const gossip_t *g); /* 16 hex chars, or "open" */

/* A peer endpoint ("tcp://host:port") learned from source "static", "mdns" or
 * "pex". node may be NULL when unknown (static). net is the advertised
 * network id or NULL. */
int gossip_peer_add(gossip_t *g, const char *endpoint, const char *source,
                    const uint8_t *node, const char *name, const char *net);
/* Discovery lost this node (mdns). */
void gossip_peer_gone(gossip_t *g, const uint8_t node[32]);
/* Replace the set of static peers (SIGHUP reload). */
void gossip_set_static(gossip_t *g, const char *const *endpoints, size_t n);

/* Number of linked peers, and the peer table as a JSON array. */
size_t gossip_linked(const gossip_t *g);
json_t *gossip_peers_json(const gossip_t *g);

#endif
