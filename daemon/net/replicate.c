/* replicate.c -- replication over linked peers: live spread, repair and
 * peer exchange.
 *
 * Live spread on version 3 links is Plumtree (Leitao, Pereira, Rodrigues
 * 2007): every link starts *eager*, and the bodies of newly stored events
 * are pushed (PUSH) along eager links at once; a node that receives a body
 * it already holds by push answers PRUNE and both ends make that link
 * *lazy*. What remains eager is a spanning structure: about one body per
 * node per event. Lazy links get the ids only, as 8-byte prefixes in IHAVE
 * after a short delay (so a peer that announced first is skipped); a node
 * that hears of an id it lacks and is not pushed it within G_GRAFT_MS sends
 * GRAFT to the announcer, which makes that link eager again and sends the
 * body. Version 2 links (older nodes) keep the earlier lazy push: ids are
 * announced (INV) to every linked peer not known to hold them; a peer asks
 * (WANT) for the ids it lacks and has not just asked someone else for;
 * bodies follow (EVENTS). Each link keeps a set of ids the
 * peer is known to hold (it announced or sent them, or we sent them), so no
 * body crosses one link twice and no id is announced to a peer that has it.
 *
 * Repair is range-based reconciliation (recon.c) over the sync set, which is
 * loaded from the store at start and grows as ingest reports new events (a
 * retraction marks it dirty and it is rebuilt before the next use). The
 * dialer reconciles on link-up and a random linked peer every 30 s + jitter.
 * Each side learns the ids the other lacks and offers them as INV. Whatever
 * the source of an INV, the receiver queues the ids it lacks per link and
 * fetches them in WANT windows (256 ids per WANT, 1,024 outstanding), asking
 * for more as EVENTS arrive and not at all while ingest is far behind; the
 * sender answers from a per-link queue paced to 8 MiB/s. So a peer coming
 * back after a week gets its backlog at the pace its ingest keeps up with,
 * and neither side buffers more than a window.
 *
 * Received events are decoded (to learn their ids and refuse garbage early),
 * then handed to ingest_submit, which verifies and commits them in batches;
 * a peer whose events fail verification or decoding is disconnected and held
 * off. Peer exchange sends the linked peers' endpoints and node keys.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>

#include "replicate.h"

/* ---- the sync set ---- */

static int s_load_item(uint64_t created_at, const uint8_t id[EVENT_ID_LEN], void *arg)
{
    return recon_set_add(arg, created_at, id) ? 1 : 0;
}

int g_sync_fetch(void *arg, const uint8_t *keys, size_t n, uint8_t (*ids)[32])
{
    gossip_t *g = arg;
    int rc = store_items_ids(g->store, keys, RECON_KEY_LEN, n, ids);
    /* Not found: retracted since it entered the set; the reload that the
     * retraction asked for (set_dirty) brings the set back in line. */
    if (rc && rc != STORE_E_NOTFOUND)
        g_log(g, LOG_W, "sync set: cannot read ids back: %s", store_strerror(rc));
    return rc ? -1 : 0;
}

int g_sync_load(gossip_t *g)
{
    recon_set_clear(g->set);
    int rc = store_items(g->store, s_load_item, g->set);
    g->set_dirty = 0;
    if (rc != 0) return -1;
    return recon_set_seal(g->set) < 0 ? -1 : 0;
}

static void s_set_fresh(gossip_t *g)
{
    if (g->set_dirty) g_sync_load(g);
}

/* ---- push queue ---- */

/* Append id to a queue of ids consumed from *head: reclaim the consumed
 * head before growing (first allocation: first_cap). 0, or -1 on ENOMEM. */
static int s_idq_add(uint8_t (**q)[32], size_t *n, size_t *cap, size_t *head, const uint8_t id[32],
                     size_t first_cap)
{
    if (*n == *cap) {
        if (*head) {
            memmove(*q, *q + *head, (*n - *head) * 32);
            *n -= *head;
            *head = 0;
        }
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : first_cap;
            uint8_t(*nq)[32] = realloc(*q, nc * 32);
            if (!nq) return -1;
            *q = nq;
            *cap = nc;
        }
    }
    memcpy((*q)[(*n)++], id, 32);
    return 0;
}

/* Queue id's body for l unless l holds it; 1 if queued. */
static int s_push(g_link_t *l, const uint8_t id[32])
{
    if (g_idset_has(&l->known, id)) return 0;
    return s_idq_add(&l->push, &l->npush, &l->cappush, &l->push_head, id, 256) == 0;
}

/* 1 if a peer's request for n more bodies would leave more than
 * G_MAX_OWED of its requests queued. Our own eager pushes queued on the
 * link (eager_queued, counted until the queue empties) are ours, not the
 * peer's: a flood of new events must not make its WANT look abusive. */
static int s_owes_too_much(const g_link_t *l, size_t n)
{
    return l->npush - l->push_head + n > G_MAX_OWED + l->eager_queued;
}

/* An 8-byte id prefix as the key the id sets use (they key on the first
 * 8 bytes, so a prefix and its full id meet in them). */
static void s_pfx_id(const uint8_t *pfx, uint8_t id[32])
{
    memset(id, 0, 32);
    memcpy(id, pfx, WIRE_PFX_LEN);
}

/* 1 if we hold, or have handed to ingest, an event whose id starts with
 * pfx. Two ids sharing 64 bits are taken for one (recon repairs that). */
static int s_held_pfx(gossip_t *g, const uint8_t *pfx)
{
    uint8_t id[32];
    char hex[2 * WIRE_PFX_LEN + 1];
    size_t n;
    s_pfx_id(pfx, id);
    if (g_idset_has(&g->submitted, id)) return 1;
    event_hex(pfx, WIRE_PFX_LEN, hex);
    int rc = store_resolve(g->store, hex, NULL, 0, &n);
    return rc == 0 || rc == STORE_E_AMBIGUOUS;
}

/* Recon found ids the peer lacks: offer them (INV) and let the peer fetch
 * them at its own pace, in bounded WANT windows. */
typedef struct {
    g_link_t *l;
    uint8_t *buf; /* WIRE_MAX_IDS ids */
    size_t n;
} s_offer_t;

static void s_offer_flush(s_offer_t *o)
{
    if (o->n) g_send(o->l, WIRE_INV, o->buf, o->n * 32);
    o->n = 0;
}

static void s_have(const uint8_t id[RECON_ID_LEN], void *arg)
{
    s_offer_t *o = arg;
    if (!o->buf || g_idset_has(&o->l->known, id)) return;
    memcpy(o->buf + 32 * o->n++, id, 32);
    if (o->n == WIRE_MAX_IDS) s_offer_flush(o);
}

/* Send up to G_PUSH_BUDGET bytes of owed bodies. 0 when all are sent, else
 * the ms to wait before the next slice: 1 when the slice's budget ran out
 * (the loop serves everyone else first), until a message's worth of tokens
 * when paced, S_FULL_WAIT_MS when the peer's socket is full. */
#define S_FULL_WAIT_MS 20
static uint64_t s_drain(g_link_t *l)
{
    gossip_t *g = l->g;
    uint64_t now = loop_now_ms();
    l->push_tok += (double)(now - l->push_tok_t) / 1000.0 * G_PUSH_RATE;
    l->push_tok_t = now;
    if (l->push_tok > G_PUSH_RATE) l->push_tok = G_PUSH_RATE;
    if (l->push_tok < (double)WIRE_MAX_MSG) /* paced: wait for tokens */
        return 1 + (uint64_t)(((double)WIRE_MAX_MSG - l->push_tok) * 1000.0 / G_PUSH_RATE);
    size_t budget = l->push_tok < G_PUSH_BUDGET ? (size_t)l->push_tok : G_PUSH_BUDGET;
    size_t spent = 0;
    while (l->push_head < l->npush && budget > 0 && l->state == G_LINKED) {
        wire_frame_t f[WIRE_MAX_EVENTS];
        size_t nf = 0, off = 0, head = l->push_head, blen = 0;
        /* Room for one more event of any size, with its 2-byte length. */
        while (head < l->npush && nf < WIRE_MAX_EVENTS &&
               off + 2 * (nf + 1) + WIRE_MAX_EVENT <= WIRE_MAX_MSG - 2) {
            const uint8_t *id = l->push[head];
            size_t len;
            if (!g_idset_has(&l->known, id) &&
                store_get_raw(g->store, id, g->ev_buf + off, WIRE_MAX_EVENT, &len) == 0) {
                f[nf].p = g->ev_buf + off;
                f[nf].len = len;
                nf++;
                off += len;
            }
            head++;
        }
        uint8_t type = l->ver >= 3 ? WIRE_PUSH : WIRE_EVENTS;
        if (nf && (wire_enc_events(f, nf, g->msg_buf, WIRE_MAX_MSG, &blen) ||
                   g_send(l, type, g->msg_buf, blen) < 0)) {
            l->push_tok -= (double)spent;
            return S_FULL_WAIT_MS; /* socket full: later */
        }
        for (size_t i = l->push_head; i < head; i++) g_idset_add(&l->known, l->push[i]);
        l->stat_ev_tx += nf;
        g->stat_ev_tx += nf;
        l->push_head = head;
        budget = off >= budget ? 0 : budget - off;
        spent += off;
    }
    l->push_tok -= (double)spent;
    if (l->push_head >= l->npush) {
        l->push_head = l->npush = 0;
        l->eager_queued = 0;
        if (l->cappush > 65536) {
            free(l->push);
            l->push = NULL;
            l->cappush = 0;
        }
        return 0;
    }
    return 1;
}

void g_sync_work(gossip_t *g)
{
    uint64_t wait = 0;
    for (g_link_t *l = g->links; l; l = l->next) {
        if (l->state != G_LINKED || l->push_head >= l->npush) continue;
        uint64_t w = s_drain(l);
        if (w && (!wait || w < wait)) wait = w;
    }
    if (wait) loop_timer_reset(g->loop, g->work_timer, wait);
}

/* ---- new events from ingest ---- */

void g_sync_on_new(const uint8_t *const *events, const size_t *lens, const store_result_t *results,
                   size_t n, void *arg)
{
    gossip_t *g = arg;
    for (size_t i = 0; i < n; i++) {
        /* A target whose retraction came first is stored as a tombstone: it
         * is in nobody's sync set and has no body to offer. One retracted
         * by a later event of the same commit enters the set, and that
         * retraction (below) has the set rebuilt before it is next used. */
        if (results[i].status != STORE_NEW || results[i].retracted) continue;
        if (event_decode(events[i], lens[i], g->ev) != 0) continue;
        recon_set_add(g->set, g->ev->created_at, g->ev->id);
        if (g->ev->kind == EVENT_RETRACT) g->set_dirty = 1;
        g_idset_add(&g->submitted, g->ev->id); /* held: IHAVEs of it need no store lookup */
        size_t head = 0;
        s_idq_add(&g->inv, &g->ninv, &g->capinv, &head, g->ev->id, 1024);
    }
    if (g->ninv) loop_timer_reset(g->loop, g->inv_timer, G_INV_DELAY_MS);
}

/* A queue of ids (g->inv, g->lazy) drained whole: shrink it if a burst made
 * it large. */
static void s_idq_reset(uint8_t (**q)[32], size_t *n, size_t *cap)
{
    *n = 0;
    if (*cap > 65536) {
        free(*q);
        *q = NULL;
        *cap = 0;
    }
}

/* New ids, a few milliseconds after they were stored: their bodies are
 * pushed on eager version 3 links at once, their ids go to lazy version 3
 * links a little later (g_sync_flush_lazy), and to version 2 links as INV. */
void g_sync_flush_inv(loop_t *loop, loop_timer_t *t, void *arg)
{
    gossip_t *g = arg;
    uint8_t *buf = malloc(WIRE_MAX_IDS * 32);
    if (!buf) return;
    int pushed = 0, lazy = 0;
    for (g_link_t *l = g->links; l; l = l->next) {
        if (l->state != G_LINKED) continue;
        if (l->ver >= 3) {
            if (!l->eager) {
                lazy = 1;
                continue;
            }
            for (size_t i = 0; i < g->ninv; i++) l->eager_queued += (size_t)s_push(l, g->inv[i]);
            pushed = 1;
            continue;
        }
        size_t k = 0;
        for (size_t i = 0; i < g->ninv; i++) {
            if (g_idset_has(&l->known, g->inv[i])) continue;
            memcpy(buf + 32 * k++, g->inv[i], 32);
            if (k == WIRE_MAX_IDS) {
                g_send(l, WIRE_INV, buf, k * 32);
                k = 0;
            }
        }
        if (k) g_send(l, WIRE_INV, buf, k * 32);
    }
    free(buf);
    for (size_t i = 0; lazy && i < g->ninv; i++) {
        size_t head = 0;
        if (s_idq_add(&g->lazy, &g->nlazy, &g->caplazy, &head, g->inv[i], 1024)) break;
    }
    if (g->nlazy) loop_timer_due(loop, g->lazy_timer, G_LAZY_DELAY_MS);
    if (pushed) g_sync_work(g);
    s_idq_reset(&g->inv, &g->ninv, &g->capinv);
    (void)t;
}

/* IHAVE on lazy version 3 links: the 8-byte prefixes of the ids the peer
 * is not known to hold (it may have announced them to us meanwhile). */
void g_sync_flush_lazy(loop_t *loop, loop_timer_t *t, void *arg)
{
    gossip_t *g = arg;
    uint8_t buf[WIRE_MAX_IDS * WIRE_PFX_LEN];
    for (g_link_t *l = g->links; l; l = l->next) {
        if (l->state != G_LINKED || l->ver < 3 || l->eager) continue;
        size_t k = 0;
        for (size_t i = 0; i < g->nlazy; i++) {
            if (g_idset_has(&l->known, g->lazy[i])) continue;
            memcpy(buf + WIRE_PFX_LEN * k++, g->lazy[i], WIRE_PFX_LEN);
            if (k == WIRE_MAX_IDS) {
                g_send(l, WIRE_IHAVE, buf, k * WIRE_PFX_LEN);
                k = 0;
            }
        }
        if (k) g_send(l, WIRE_IHAVE, buf, k * WIRE_PFX_LEN);
    }
    s_idq_reset(&g->lazy, &g->nlazy, &g->caplazy);
    (void)loop;
    (void)t;
}

/* ---- incoming ---- */

/* 1 if id was asked for recently (and records that we ask now otherwise). */
static int s_want_recent(gossip_t *g, const uint8_t id[32], uint64_t now)
{
    uint64_t k = g_idkey(id);
    size_t i = k % g->want_cap;
    if (g->want_key[i] == k && now - g->want_t[i] < G_WANT_RETRY_MS) return 1;
    g->want_key[i] = k;
    g->want_t[i] = now;
    return 0;
}

_Static_assert(G_ASKED_SLOTS / 10 >= G_WANT_WINDOW, "a window fits between 60% and 70%");

/* 1 if we may ask peers for bodies (WANT, GRAFT): only while we read what
 * they send and ingest has room. Asked while not reading, the answers
 * queue at the peer: it counts them as owed to us, and with the asks a
 * stalled window repeats it took an honest node for one asking too much
 * at once (a large import with a linked peer lost the link that way). */
static int s_may_ask(gossip_t *g)
{
    return !g->router_paused && ingest_pending(g->ingest) <= g->ingest_high;
}

/* Ask the peer for queued ids, keeping at most G_WANT_WINDOW outstanding,
 * and nothing while we may not ask (the tick calls again). */
static void s_fetch(g_link_t *l)
{
    gossip_t *g = l->g;
    if (!s_may_ask(g)) return;
    uint8_t want[G_WANT_BATCH * 32];
    while (l->fetch_head < l->nfetch && l->outstanding < G_WANT_WINDOW && l->state == G_LINKED) {
        /* The asked set forgets everything once it is 70% full
         * (g_idset_add); ids still outstanding would then arrive "unasked"
         * and, at a few thousand events a second, use up the allowance
         * meant for a peer that pushes: the link was closed as abusive in
         * the middle of a large import. So at 60% (a window below 70%) ask
         * nothing more until every outstanding id has come (this is called
         * again as EVENTS arrive, or after the stall time), then start the
         * set afresh. */
        if (l->asked.slot && l->asked.n * 10 >= l->asked.cap * 6) {
            if (l->outstanding) break;
            memset(l->asked.slot, 0, l->asked.cap * sizeof(*l->asked.slot));
            l->asked.n = 0;
        }
        size_t k = 0, room = G_WANT_WINDOW - l->outstanding, head = l->fetch_head;
        if (room > G_WANT_BATCH) room = G_WANT_BATCH;
        while (l->fetch_head < l->nfetch && k < room) {
            const uint8_t *id = l->fetch[l->fetch_head++];
            if (store_has(g->store, id) == 0) memcpy(want + 32 * k++, id, 32);
        }
        if (k && g_send(l, WIRE_WANT, want, k * 32) < 0) {
            l->fetch_head = head; /* queue full: the same ids next time */
            break;
        }
        if (k) {
            l->outstanding += k;
            l->t_want = loop_now_ms();
            if (l->asked.slot || g_idset_init(&l->asked, G_ASKED_SLOTS) == 0)
                for (size_t i = 0; i < k; i++) g_idset_add(&l->asked, want + 32 * i);
        }
    }
    if (l->fetch_head >= l->nfetch) {
        l->fetch_head = l->nfetch = 0;
        if (l->capfetch > 65536) {
            free(l->fetch);
            l->fetch = NULL;
            l->capfetch = 0;
        }
    }
}

static void s_on_inv(g_link_t *l, const wire_msg_t *m)
{
    gossip_t *g = l->g;
    uint64_t now = loop_now_ms();
    for (size_t i = 0; i < m->u.ids.n; i++) {
        const uint8_t *id = m->u.ids.ids + 32 * i;
        g_idset_add(&l->known, id);
        if (l->nfetch - l->fetch_head >= G_MAX_FETCH) break; /* recon offers them again */
        if (store_has(g->store, id) != 0 || s_want_recent(g, id, now)) continue;
        if (s_idq_add(&l->fetch, &l->nfetch, &l->capfetch, &l->fetch_head, id, 1024)) break;
    }
    s_fetch(l);
}

typedef struct {
    struct g_anchor *anchor;
    uint32_t link_id;
} s_sub_t;

static void s_ingested(const store_result_t *results, size_t n, void *arg)
{
    s_sub_t *sub = arg;
    gossip_t *g = sub->anchor->g;
    if (g) {
        /* The link they came by holds them: never push them back to it,
         * however long verification took (the link's known set forgets). */
        g_link_t *from = g_link_by_id(g, sub->link_id);
        for (size_t i = 0; from && i < n; i++)
            if (results[i].status != STORE_REJECTED) g_idset_add(&from->known, results[i].id);
        size_t bad = 0;
        for (size_t i = 0; i < n; i++)
            if (results[i].status == STORE_REJECTED && event_err_is_malformed(results[i].reason))
                bad++;
        if (bad) {
            g->stat_rejects += bad;
            g_link_t *l = g_link_by_id(g, sub->link_id);
            if (l) g_link_fail(l, WIRE_R_ABUSE, "sent invalid events", 1);
        }
    }
    if (--sub->anchor->refs == 0) free(sub->anchor);
    free(sub);
}

/* An event the peer sent though we did not ask it for that id (EVENTS
 * answer WANTs only). A few happen honestly (a WANT answered after our
 * memory of it was cleared); a stream of them -- replays of what we hold,
 * or pushes of anything -- costs us lookups and, for new ids, signature
 * checks. Token bucket per link: 0 within it, -1 past it. */
static int s_bucket(double *tok, uint64_t *t, uint64_t now, double rate, double burst)
{
    if (!*t) *tok = burst;
    *tok += (double)(now - (*t ? *t : now)) / 1000.0 * rate;
    *t = now;
    if (*tok > burst) *tok = burst;
    *tok -= 1.0;
    return *tok < 0 ? -1 : 0;
}

static int s_unasked(g_link_t *l, uint64_t now)
{
    return s_bucket(&l->unasked_tok, &l->unasked_t, now, G_UNASKED_RATE, G_UNASKED_BURST);
}

/* A body we hold came by push, unasked: the link is a redundant path. It
 * is pruned: we make it lazy and answer PRUNE (once per message, also when
 * it was lazy already, so two ends whose GRAFT and PRUNE crossed agree
 * again). Duplicates on a link that was lazy already are charged to a
 * bucket deep enough for what an honest peer has queued when our PRUNE
 * reaches it; a stream of them is a peer ignoring PRUNE. 0, or -1 when
 * the link was failed. */
static int s_dup_push(g_link_t *l, uint64_t now, int *pruned)
{
    gossip_t *g = l->g;
    int was_eager = l->eager;
    l->eager = 0;
    if (!*pruned && g_send(l, WIRE_PRUNE, NULL, 0) == 0) g->stat_prunes++;
    *pruned = 1;
    if (was_eager || g_behind(g, now)) return 0; /* in flight when we pruned */
    if (s_bucket(&l->dup_tok, &l->dup_t, now, G_DUP_RATE, G_DUP_BURST) < 0) {
        g_link_fail(l, WIRE_R_ABUSE, "kept pushing after PRUNE", 1);
        return -1;
    }
    return 0;
}

/* EVENTS or PUSH: decode each (garbage is abuse); an id we hold, or have
 * handed to ingest already, is dropped here and never verified again
 * (stat_replays); the rest go to ingest, which verifies and commits them in
 * batches. EVENTS answer WANTs only: an unasked one is charged to the
 * peer. PUSH also carries eager pushes: a new one makes the link eager, a
 * duplicate prunes it (s_dup_push). */
static void s_on_events(g_link_t *l, const wire_msg_t *m)
{
    gossip_t *g = l->g;
    const uint8_t *ev[WIRE_MAX_EVENTS];
    size_t lens[WIRE_MAX_EVENTS], n = 0;
    uint64_t now = loop_now_ms();
    int push = m->type == WIRE_PUSH, pruned = 0;
    size_t nasked = 0;
    for (size_t i = 0; i < m->u.events.n; i++) {
        int rc = event_decode(m->u.events.ev[i].p, m->u.events.ev[i].len, g->ev);
        if (rc != 0) {
            g->stat_rejects++;
            g_link_fail(l, WIRE_R_ABUSE, "sent an undecodable event", 1);
            return;
        }
        const uint8_t *id = g->ev->id;
        g_idset_add(&l->known, id);
        int asked = l->asked.slot && g_idset_has(&l->asked, id);
        nasked += asked;
        int held = g_idset_has(&g->submitted, id) || store_has(g->store, id) != 0;
        if (!asked && !push) {
            g->stat_unasked++;
            if (s_unasked(l, now) < 0) {
                g_link_fail(l, WIRE_R_ABUSE, "sent events it was not asked for", 1);
                return;
            }
        }
        if (held) {
            g->stat_replays++;
            if (push && !asked && s_dup_push(l, now, &pruned) < 0) return;
            continue;
        }
        if (push && !asked) {
            /* A first copy by push makes the link eager at our end too:
             * a tree edge carries bodies both ways, or events from our
             * side would only cross it by IHAVE and GRAFT (ends whose
             * GRAFT and PRUNE crossed disagree until this). Not while we
             * are behind: we pruned every link to shed load. */
            if (!g_behind(g, now)) l->eager = 1;
            g->stat_pushed++;
            g->t_pushed = now;
        }
        g_idset_add(&g->submitted, id);
        ev[n] = m->u.events.ev[i].p;
        lens[n] = m->u.events.ev[i].len;
        n++;
    }
    l->stat_ev_rx += m->u.events.n;
    g->stat_ev_rx += m->u.events.n;
    /* A PUSH mixes answers with eager pushes: only the asked ones were
     * outstanding. */
    size_t got = push ? nasked : m->u.events.n;
    if (got) {
        l->outstanding = l->outstanding > got ? l->outstanding - got : 0;
        l->t_want = now;
    }
    if (n == 0) {
        s_fetch(l);
        return;
    }
    s_sub_t *sub = malloc(sizeof *sub);
    if (!sub) return;
    sub->anchor = g->anchor;
    sub->link_id = l->id;
    g->anchor->refs++;
    if (ingest_submit(g->ingest, ev, lens, n, s_ingested, sub) < 0) {
        g->anchor->refs--;
        free(sub);
    }
    g_sync_pressure(g, now);
    s_fetch(l);
}

/* IHAVE: ids a lazy peer holds. Each we lack (and do not await already)
 * is awaited: if no push brings it within G_GRAFT_MS, s_graft asks the
 * announcer. */
static void s_on_ihave(g_link_t *l, const wire_msg_t *m)
{
    gossip_t *g = l->g;
    uint64_t now = loop_now_ms();
    for (size_t i = 0; i < m->u.pfx.n; i++) {
        const uint8_t *pfx = m->u.pfx.pfx + WIRE_PFX_LEN * i;
        uint8_t id[32];
        s_pfx_id(pfx, id);
        g_idset_add(&l->known, id);
        if (g->nmissing >= G_MISSING_MAX) {
            g->repair_due = 1; /* too much at once: reconciliation finds the rest */
            break;
        }
        if (g_idset_has(&g->awaited, id) || s_held_pfx(g, pfx)) continue;
        if (!g->missing) {
            g->missing = malloc(G_MISSING_MAX * sizeof *g->missing);
            if (!g->missing) return;
        }
        struct g_missing *e = &g->missing[g->nmissing++];
        memcpy(e->pfx, pfx, WIRE_PFX_LEN);
        e->link = l->id;
        e->first = now;
        e->due = now + G_GRAFT_MS;
        e->tries = 0;
        g_idset_add(&g->awaited, id);
    }
    loop_timer_due(g->loop, g->tick, G_GRAFT_MS + 1);
}

/* GRAFT to l for the awaited ids announced by it that are due (at most
 * WIRE_MAX_IDS; the rest next time), and make l eager. */
static void s_graft_link(g_link_t *l, uint64_t now)
{
    gossip_t *g = l->g;
    uint8_t buf[WIRE_MAX_IDS * WIRE_PFX_LEN];
    size_t k = 0;
    for (size_t i = 0; i < g->nmissing && k < WIRE_MAX_IDS; i++) {
        struct g_missing *e = &g->missing[i];
        if (e->link != l->id || e->due > now || e->tries) continue;
        memcpy(buf + WIRE_PFX_LEN * k++, e->pfx, WIRE_PFX_LEN);
        e->tries = 1;
        e->due = now + G_WANT_RETRY_MS;
    }
    if (!k || g_send(l, WIRE_GRAFT, buf, k * WIRE_PFX_LEN) < 0) return;
    l->eager = 1;
    g->stat_grafts++;
    if (!l->asked.slot && g_idset_init(&l->asked, G_ASKED_SLOTS)) return;
    for (size_t i = 0; i < k; i++) {
        uint8_t id[32];
        s_pfx_id(buf + WIRE_PFX_LEN * i, id);
        g_idset_add(&l->asked, id);
    }
}

/* The awaited ids: drop those that came; GRAFT those due (one GRAFT per
 * announcer), but wait up to G_GRAFT_MAX_MS while pushes keep arriving;
 * one whose GRAFT went unanswered, or whose announcer is gone, is left to
 * reconciliation, which is started soon. Returns the next due time (0:
 * none). */
static uint64_t s_graft(gossip_t *g, uint64_t now)
{
    uint64_t next = 0;
    int any = 0;
    size_t w = 0;
    for (size_t i = 0; i < g->nmissing; i++) {
        struct g_missing *e = &g->missing[i];
        if (e->due <= now) {
            uint8_t id[32];
            s_pfx_id(e->pfx, id);
            g_link_t *l = g_link_by_id(g, e->link);
            if (s_held_pfx(g, e->pfx)) continue;
            if (e->tries || !l || l->state != G_LINKED) {
                g->repair_due = 1;
                continue;
            }
            if (now - g->t_pushed < G_GRAFT_MS && now - e->first < G_GRAFT_MAX_MS) {
                /* Pushes keep coming: the tree is alive and only slower
                 * than the lazy path (a burst queues at every hop). A
                 * GRAFT now would bring a second copy; look again soon. */
                e->due = now + G_GRAFT_MS / 4;
            } else if (s_want_recent(g, id, now)) { /* asked of someone already */
                e->due = now + G_WANT_RETRY_MS;
                e->tries = 1;
            } else {
                any = 1;
            }
        }
        g->missing[w++] = *e;
    }
    /* The set of awaited prefixes cannot forget one entry: rebuild it when
     * entries were dropped, or a prefix given up on would make later
     * IHAVEs of it be ignored. */
    if (w < g->nmissing) {
        g_idset_clear(&g->awaited);
        for (size_t i = 0; i < w; i++) {
            uint8_t id[32];
            s_pfx_id(g->missing[i].pfx, id);
            g_idset_add(&g->awaited, id);
        }
    }
    g->nmissing = w;
    if (any && s_may_ask(g))
        for (g_link_t *l = g->links; l; l = l->next)
            if (l->state == G_LINKED && l->ver >= 3) s_graft_link(l, now);
    for (size_t i = 0; i < g->nmissing; i++)
        if (!next || g->missing[i].due < next) next = g->missing[i].due;
    return next;
}

void g_sync_shed(gossip_t *g)
{
    for (g_link_t *l = g->links; l; l = l->next) {
        if (l->state != G_LINKED || l->ver < 3 || !l->eager) continue;
        l->eager = 0;
        if (g_send(l, WIRE_PRUNE, NULL, 0) == 0) g->stat_prunes++;
    }
}

void g_sync_pressure(gossip_t *g, uint64_t now)
{
    size_t pend = ingest_pending(g->ingest);
    if (!g->router_paused && pend > g->ingest_high) {
        g->router_paused = 1;
        loop_watch_set(g->router_w, 0);
        g_sync_shed(g);
        g_log(g, LOG_I, "ingest holds %zu events: not reading peers until it holds under %zu", pend,
              g->ingest_high / 2);
    } else if (g->router_paused && pend < g->ingest_high / 2) {
        g->router_paused = 0;
        g->t_resumed = now;
        loop_watch_set(g->router_w, ZMQ_POLLIN);
        g_log(g, LOG_I, "ingest holds %zu events: reading peers again", pend);
    }
}

/* GRAFT: the peer missed what we announced; push to it from now on and
 * send what it names (bounded like WANT). */
static void s_on_graft(g_link_t *l, const wire_msg_t *m)
{
    gossip_t *g = l->g;
    l->eager = 1;
    if (s_owes_too_much(l, m->u.pfx.n)) {
        g_link_fail(l, WIRE_R_ABUSE, "asked for too much at once", 1);
        return;
    }
    for (size_t i = 0; i < m->u.pfx.n; i++) {
        char hex[2 * WIRE_PFX_LEN + 1];
        uint8_t id[1][EVENT_ID_LEN];
        size_t n = 0;
        event_hex(m->u.pfx.pfx + WIRE_PFX_LEN * i, WIRE_PFX_LEN, hex);
        if (store_resolve(g->store, hex, id, 1, &n) == 0) {
            s_push(l, id[0]);
        } else if (s_bucket(&l->unheld_tok, &l->unheld_t, loop_now_ms(), G_UNASKED_RATE,
                            G_UNASKED_BURST) < 0) {
            g_link_fail(l, WIRE_R_ABUSE, "asked for events we never offered", 1);
            return;
        }
    }
    if (m->u.pfx.n) g_kick(g);
}

static void s_on_recon(g_link_t *l, const wire_msg_t *m)
{
    gossip_t *g = l->g;
    size_t olen = 0;
    /* Each RECON can make us offer our whole set: allow a session's worth
     * of messages in a burst, not a stream. */
    uint64_t now = loop_now_ms();
    if (!l->recon_tok_t) l->recon_tok = G_RECON_BURST;
    l->recon_tok += (double)(now - (l->recon_tok_t ? l->recon_tok_t : now)) / 1000.0 * G_RECON_RATE;
    l->recon_tok_t = now;
    if (l->recon_tok > G_RECON_BURST) l->recon_tok = G_RECON_BURST;
    if ((l->recon_tok -= 1.0) < 0) {
        g_link_fail(l, WIRE_R_ABUSE, "too many RECON messages", 1);
        return;
    }
    s_set_fresh(g);
    s_offer_t offer = {.l = l, .buf = malloc(WIRE_MAX_IDS * 32)};
    int r = recon_process(g->set, m->u.recon.p, m->u.recon.len, g->recon_buf, RECON_MAX_MSG, &olen,
                          s_have, &offer);
    s_offer_flush(&offer);
    free(offer.buf);
    if (r == RECON_E_STORE || r == RECON_E_NOMEM) {
        /* our side, not the peer's: end the session, the next round retries */
        g_log(g, LOG_D, "reconciliation with %s paused: %s", g_who(l),
              r == RECON_E_STORE ? "the sync set is being reloaded" : "out of memory");
        l->recon_active = 0;
        return;
    }
    if (r < 0) {
        g_link_fail(l, WIRE_R_PROTOCOL, "malformed RECON", 1);
        return;
    }
    if (r & RECON_IN_ASKED) {
        g_send(l, WIRE_RECON, g->recon_buf, olen);
        if (!(r & RECON_OUT_ASKS)) l->recon_active = 0;
    } else {
        l->recon_active = 0;
    }
}

static void s_start_recon(g_link_t *l)
{
    gossip_t *g = l->g;
    size_t olen;
    s_set_fresh(g);
    if (recon_initiate(g->set, g->recon_buf, RECON_MAX_MSG, &olen) < 0) return;
    if (g_send(l, WIRE_RECON, g->recon_buf, olen) == 0) {
        l->recon_active = 1;
        l->recon_t = loop_now_ms();
        g->stat_recons++;
    }
}

static void s_send_pex(g_link_t *l)
{
    gossip_t *g = l->g;
    wire_pex_entry_t e[WIRE_MAX_PEX];
    size_t n = 0;
    for (peer_t *p = peers_first(g->peers); p && n < WIRE_MAX_PEX; p = peers_next(g->peers, p)) {
        if (!p->has_node || p->state != PEER_LINKED || p->id == l->peer_id) continue;
        if (strncmp(p->endpoint, "tcp://", 6) || strlen(p->endpoint) > WIRE_MAX_ENDPOINT) continue;
        e[n].node = p->node;
        snprintf(e[n].endpoint, sizeof e[n].endpoint, "%.255s", p->endpoint);
        n++;
    }
    uint8_t *buf = malloc(1 + WIRE_MAX_PEX * (32 + 1 + WIRE_MAX_ENDPOINT));
    size_t len;
    if (buf && wire_enc_pex(e, n, buf, 1 + WIRE_MAX_PEX * (32 + 1 + WIRE_MAX_ENDPOINT), &len) == 0)
        g_send(l, WIRE_PEX, buf, len);
    free(buf);
    l->pex_t = loop_now_ms();
}

/* 1 if the link's own connection runs over loopback (only then may its
 * peer tell us about loopback addresses). */
static int s_link_on_loopback(const g_link_t *l)
{
    char norm[PEERS_MAX_ENDPOINT];
    int lo = 0;
    return l->endpoint[0] && peers_norm_endpoint(l->endpoint, norm, sizeof norm, &lo) == 0 && lo;
}

/* PEX: each entry is normalised (peers_norm_endpoint) and must not be us,
 * nor a loopback address from a peer that is not itself on loopback; a
 * link may add at most G_PEX_NEW new entries per G_PEX_WINDOW_MS (more is
 * ignored, not abuse: the window refills), and peers_add_pex refuses
 * entries past the table's share for peer exchange. */
static void s_on_pex(g_link_t *l, const wire_msg_t *m)
{
    gossip_t *g = l->g;
    uint64_t now = loop_now_ms();
    if (now - l->pex_win_t > G_PEX_WINDOW_MS) {
        l->pex_win_t = now;
        l->pex_new = 0;
    }
    int lo_ok = l->out ? s_link_on_loopback(l) : l->conn_lo;
    for (size_t i = 0; i < m->u.pex.n && l->pex_new < G_PEX_NEW; i++) {
        const wire_pex_entry_t *e = &m->u.pex.e[i];
        char norm[PEERS_MAX_ENDPOINT];
        int lo = 0;
        if (!memcmp(e->node, g->node.pk, 32) || peers_find_node(g->peers, e->node)) continue;
        if (peers_norm_endpoint(e->endpoint, norm, sizeof norm, &lo) < 0 || (lo && !lo_ok)) {
            g->stat_pex_refused++;
            continue;
        }
        if (peers_find_endpoint(g->peers, norm)) continue;
        l->pex_new++;
        if (!peers_add_pex(g->peers, norm, e->node, NULL)) g->stat_pex_refused++;
    }
}

void g_sync_on_msg(g_link_t *l, const wire_msg_t *m)
{
    switch (m->type) {
    case WIRE_INV:
        s_on_inv(l, m);
        break;
    case WIRE_WANT:
        /* An honest peer keeps G_WANT_WINDOW ids outstanding; far more is
         * an attempt to make us queue without bound. */
        if (s_owes_too_much(l, m->u.ids.n)) {
            g_link_fail(l, WIRE_R_ABUSE, "asked for too much at once", 1);
            break;
        }
        /* We announce only what we hold, so WANTs for ids we do not hold
         * are rare (a retraction in between); a stream of them only makes
         * us search the store. Same allowance as unasked events. */
        for (size_t i = 0; i < m->u.ids.n; i++) {
            const uint8_t *id = m->u.ids.ids + 32 * i;
            if (store_has(l->g->store, id) != 1 &&
                s_bucket(&l->unheld_tok, &l->unheld_t, loop_now_ms(), G_UNASKED_RATE,
                         G_UNASKED_BURST) < 0) {
                g_link_fail(l, WIRE_R_ABUSE, "asked for events we never offered", 1);
                return;
            }
            s_push(l, id);
        }
        g_kick(l->g);
        break;
    case WIRE_EVENTS:
    case WIRE_PUSH:
        s_on_events(l, m);
        break;
    case WIRE_IHAVE:
        s_on_ihave(l, m);
        break;
    case WIRE_GRAFT:
        s_on_graft(l, m);
        break;
    case WIRE_PRUNE:
        l->eager = 0;
        break;
    case WIRE_RECON:
        s_on_recon(l, m);
        break;
    case WIRE_PEX:
        s_on_pex(l, m);
        break;
    default:
        g_link_fail(l, WIRE_R_PROTOCOL, "unexpected message", 1);
        break;
    }
}

void g_sync_on_link_up(g_link_t *l)
{
    /* Everyone linked hears about the newcomer now (and it hears about
     * them), so peers that joined through us find each other at once. */
    for (g_link_t *o = l->g->links; o; o = o->next)
        if (o->state == G_LINKED || o == l) s_send_pex(o);
    /* The dialer reconciles at once; the listener's turn comes with the
     * periodic rounds, so a fresh link is not reconciled twice. */
    if (l->out) s_start_recon(l);
}

uint64_t g_sync_tick(gossip_t *g, uint64_t now)
{
    size_t linked = 0;
    uint64_t next = 0;
#define S_DUE(t)                                                                                   \
    do {                                                                                           \
        uint64_t t_ = (t);                                                                         \
        if (!next || t_ < next) next = t_;                                                         \
    } while (0)
    for (g_link_t *l = g->links; l; l = l->next) {
        if (l->state != G_LINKED) continue;
        linked++;
        if (l->recon_active && now - l->recon_t > G_RECON_TIMEOUT) l->recon_active = 0;
        /* No answer for G_WANT_STALL_MS: asked for what the peer no longer
         * has. The clock runs only while we read: a silence of our own
         * making says nothing of the peer. */
        uint64_t asked = l->t_want > g->t_resumed ? l->t_want : g->t_resumed;
        if (l->outstanding && !g->router_paused && now - asked > G_WANT_STALL_MS)
            l->outstanding = 0;
        if (l->fetch_head < l->nfetch) s_fetch(l);
        if (now - l->pex_t > 3 * G_PEX_MS) s_send_pex(l);
        if (l->recon_active) S_DUE(l->recon_t + G_RECON_TIMEOUT + 1);
        if (l->outstanding && !g->router_paused) S_DUE(asked + G_WANT_STALL_MS + 1);
        /* Ids waiting while the window is full are asked for as EVENTS
         * arrive; this is only the fallback. */
        if (l->fetch_head < l->nfetch) S_DUE(now + G_BUSY_TICK_MS);
        S_DUE(l->pex_t + 3 * G_PEX_MS + 1);
    }
    if (g->nmissing) S_DUE(s_graft(g, now));
    if (g->repair_due && linked) g->next_recon = now; /* see g_link_close */
    g->repair_due = 0;
    if (linked) S_DUE(g->next_recon);
#undef S_DUE
    if (now < g->next_recon || linked == 0) return next;
    g->next_recon = now + G_RECON_MS + randombytes_uniform(G_RECON_MS / 4);
    if (!next || g->next_recon < next) next = g->next_recon;
    /* A random linked peer with no session of ours under way (a repair
     * must not wait out the next round because the pick was busy). */
    size_t idle = 0;
    for (g_link_t *l = g->links; l; l = l->next) idle += l->state == G_LINKED && !l->recon_active;
    if (!idle) return next;
    uint32_t pick = randombytes_uniform((uint32_t)idle);
    for (g_link_t *l = g->links; l; l = l->next) {
        if (l->state != G_LINKED || l->recon_active) continue;
        if (pick-- == 0) {
            s_start_recon(l);
            break;
        }
    }
    return next;
}
