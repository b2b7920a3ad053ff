/* link.h -- the gossip state and its link layer (link.c), shared by the
 * handshake (handshake.c), replication (replicate.c) and the engine on top
 * (gossip.c). Not a public interface: the daemon sees gossip.h only.
 *
 * Layering, one direction only: link.c knows none of the others;
 * handshake.c and replicate.c use link.c; gossip.c uses all three.
 */
#ifndef TIPD_GOSSIP_LINK_H
#define TIPD_GOSSIP_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "contract.h"
#include "event.h"
#include "gossip.h"
#include "peers.h"
#include "loglevel.h"
#include "recon.h"
#include "wire.h"

/* Timing and limits (docs/PROTOCOL.md §2.5 to §2.8). */
#define G_MIN_TICK_MS    20    /* housekeeping never runs more often than this */
#define G_BUSY_TICK_MS   200   /* ... and this often while ingest has a backlog */
#define G_IDLE_MAX_MS    60000 /* ... and at least this often */
#define G_SLACK_MS       500   /* heartbeats due this soon go out with the others */
#define G_PING_MS        2000  /* the dialer's heartbeat period on a quiet link */
#define G_DEAD_MS        6000  /* no message for this long: link down */
#define G_HANDSHAKE_MS   3000  /* HELLO..ACK must finish within this */
#define G_BACKOFF_MIN_MS 500   /* first re-dial delay */
#define G_BACKOFF_MAX_MS 8000  /* longest re-dial delay */
#define G_DEFER_MS       1500  /* the larger key waits this long for the smaller to dial */
#define G_KEYFAIL_MIN_MS 5000  /* re-check of a listener with another network key ... */
#define G_KEYFAIL_MAX_MS 60000 /* ... doubling up to this */
#define G_HOLD_MIN_MS    30000 /* first hold-off after abuse; doubles up to G_HOLD_MAX_MS */
#define G_HOLD_MAX_MS    (3600 * 1000)
#define G_RECON_MS       30000 /* periodic reconciliation (+ up to 25% jitter) */
#define G_RECON_TIMEOUT  20000 /* a session that stops answering is dropped */
#define G_INV_DELAY_MS   3     /* batching of new ids into INV */
#define G_WANT_RETRY_MS  4000  /* an unanswered WANT may be sent again */
#define G_WANT_WINDOW    1024  /* ids asked for and not yet received, per link */
#define G_WANT_BATCH     256   /* ids per WANT */
#define G_WANT_STALL_MS  5000  /* no EVENTS for this long: forget what is outstanding */
#define G_SNDHWM         2000  /* messages queued per connection */
#define G_RCVHWM         2000
#define G_MAX_LINKS      256
#define G_MAX_HANDSHAKES 64  /* links not yet authenticated */
#define G_READ_BURST     128 /* messages read per wake-up per socket */
/* Event bytes sent per link per drain; then the loop serves everyone else
 * before the next slice (a slice is ~1 ms of store reads; 4 MiB slices held
 * API answers up for tens of ms while a peer caught up). */
#define G_PUSH_BUDGET (256u << 10)
#define G_PUSH_RATE                                                                                \
    (8.0 * 1024 * 1024)                            /* our pushes per link per second: half the     \
                                                       receiver's allowance, so catch-up is never "flooding" */
#define G_RATE_BYTES          (16.0 * 1024 * 1024) /* per link per second, EVENTS */
#define G_RATE_MSGS           4000.0               /* messages per link per second */
#define G_RATE_BURST          3.0                  /* seconds of rate allowed as burst */
#define G_PEX_MS              20000                /* at most one PEX per link this often */
#define G_QUIET_MS            30000               /* silence towards a closed incoming connection */
#define G_MAX_OWED            (4 * G_WANT_WINDOW) /* ids a peer may have asked for and not got */
#define G_MAX_FETCH           131072 /* ids queued to fetch per link; more wait for the next round */
#define G_RECON_RATE          20.0   /* RECON messages per link per second ... */
#define G_RECON_BURST         100.0  /* ... with this burst; beyond: abuse */
#define G_ASKED_SLOTS         16384  /* ids asked of one peer remembered (cleared at 70%) */
#define G_UNASKED_RATE        200.0  /* events a peer may send unasked, per second ... */
#define G_UNASKED_BURST       4096.0    /* ... with this burst; beyond: abuse */
#define G_SUBMITTED_SLOTS     (1 << 17) /* ids handed to ingest, remembered */
#define G_PEX_NEW             32        /* new peer-table entries one link may add ... */
#define G_PEX_WINDOW_MS       60000     /* ... per this window */
#define G_PEX_MAX_FAILS       3         /* failed dials before a PEX-only entry is forgotten */
#define G_MAX_DIALS           16        /* our handshakes in flight at once */
#define G_ACTIVE              8  /* the overlay: links we dial towards (static peers extra) ... */
#define G_ACTIVE_MAX          16 /* ... and keep: one more makes a random one give way */
#define G_FULL_BACKOFF_MS     30000 /* a peer that made room is not re-dialed sooner ... */
#define G_FULL_BACKOFF_MAX_MS (8 * G_FULL_BACKOFF_MS) /* ... doubling per repeat to this */
#define G_LAZY_DELAY_MS       20      /* IHAVEs wait this long (the peer may announce first) */
#define G_GRAFT_MS            500     /* an IHAVE'd id not pushed within this: GRAFT ... */
#define G_GRAFT_MAX_MS        4000    /* ... or this, while pushes keep arriving */
#define G_MISSING_MAX         16384   /* announced ids awaited at once; more wait for recon */
#define G_DUP_RATE            2000.0  /* duplicate pushes on a pruned link, per second ... */
#define G_DUP_BURST           65536.0 /* ... and burst (a sender's queue when PRUNE lands) */
/* Stop reading peers while ingest holds this many events: twice what one
 * bulk import keeps in flight, so that a local import alone never does. */
#define G_INGEST_HIGH (2 * CONTRACT_SUBMIT_INFLIGHT * CONTRACT_SUBMIT_MAX)
/* While we do not read peers (ingest far behind) and this long after we
 * resume, what we read was queued while we were not reading: it is not
 * charged to a peer's flood or duplicate-push buckets. */
#define G_BEHIND_GRACE_MS 10000
#define G_V2_RETRY_MS     (10 * 60000) /* a peer that refused version 3 is tried again */

typedef struct s_idset {
    uint64_t *slot; /* 0 = empty; key = first 8 id bytes, 0 mapped to 1 */
    size_t cap, n;
} g_idset_t;

typedef struct g_link g_link_t;

enum { G_HS = 0, G_LINKED = 1, G_DEAD = 2 };

struct g_link {
    g_link_t *next;
    gossip_t *g;
    uint32_t id; /* unique for the process */
    int out;     /* 1: we dialed (our DEALER), 0: they dialed (our ROUTER) */
    uint8_t ver; /* wire version of the link: its HELLO's (2: no eager/lazy spread) */
    int eager;   /* version 3: bodies are pushed on this link (else IHAVE) */
    void *sock;  /* DEALER of an outgoing link */
    loop_watch_t *watch;
    void *mon; /* outgoing: PAIR reading the DEALER's handshake-failure events */
    loop_watch_t *mon_watch;
    uint64_t t_conn; /* outgoing: when the monitor last reported the TCP connection */
    uint8_t rid[64]; /* ROUTER routing id of an incoming link */
    int conn_lo;     /* incoming: the connection comes from a loopback address */
    size_t rid_len;
    int state;
    int has_node;
    uint8_t node[32];
    char node_hex[65];
    uint8_t curve[32]; /* incoming: the client's transport key (from ZAP) */
    uint8_t nonce_d[WIRE_NONCE_LEN], nonce_l[WIRE_NONCE_LEN];
    uint32_t peer_id; /* peer table entry (0: none) */
    char endpoint[WIRE_MAX_ENDPOINT + 1];
    char name[WIRE_MAX_NAME + 1];
    uint64_t t_start, t_rx, t_tx;
    uint64_t ping_seq;
    uint64_t t_ping;    /* outgoing: when we last sent PING */
    g_idset_t known;    /* ids the peer holds or was sent: never INV or send twice */
    g_idset_t asked;    /* ids we asked this peer for (allocated at the first WANT) */
    double unasked_tok; /* allowance of events sent unasked */
    uint64_t unasked_t;
    double dup_tok; /* allowance of duplicate pushes after PRUNE */
    uint64_t dup_t;
    double unheld_tok; /* allowance of WANTs for ids we do not hold */
    uint64_t unheld_t;
    uint8_t (*push)[32]; /* ids whose bodies we owe the peer */
    size_t npush, cappush, push_head;
    size_t eager_queued;  /* of those, our eager pushes (until the queue empties) */
    uint8_t (*fetch)[32]; /* ids the peer offered that we lack, not yet asked for */
    size_t nfetch, capfetch, fetch_head;
    size_t outstanding; /* ids asked for (WANT) and not yet received */
    uint64_t t_want;
    int recon_active; /* we started a session that has not ended */
    uint64_t recon_t;
    double tok_bytes, tok_msgs;
    double push_tok;  /* pacing of our EVENTS on this link */
    double recon_tok; /* incoming RECON allowance */
    uint64_t recon_tok_t;
    uint64_t push_tok_t;
    uint64_t tok_t;
    uint64_t pex_t;
    uint64_t pex_win_t; /* PEX quota window start, and new entries added in it */
    size_t pex_new;
    uint64_t stat_rx, stat_tx, stat_ev_rx, stat_ev_tx;
};

struct gossip {
    loop_t *loop;
    void *zctx;
    store_t *store;
    ingest_t *ingest;
    peers_t *peers;
    ident_t node;
    uint8_t curve_pk[32], curve_sk[32];   /* our client transport keys */
    uint8_t server_pk[32], server_sk[32]; /* shared listener keys (wire_server_keys) */
    int has_netkey;
    uint8_t netkey[32];
    char net_id[17];
    char name[WIRE_MAX_NAME + 1];
    char listen[WIRE_MAX_ENDPOINT + 1];
    char advertise[WIRE_MAX_ENDPOINT + 1];
    uint16_t port;
    void (*log)(int priority, const char *fmt, ...);

    void *zap, *router;
    loop_watch_t *zap_w, *router_w;
    int router_paused;
    size_t ingest_high; /* G_INGEST_HIGH (test builds: TIPD_TEST_INGEST_HIGH) */
    uint64_t t_resumed; /* when reading peers last resumed (G_BEHIND_GRACE_MS) */
    /* Routing ids of incoming links we closed: their queued messages are
     * dropped silently for G_QUIET_MS instead of each getting a BYE. */
    struct {
        uint8_t rid[64];
        size_t len;
        uint64_t until;
    } quiet[16];
    unsigned quiet_next;
    loop_timer_t *tick, *inv_timer, *work_timer;
    g_link_t *links;
    uint32_t next_link_id;
    size_t dials; /* outgoing handshakes in flight (counted by the tick) */
    recon_set_t *set;
    int set_dirty; /* a retraction arrived: rebuild from the store before use */
    uint8_t *recon_buf;
    uint8_t *ev_buf;  /* events read from the store for one EVENTS */
    uint8_t *msg_buf; /* an EVENTS body being assembled */
    event_t *ev;      /* scratch decode */
    /* New ids waiting to be announced, and which link (if any) they came from. */
    uint8_t (*inv)[32];
    size_t ninv, capinv;
    /* New ids waiting to be announced lazily (IHAVE) on version 3 links. */
    uint8_t (*lazy)[32];
    size_t nlazy, caplazy;
    loop_timer_t *lazy_timer;
    /* Ids announced by IHAVE that we lack: GRAFT if no push brings them. */
    struct g_missing *missing;
    size_t nmissing;
    g_idset_t awaited; /* the prefixes in missing (cleared when it empties) */
    /* Recently requested ids (WANT) so several INVs do not fetch one body
     * several times: direct-mapped table of (key, time). */
    uint64_t *want_key, *want_t;
    size_t want_cap;
    uint64_t next_recon;
    int repair_due; /* a link closed with ids still to fetch: reconcile soon */
    struct g_hold *holds;
    struct g_anchor *anchor;
    g_idset_t submitted; /* ids handed to ingest: a second copy is a replay */
    uint64_t stat_recons, stat_ev_rx, stat_ev_tx, stat_rejects;
    uint64_t stat_replays;     /* events received that we held: dropped, not verified */
    uint64_t stat_unasked;     /* events received that we had not asked that peer for */
    uint64_t stat_pex_refused; /* PEX entries refused (spelling, loopback, table share) */
    uint64_t stat_pex_aged;    /* PEX-only entries forgotten after failed dials */
    uint64_t stat_room;        /* links closed to make room for a newcomer */
    uint64_t stat_bytes_tx, stat_bytes_rx; /* wire message bytes (header + body) */
    uint64_t stat_pushed;                  /* events received by eager push, new to us */
    uint64_t t_pushed;                     /* when the last of those came */
    uint64_t stat_grafts, stat_prunes;     /* GRAFT / PRUNE sent */
};

/* An id prefix we saw announced (IHAVE) and do not hold yet. */
struct g_missing {
    uint8_t pfx[WIRE_PFX_LEN];
    uint32_t link;  /* who announced it (GRAFT goes there) */
    uint64_t first; /* when it was first announced */
    uint64_t due;   /* when to GRAFT if it has not come */
    unsigned tries; /* GRAFTs sent for it */
};

/* Shared by the ingest callbacks, which may run after gossip is gone. */
struct g_anchor {
    gossip_t *g;
    int refs;
};

typedef struct {
    uint64_t next_dial, backoff, first_seen;
    uint64_t keyfail_backoff; /* re-check period of a key-mismatch peer */
    unsigned fails;           /* dials in a row that never linked */
    uint64_t full_backoff;    /* next wait after a BYE 9 from it */
    uint64_t v2_until;        /* it refused a version 3 HELLO: dial with 2 until then */
} g_pinfo_t;                  /* per peer-table entry, in peer_t.user */

void g_log(gossip_t *g, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *g_who(const g_link_t *l);
int g_send(g_link_t *l, uint8_t type, const uint8_t *body, size_t len);
void g_send_reason(g_link_t *l, uint8_t type, uint8_t code, const char *text);
/* REJECT/BYE on a ROUTER connection we hold no session for. */
void g_router_reply(gossip_t *g, const uint8_t *rid, size_t rid_len, uint8_t type, uint8_t code,
                    const char *text);
g_pinfo_t *g_pinfo(peer_t *p); /* created on first use; NULL on ENOMEM */
peer_t *g_peer(g_link_t *l);   /* the link's peer table entry, or NULL */
struct g_hold *g_held(gossip_t *g, const uint8_t *node, const uint8_t *curve);
void g_hold(gossip_t *g, const uint8_t node[32]); /* hold off, doubling per repeat */
void g_holds_expire(gossip_t *g, uint64_t now);   /* UINT64_MAX: free all */
/* p holds our listener key but not our network key (CURVE handshake or
 * network proof failed): foreign, net unknown, re-dialed after 5 s doubling
 * to 60 s. May free p. */
void g_keyfail(gossip_t *g, peer_t *p);
g_link_t *g_link_new(gossip_t *g, int out); /* NULL at the link limits */
g_link_t *g_link_by_id(gossip_t *g, uint32_t id);
void g_mon_stop(g_link_t *l);   /* detach a DEALER's monitor (see link.c) */
void g_link_close(g_link_t *l); /* no BYE, no state change */
/* Close a link for a reason (BYE or REJECT with code if nonzero); abuse adds
 * a hold-off. A linked peer goes DOWN in the table. */
void g_link_fail(g_link_t *l, uint8_t code, const char *why, int abuse);
int g_quiet(gossip_t *g, const uint8_t *rid, size_t len); /* a closed incoming connection */
void g_reap(gossip_t *g);                                 /* free closed links */
void g_kick(gossip_t *g);                                 /* run the work timer soon */
/* 1 while we do not read peers or within G_BEHIND_GRACE_MS of resuming. */
int g_behind(const gossip_t *g, uint64_t now);

uint64_t g_idkey(const uint8_t id[32]);
int g_idset_init(g_idset_t *s, size_t cap);
void g_idset_free(g_idset_t *s);
int g_idset_has(const g_idset_t *s, const uint8_t id[32]);
void g_idset_add(g_idset_t *s, const uint8_t id[32]);
void g_idset_clear(g_idset_t *s);

#endif
