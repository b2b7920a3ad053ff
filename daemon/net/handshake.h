/* handshake.h -- the link handshake, HELLO / WELCOME / ACK (handshake.c).
 * Uses the link layer only; the engine (gossip.c) calls these and brings a
 * link up when g_on_welcome / g_on_ack return 1.
 */
#ifndef TIPD_GOSSIP_HANDSHAKE_H
#define TIPD_GOSSIP_HANDSHAKE_H

#include "link.h"

void g_fill_hello(gossip_t *g, wire_hello_t *h, const uint8_t *nonce);
void g_mark_foreign(gossip_t *g, g_link_t *l, const char *net);
/* Listener: a HELLO of wire version ver on a connection we hold no session
 * for (starts a link in handshake at that version, or answers REJECT). */
void g_on_hello(gossip_t *g, const uint8_t *rid, size_t rid_len, const char *user_id,
                const char *peer_addr, uint8_t ver, const wire_hello_t *h);
/* Dialer: the WELCOME; 1 when our ACK is sent and the link is up, else 0
 * (the link was failed). */
int g_on_welcome(g_link_t *l, const wire_hello_t *h);
/* Listener: the ACK; 1 when the link is up, else 0 (failed). */
int g_on_ack(g_link_t *l, const wire_msg_t *m);

#endif
