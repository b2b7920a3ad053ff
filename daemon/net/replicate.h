/* replicate.h -- replication over linked peers (replicate.c): live spread
 * (INV / WANT / EVENTS), reconciliation, peer exchange. Uses the link layer
 * only; the engine (gossip.c) feeds it messages, link-ups and timer ticks.
 */
#ifndef TIPD_GOSSIP_REPLICATE_H
#define TIPD_GOSSIP_REPLICATE_H

#include "link.h"

int g_sync_load(gossip_t *g); /* the sync set from the store */
/* The sync set's fetch function (recon_fetch_fn; arg is the gossip_t):
 * whole ids from the store's time index. */
int g_sync_fetch(void *arg, const uint8_t *keys, size_t n, uint8_t (*ids)[32]);
void g_sync_on_link_up(g_link_t *l);
void g_sync_on_msg(g_link_t *l, const wire_msg_t *m);
void g_sync_on_new(const uint8_t *const *events, const size_t *lens, const store_result_t *results,
                   size_t n, void *arg);
void g_sync_flush_inv(loop_t *loop, loop_timer_t *t, void *arg);
void g_sync_flush_lazy(loop_t *loop, loop_timer_t *t, void *arg);
void g_sync_work(gossip_t *g); /* drain push queues */
/* Ingest is far behind: PRUNE every eager link, so pushes (which, unlike
 * WANTed bodies, nobody paces but the sender) stop; IHAVE and GRAFT bring
 * what is missing once ingest has caught up, reconciliation the rest. */
void g_sync_shed(gossip_t *g);
/* Back-pressure (PROTOCOL.md 2.6): once ingest holds more than
 * g->ingest_high events, stop reading the router and shed (g_sync_shed);
 * read again once it holds under half. Called by the tick and after every
 * submit of peers' events, so a burst stops at the message that crosses
 * the mark rather than at the next tick. */
void g_sync_pressure(gossip_t *g, uint64_t now);
/* Replication timers; returns when it next needs to run (0: nothing due). */
uint64_t g_sync_tick(gossip_t *g, uint64_t now);

#endif
