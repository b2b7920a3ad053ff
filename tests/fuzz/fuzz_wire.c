/* fuzz_wire.c -- libFuzzer target for the peer wire decoder and RECON.
 *
 * The input is one wire message (header and body, as one ZeroMQ frame),
 * handed to wire_decode, and, when it decodes as RECON, the reconciliation
 * payload is processed against a small fixed sync set. Properties checked
 * beyond "no crash": a decoded message's fields stay within their bounds,
 * re-encoding a decoded HELLO/WELCOME/INV/WANT/PEX/PING/EVENTS/IHAVE/GRAFT/
 * PRUNE/PUSH gives back the
 * same body, and a RECON answer never exceeds RECON_MAX_MSG.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recon.h"
#include "wire.h"

static recon_set_t *s_set;
static uint8_t s_out[RECON_MAX_MSG];

static void s_have(const uint8_t id[RECON_ID_LEN], void *arg)
{
    (*(size_t *)arg)++;
}

#define S_SET_N 300

static void s_id(uint32_t i, uint8_t id[32])
{
    for (int b = 0; b < 32; b++) id[b] = (uint8_t)((i * 2654435761u) >> (b % 4 * 8)) ^ b;
}

/* The set's store: whole ids recomputed from their index. */
static int s_fetch(void *arg, const uint8_t *keys, size_t n, uint8_t (*ids)[RECON_ID_LEN])
{
    (void)arg;
    for (size_t k = 0; k < n; k++) {
        uint32_t i = 0;
        for (; i < S_SET_N; i++) {
            s_id(i, ids[k]);
            if (!memcmp(ids[k], keys + k * RECON_KEY_LEN + 8, RECON_KEEP_LEN)) break;
        }
        if (i == S_SET_N) return -1;
    }
    return 0;
}

static void s_init(void)
{
    if (s_set) return;
    s_set = recon_set_new(s_fetch, NULL);
    uint8_t id[32];
    for (uint32_t i = 0; i < S_SET_N; i++) {
        s_id(i, id);
        recon_set_add(s_set, 1000 + i / 3, id);
    }
    recon_set_seal(s_set);
}

static void s_check_reencode(const wire_msg_t *m, const uint8_t *body, size_t blen)
{
    static uint8_t buf[70000];
    size_t len = 0;
    int rc = -1;
    switch (m->type) {
    case WIRE_HELLO:
    case WIRE_WELCOME:
        rc = wire_enc_hello(&m->u.hello, m->type == WIRE_WELCOME, buf, sizeof buf, &len);
        break;
    case WIRE_INV:
    case WIRE_WANT:
        rc = wire_enc_ids(m->u.ids.ids, m->u.ids.n, buf, sizeof buf, &len);
        break;
    case WIRE_PEX:
        rc = wire_enc_pex(m->u.pex.e, m->u.pex.n, buf, sizeof buf, &len);
        break;
    case WIRE_PING:
    case WIRE_PONG:
        rc = wire_enc_seq(m->u.seq, buf, sizeof buf, &len);
        break;
    case WIRE_IHAVE:
    case WIRE_GRAFT:
        rc = wire_enc_pfx(m->u.pfx.pfx, m->u.pfx.n, m->type == WIRE_GRAFT, buf, sizeof buf, &len);
        break;
    case WIRE_PRUNE:
        rc = 0;
        len = 0;
        break;
    case WIRE_EVENTS:
    case WIRE_PUSH:
        rc = wire_enc_events(m->u.events.ev, m->u.events.n, buf, sizeof buf, &len);
        break;
    default:
        return;
    }
    if (rc != 0 || len != blen || memcmp(buf, body, len) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_init();
    wire_msg_t m;
    if (wire_decode(data, size, &m) != 0) return 0;
    s_check_reencode(&m, data + 2, size - 2);
    if (m.ver < WIRE_VERSION_MIN || m.ver > WIRE_VERSION || !wire_type_ok(m.ver, m.type)) abort();
    if ((m.type == WIRE_EVENTS || m.type == WIRE_PUSH) &&
        (m.u.events.n < 1 || m.u.events.n > WIRE_MAX_EVENTS))
        abort();
    if (m.type == WIRE_RECON) {
        size_t olen = 0, haves = 0;
        int r = recon_process(s_set, m.u.recon.p, m.u.recon.len, s_out, sizeof s_out, &olen, s_have,
                              &haves);
        if (r >= 0 && (olen < 1 || olen > RECON_MAX_MSG)) abort();
        if (haves > 300) abort();
    }
    return 0;
}
