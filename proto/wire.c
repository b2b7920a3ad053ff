/* wire.c -- strict codec for the peer wire protocol (docs/PROTOCOL.md §2).
 *
 * Every message is one ZeroMQ frame: a 2-byte header (version, type) and a
 * body. Decoding walks the body with a bounds-checked cursor (s_rd_t): every
 * read first checks that the bytes are there, strings are length-prefixed,
 * must be printable ASCII (endpoints, net ids) or free of control characters
 * (names, texts) and fit their bound, and the body must be consumed exactly.
 * Version 3 adds IHAVE / GRAFT (8-byte id prefixes), PRUNE (empty) and PUSH
 * (an EVENTS body); a version 2 header with one of those types is an
 * unknown type, as it is to a version 2 node.
 * EVENTS carries its events as u16-length-prefixed records, at most
 * WIRE_MAX_EVENTS of them in a message of at most WIRE_MAX_MSG bytes.
 * Nothing is copied except short strings (NUL-terminated into the message
 * struct); everything else points into the caller's message.
 *
 * The handshake helpers (proof, signed WELCOME transcript, transport keys)
 * live here too so the byte layouts the spec describes sit in one file.
 */
#include "wire.h"

#include <sodium.h>
#include <string.h>

typedef struct {
    const uint8_t *p;
    size_t len, pos;
} s_rd_t;

static int s_get(s_rd_t *r, size_t n, const uint8_t **out)
{
    if (r->len - r->pos < n) return -1;
    *out = r->p + r->pos;
    r->pos += n;
    return 0;
}

static int s_u8(s_rd_t *r, uint8_t *v)
{
    const uint8_t *p;
    if (s_get(r, 1, &p)) return -1;
    *v = *p;
    return 0;
}

/* Length-prefixed (u8) string into out (max bytes + NUL). printable: ASCII
 * 0x21..0x7e only (endpoints, ids); else any byte but NUL and C0 controls. */
static int s_str(s_rd_t *r, char *out, size_t max, int printable)
{
    uint8_t n;
    const uint8_t *p;
    if (s_u8(r, &n) || n > max || s_get(r, n, &p)) return -1;
    for (size_t i = 0; i < n; i++) {
        if (printable ? (p[i] < 0x21 || p[i] > 0x7e) : (p[i] < 0x20 || p[i] == 0x7f)) return -1;
    }
    memcpy(out, p, n);
    out[n] = 0;
    return 0;
}

static uint64_t s_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

const char *wire_type_name(int type)
{
    static const char *const names[] = {"?",    "HELLO", "WELCOME", "ACK",    "REJECT", "PING",
                                        "PONG", "INV",   "WANT",    "EVENTS", "RECON",  "PEX",
                                        "BYE",  "IHAVE", "GRAFT",   "PRUNE",  "PUSH"};
    if (type < 1 || type > WIRE_TYPE_MAX) return "?";
    return names[type];
}

const char *wire_strerror(int code)
{
    switch (code) {
    case 0:
        return "ok";
    case WIRE_E_MALFORMED:
        return "malformed message";
    case WIRE_E_VERSION:
        return "unsupported wire version";
    case WIRE_E_TYPE:
        return "unknown message type";
    case WIRE_E_TOOBIG:
        return "message too large";
    case WIRE_E_NOSPACE:
        return "output buffer too small";
    default:
        return "unknown wire error";
    }
}

void wire_header(uint8_t type, uint8_t out[2])
{
    wire_header_ver(WIRE_VERSION, type, out);
}

void wire_header_ver(uint8_t ver, uint8_t type, uint8_t out[2])
{
    out[0] = ver;
    out[1] = type;
}

/* Types 1..12 exist in every version; the spread messages from 3 on. */
int wire_type_ok(uint8_t ver, uint8_t type)
{
    if (type >= WIRE_HELLO && type <= WIRE_BYE) return 1;
    return ver >= 3 && type >= WIRE_IHAVE && type <= WIRE_PUSH;
}

static int s_dec_hello(s_rd_t *r, int welcome, wire_hello_t *h)
{
    memset(h, 0, sizeof *h);
    if (s_get(r, WIRE_KEY_LEN, &h->node) || s_get(r, WIRE_NONCE_LEN, &h->nonce)) return -1;
    if (s_str(r, h->endpoint, WIRE_MAX_ENDPOINT, 1) || s_str(r, h->name, WIRE_MAX_NAME, 0) ||
        s_str(r, h->net, WIRE_MAX_NETID, 1))
        return -1;
    if (!welcome) return 0;
    uint8_t pl;
    if (s_u8(r, &pl) || (pl != 0 && pl != WIRE_PROOF_LEN)) return -1;
    h->proof_len = pl;
    if (pl && s_get(r, pl, &h->proof)) return -1;
    return s_get(r, WIRE_SIG_LEN, &h->sig);
}

/* EVENTS body: 1..WIRE_MAX_EVENTS records of u16 length (1..WIRE_MAX_EVENT)
 * and that many bytes, nothing after the last. */
static int s_dec_events(s_rd_t *r, wire_msg_t *m)
{
    while (r->pos < r->len) {
        const uint8_t *p;
        if (m->u.events.n == WIRE_MAX_EVENTS) return WIRE_E_TOOBIG;
        if (s_get(r, 2, &p)) return WIRE_E_MALFORMED;
        size_t n = ((size_t)p[0] << 8) | p[1];
        if (n == 0 || n > WIRE_MAX_EVENT) return WIRE_E_TOOBIG;
        if (s_get(r, n, &p)) return WIRE_E_MALFORMED;
        m->u.events.ev[m->u.events.n].p = p;
        m->u.events.ev[m->u.events.n].len = n;
        m->u.events.n++;
    }
    return m->u.events.n ? 0 : WIRE_E_MALFORMED;
}

int wire_decode(const uint8_t *msg, size_t len, wire_msg_t *m)
{
    if (len > WIRE_MAX_MSG) return WIRE_E_TOOBIG;
    if (len < 2 || !msg) return WIRE_E_MALFORMED;
    if (msg[0] < WIRE_VERSION_MIN || msg[0] > WIRE_VERSION) return WIRE_E_VERSION;
    uint8_t type = msg[1];
    if (!wire_type_ok(msg[0], type)) return WIRE_E_TYPE;
    memset(m, 0, sizeof *m);
    m->ver = msg[0];
    m->type = type;
    s_rd_t r = {.p = msg + 2, .len = len - 2};
    if (type == WIRE_EVENTS || type == WIRE_PUSH) return s_dec_events(&r, m);
    if (type == WIRE_RECON) {
        if (r.len < 1 || r.len > WIRE_MAX_RECON) return WIRE_E_TOOBIG;
        m->u.recon.p = r.p;
        m->u.recon.len = r.len;
        return 0;
    }

    int bad = 0;
    switch (type) {
    case WIRE_HELLO:
    case WIRE_WELCOME:
        bad = s_dec_hello(&r, type == WIRE_WELCOME, &m->u.hello);
        break;
    case WIRE_ACK: {
        uint8_t pl = 0;
        bad = s_u8(&r, &pl) || (pl != 0 && pl != WIRE_PROOF_LEN) ||
              (pl && s_get(&r, pl, &m->u.ack.proof));
        m->u.ack.proof_len = pl;
        break;
    }
    case WIRE_REJECT:
    case WIRE_BYE:
        bad = s_u8(&r, &m->u.reason.code) || s_str(&r, m->u.reason.text, WIRE_MAX_TEXT, 0);
        break;
    case WIRE_PING:
    case WIRE_PONG: {
        const uint8_t *p;
        bad = s_get(&r, 8, &p);
        if (!bad) m->u.seq = s_get_be64(p);
        break;
    }
    case WIRE_INV:
    case WIRE_WANT: {
        if (r.len == 0 || r.len % WIRE_ID_LEN) return WIRE_E_MALFORMED;
        if (r.len / WIRE_ID_LEN > WIRE_MAX_IDS) return WIRE_E_TOOBIG;
        m->u.ids.n = r.len / WIRE_ID_LEN;
        m->u.ids.ids = r.p;
        r.pos = r.len;
        break;
    }
    case WIRE_IHAVE:
    case WIRE_GRAFT: {
        if (r.len % WIRE_PFX_LEN || (r.len == 0 && type == WIRE_IHAVE)) return WIRE_E_MALFORMED;
        if (r.len / WIRE_PFX_LEN > WIRE_MAX_IDS) return WIRE_E_TOOBIG;
        m->u.pfx.n = r.len / WIRE_PFX_LEN;
        m->u.pfx.pfx = r.len ? r.p : NULL;
        r.pos = r.len;
        break;
    }
    case WIRE_PRUNE:
        break; /* empty body: anything in it is trailing bytes */
    case WIRE_PEX: {
        uint8_t cnt;
        if (s_u8(&r, &cnt)) return WIRE_E_MALFORMED;
        if (cnt > WIRE_MAX_PEX) return WIRE_E_TOOBIG;
        for (size_t i = 0; i < cnt && !bad; i++)
            bad = s_get(&r, WIRE_KEY_LEN, &m->u.pex.e[i].node) ||
                  s_str(&r, m->u.pex.e[i].endpoint, WIRE_MAX_ENDPOINT, 1);
        m->u.pex.n = cnt;
        break;
    }
    default:
        return WIRE_E_TYPE;
    }
    if (bad || r.pos != r.len) return WIRE_E_MALFORMED;
    return 0;
}

/* ---- encoders ---- */

typedef struct {
    uint8_t *p;
    size_t cap, pos;
    int err;
} s_wr_t;

static void s_put(s_wr_t *w, const void *src, size_t n)
{
    if (w->err || w->cap - w->pos < n) {
        w->err = 1;
        return;
    }
    if (n) memcpy(w->p + w->pos, src, n);
    w->pos += n;
}

static void s_put_u8(s_wr_t *w, uint8_t v)
{
    s_put(w, &v, 1);
}

static int s_put_str(s_wr_t *w, const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n > max) return -1;
    s_put_u8(w, (uint8_t)n);
    s_put(w, s, n);
    return 0;
}

static int s_done(s_wr_t *w, size_t *len)
{
    if (w->err) return WIRE_E_NOSPACE;
    *len = w->pos;
    return 0;
}

int wire_enc_hello(const wire_hello_t *h, int welcome, uint8_t *out, size_t cap, size_t *len)
{
    s_wr_t w = {.p = out, .cap = cap};
    s_put(&w, h->node, WIRE_KEY_LEN);
    s_put(&w, h->nonce, WIRE_NONCE_LEN);
    if (s_put_str(&w, h->endpoint, WIRE_MAX_ENDPOINT) || s_put_str(&w, h->name, WIRE_MAX_NAME) ||
        s_put_str(&w, h->net, WIRE_MAX_NETID))
        return WIRE_E_MALFORMED;
    if (welcome) {
        if (h->proof_len != 0 && h->proof_len != WIRE_PROOF_LEN) return WIRE_E_MALFORMED;
        s_put_u8(&w, (uint8_t)h->proof_len);
        s_put(&w, h->proof, h->proof_len);
        s_put(&w, h->sig, WIRE_SIG_LEN);
    }
    return s_done(&w, len);
}

int wire_enc_ack(const uint8_t *proof, size_t proof_len, uint8_t *out, size_t cap, size_t *len)
{
    if (proof_len != 0 && proof_len != WIRE_PROOF_LEN) return WIRE_E_MALFORMED;
    s_wr_t w = {.p = out, .cap = cap};
    s_put_u8(&w, (uint8_t)proof_len);
    s_put(&w, proof, proof_len);
    return s_done(&w, len);
}

int wire_enc_reason(uint8_t code, const char *text, uint8_t *out, size_t cap, size_t *len)
{
    s_wr_t w = {.p = out, .cap = cap};
    s_put_u8(&w, code);
    if (s_put_str(&w, text, WIRE_MAX_TEXT)) return WIRE_E_MALFORMED;
    return s_done(&w, len);
}

int wire_enc_seq(uint64_t seq, uint8_t *out, size_t cap, size_t *len)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(seq >> (56 - 8 * i));
    s_wr_t w = {.p = out, .cap = cap};
    s_put(&w, b, 8);
    return s_done(&w, len);
}

int wire_enc_ids(const uint8_t *ids, size_t n, uint8_t *out, size_t cap, size_t *len)
{
    if (n == 0 || n > WIRE_MAX_IDS) return WIRE_E_MALFORMED;
    s_wr_t w = {.p = out, .cap = cap};
    s_put(&w, ids, n * WIRE_ID_LEN);
    return s_done(&w, len);
}

int wire_enc_pfx(const uint8_t *pfx, size_t n, int graft, uint8_t *out, size_t cap, size_t *len)
{
    if ((n == 0 && !graft) || n > WIRE_MAX_IDS) return WIRE_E_MALFORMED;
    s_wr_t w = {.p = out, .cap = cap};
    s_put(&w, pfx, n * WIRE_PFX_LEN);
    return s_done(&w, len);
}

int wire_enc_pex(const wire_pex_entry_t *e, size_t n, uint8_t *out, size_t cap, size_t *len)
{
    if (n > WIRE_MAX_PEX) return WIRE_E_MALFORMED;
    s_wr_t w = {.p = out, .cap = cap};
    s_put_u8(&w, (uint8_t)n);
    for (size_t i = 0; i < n; i++) {
        s_put(&w, e[i].node, WIRE_KEY_LEN);
        if (s_put_str(&w, e[i].endpoint, WIRE_MAX_ENDPOINT)) return WIRE_E_MALFORMED;
    }
    return s_done(&w, len);
}

int wire_enc_events(const wire_frame_t *ev, size_t n, uint8_t *out, size_t cap, size_t *len)
{
    s_wr_t w = {.p = out, .cap = cap};
    if (n == 0 || n > WIRE_MAX_EVENTS) return WIRE_E_MALFORMED;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].len == 0 || ev[i].len > WIRE_MAX_EVENT) return WIRE_E_MALFORMED;
        uint8_t l2[2] = {(uint8_t)(ev[i].len >> 8), (uint8_t)ev[i].len};
        s_put(&w, l2, 2);
        s_put(&w, ev[i].p, ev[i].len);
    }
    if (!w.err && w.pos + 2 > WIRE_MAX_MSG) return WIRE_E_TOOBIG;
    return s_done(&w, len);
}

/* ---- handshake crypto ---- */

void wire_net_proof(const uint8_t netkey[32], const uint8_t from[32], const uint8_t to[32],
                    const uint8_t nonce_d[WIRE_NONCE_LEN], const uint8_t nonce_l[WIRE_NONCE_LEN],
                    uint8_t out[WIRE_PROOF_LEN])
{
    static const char dom[] = "tipd-hello-v1"; /* 13 bytes, no NUL */
    crypto_generichash_state st;
    crypto_generichash_init(&st, netkey, 32, WIRE_PROOF_LEN);
    crypto_generichash_update(&st, (const uint8_t *)dom, sizeof dom - 1);
    crypto_generichash_update(&st, from, 32);
    crypto_generichash_update(&st, to, 32);
    crypto_generichash_update(&st, nonce_d, WIRE_NONCE_LEN);
    crypto_generichash_update(&st, nonce_l, WIRE_NONCE_LEN);
    crypto_generichash_final(&st, out, WIRE_PROOF_LEN);
}

void wire_welcome_msg(const uint8_t listener[32], const uint8_t dialer[32],
                      const uint8_t nonce_d[WIRE_NONCE_LEN], const uint8_t nonce_l[WIRE_NONCE_LEN],
                      uint8_t out[15 + 64 + 32], size_t *len)
{
    static const char dom[] = "tipd-welcome-v1"; /* 15 bytes, no NUL */
    size_t p = 0;
    memcpy(out + p, dom, 15);
    p += 15;
    memcpy(out + p, listener, 32);
    p += 32;
    memcpy(out + p, dialer, 32);
    p += 32;
    memcpy(out + p, nonce_d, WIRE_NONCE_LEN);
    p += WIRE_NONCE_LEN;
    memcpy(out + p, nonce_l, WIRE_NONCE_LEN);
    p += WIRE_NONCE_LEN;
    *len = p;
}

void wire_server_keys(const uint8_t *netkey, uint8_t pk[32], uint8_t sk[32])
{
    static const char dom_net[] = "tipd-curve-server-v1";
    static const char dom_open[] = "tipd-curve-open-v1";
    if (netkey)
        crypto_generichash(sk, 32, (const uint8_t *)dom_net, sizeof dom_net - 1, netkey, 32);
    else
        crypto_generichash(sk, 32, (const uint8_t *)dom_open, sizeof dom_open - 1, NULL, 0);
    crypto_scalarmult_base(pk, sk);
}
