/* peers_daemon.c -- plugs the peer table and mDNS discovery into tipd.
 *
 * main.c calls four functions (peers.h, "daemon glue"): init builds the table
 * from the config; discovery starts the
 * AvahiPoll adapter and disc once the gossip port is known; reload applies a
 * new static peer list and the no-discovery switch; stop tears it all down.
 * Discovery reports are fed straight into the table (peers_from_disc); the
 * gossip engine listens to the table, so discovery never talks to gossip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avahi_poll.h"
#include "daemon.h"
#include "disc.h"
#include "endpoint.h"
#include "log.h"
#include "peers.h"
#include "wire.h"

static void s_disc_log(int prio, const char *msg, void *arg)
{
    (void)arg;
    log_msg(prio, "%s", msg);
}

static void s_disc_peer(disc_what_t what, const disc_peer_t *p, void *arg)
{
    peers_from_disc(arg, what, p);
}

/* State changes are what an operator wants in the log ("why is host3 not
 * getting tips?"); address churn goes to debug. */
static void s_log_change(peers_t *t, peers_ev_t ev, peer_t *p, void *arg)
{
    (void)t;
    (void)arg;
    const char *who = p->name[0] ? p->name : p->endpoint;
    char src[32];
    switch (ev) {
    case PEERS_EV_UP:
        log_msg(LOG_D, "peer %s (%.16s) added from %s", who, p->has_node ? p->node_hex : "?",
                peers_sources_name(p->sources, src, sizeof src));
        if (p->state == PEER_FOREIGN)
            log_msg(LOG_N, "peer %s is on another network (%s); not linking", who, p->net);
        break;
    case PEERS_EV_STATE:
        log_msg(p->state == PEER_FOREIGN ? LOG_N : LOG_I, "peer %s: %s", who,
                peers_state_name(p->state));
        break;
    case PEERS_EV_CHANGED:
        log_msg(LOG_D, "peer %s changed (%s, %s)", who, p->endpoint,
                peers_sources_name(p->sources, src, sizeof src));
        break;
    case PEERS_EV_GONE:
        log_msg(LOG_D, "peer %s removed", who);
        break;
    }
}

size_t peers_daemon_linked(const tipd_t *d)
{
    return d && d->peers ? peers_count_state(d->peers, PEER_LINKED) : 0;
}

size_t peers_daemon_known(const tipd_t *d)
{
    return d && d->peers ? peers_count(d->peers) : 0;
}

uint16_t peers_listen_port(const char *listen)
{
    return endpoint_port(listen);
}

int peers_daemon_init(tipd_t *d, char *err, size_t errlen)
{
    d->peers = peers_new(d->node.pk, d->net_id[0] ? d->net_id : "open");
    if (!d->peers) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    peers_listen(d->peers, s_log_change, d);
    for (size_t i = 0; i < d->cfg.npeers; i++) {
        char e[256];
        if (peers_add_static(d->peers, d->cfg.peers[i], e, sizeof e) < 0)
            log_msg(LOG_W, "%s; ignored", e);
    }
    return 0;
}

int peers_daemon_discovery(tipd_t *d, uint16_t port)
{
    if (d->cfg.no_discovery) {
        log_msg(LOG_I, "mdns discovery off (no-discovery); %zu static peer(s)", d->cfg.npeers);
        return 0;
    }
    if (d->disc) return 0;
    if (!port) {
        log_msg(LOG_W, "mdns: no listen port to publish; discovery off");
        return 0;
    }
    if (!d->avahi_poll) d->avahi_poll = apoll_new(d->loop);
    if (!d->avahi_poll) return -1;
    disc_opts_t o = {
        .poll = apoll_get(d->avahi_poll),
        .name = d->cfg.name[0] ? d->cfg.name : NULL,
        .port = port,
        .node = d->node.pk,
        .net = d->net_id[0] ? d->net_id : "open",
        .version = WIRE_VERSION,
        .on_peer = s_disc_peer,
        .on_log = s_disc_log,
        .arg = d->peers,
    };
    d->disc = disc_new(&o);
    return d->disc ? 0 : -1;
}

static void s_drop_mdns(peers_t *t, peer_t *p, void *arg)
{
    (void)arg;
    peers_drop_source(t, p, PEER_SRC_MDNS);
}

void peers_daemon_reload(tipd_t *d, uint16_t port)
{
    if (!d->peers) return;
    const char *eps[CFG_MAX_PEERS];
    for (size_t i = 0; i < d->cfg.npeers; i++) eps[i] = d->cfg.peers[i];
    int bad = peers_set_static(d->peers, eps, d->cfg.npeers);
    if (bad > 0) log_msg(LOG_W, "%d malformed peer endpoint(s) ignored", bad);
    if (d->cfg.no_discovery && d->disc) {
        disc_destroy(&d->disc);
        peers_foreach(d->peers, s_drop_mdns, NULL);
        log_msg(LOG_I, "mdns discovery off (no-discovery)");
    } else if (!d->cfg.no_discovery && d->disc &&
               strncmp(disc_requested_name(d->disc), d->cfg.name, 63) != 0) {
        /* A new name: withdraw the old service and publish afresh (peers
         * found so far come back with the new browser). */
        disc_destroy(&d->disc);
        peers_daemon_discovery(d, port);
    } else if (!d->cfg.no_discovery && !d->disc) {
        peers_daemon_discovery(d, port);
    }
}

void peers_daemon_stop(tipd_t *d)
{
    disc_destroy(&d->disc);
    apoll_t *ap = d->avahi_poll;
    apoll_destroy(&ap);
    d->avahi_poll = NULL;
    peers_destroy(&d->peers);
}
