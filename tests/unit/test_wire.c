/* test_wire.c -- the peer wire codec (proto/wire.c).
 *
 * Every message type round-trips through its encoder and the strict decoder
 * (version 3's IHAVE / GRAFT / PRUNE / PUSH only under a version 3 header);
 * the decoder refuses wrong versions, unknown types, short headers,
 * trailing bytes, truncation, oversized counts and messages, and bad strings;
 * the handshake proof is bound to direction, both keys and both nonces; the
 * transport keys are deterministic per network and differ between networks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "wire.h"

static uint8_t s_body[70000];
static uint8_t s_msg[70002];

/* Decode header + body as the one frame it travels in. */
static int s_dec1(uint8_t type, const uint8_t *body, size_t len, wire_msg_t *m)
{
    wire_header(type, s_msg);
    memmove(s_msg + 2, body, len);
    return wire_decode(s_msg, len + 2, m);
}

static void test_hello_roundtrip(void **state)
{
    uint8_t node[32], nonce[16], proof[32], sig[64];
    randombytes_buf(node, 32);
    randombytes_buf(nonce, 16);
    randombytes_buf(proof, 32);
    randombytes_buf(sig, 64);
    wire_hello_t h = {.node = node, .nonce = nonce, .proof = proof, .proof_len = 32, .sig = sig};
    strcpy(h.endpoint, "tcp://198.18.0.2:7714");
    strcpy(h.name, "host-1 (office)");
    strcpy(h.net, "0123456789abcdef");
    size_t len;
    assert_int_equal(wire_enc_hello(&h, 1, s_body, sizeof s_body, &len), 0);
    assert_int_equal(len, 32 + 16 + 1 + 21 + 1 + 15 + 1 + 16 + 1 + 32 + 64);
    wire_msg_t m;
    assert_int_equal(s_dec1(WIRE_WELCOME, s_body, len, &m), 0);
    assert_int_equal(m.type, WIRE_WELCOME);
    assert_memory_equal(m.u.hello.node, node, 32);
    assert_memory_equal(m.u.hello.nonce, nonce, 16);
    assert_string_equal(m.u.hello.endpoint, "tcp://198.18.0.2:7714");
    assert_string_equal(m.u.hello.name, "host-1 (office)");
    assert_string_equal(m.u.hello.net, "0123456789abcdef");
    assert_int_equal(m.u.hello.proof_len, 32);
    assert_memory_equal(m.u.hello.proof, proof, 32);
    assert_memory_equal(m.u.hello.sig, sig, 64);
    /* As a HELLO the same bytes have trailing data (proof, sig). */
    assert_int_equal(s_dec1(WIRE_HELLO, s_body, len, &m), WIRE_E_MALFORMED);
    assert_int_equal(wire_enc_hello(&h, 0, s_body, sizeof s_body, &len), 0);
    assert_int_equal(s_dec1(WIRE_HELLO, s_body, len, &m), 0);
    /* Every truncation is refused. */
    for (size_t i = 0; i < len; i++)
        assert_int_equal(s_dec1(WIRE_HELLO, s_body, i, &m), WIRE_E_MALFORMED);
    /* Open network: empty proof. */
    h.proof_len = 0;
    assert_int_equal(wire_enc_hello(&h, 1, s_body, sizeof s_body, &len), 0);
    assert_int_equal(s_dec1(WIRE_WELCOME, s_body, len, &m), 0);
    assert_int_equal(m.u.hello.proof_len, 0);
    /* A proof length other than 0/32. */
    size_t plpos = 32 + 16 + 1 + 21 + 1 + 15 + 1 + 16;
    s_body[plpos] = 5;
    assert_int_equal(s_dec1(WIRE_WELCOME, s_body, len, &m), WIRE_E_MALFORMED);
    /* Control characters or spaces in an endpoint. */
    strcpy(h.endpoint, "tcp://a b:1");
    assert_int_equal(wire_enc_hello(&h, 0, s_body, sizeof s_body, &len), 0);
    assert_int_equal(s_dec1(WIRE_HELLO, s_body, len, &m), WIRE_E_MALFORMED);
    strcpy(h.endpoint, "tcp://x:1");
    strcpy(h.name, "bad\nname");
    assert_int_equal(wire_enc_hello(&h, 0, s_body, sizeof s_body, &len), 0);
    assert_int_equal(s_dec1(WIRE_HELLO, s_body, len, &m), WIRE_E_MALFORMED);
    /* The longest name fits; a small buffer is refused. */
    memset(h.name, 'x', sizeof h.name - 1);
    h.name[sizeof h.name - 1] = 0;
    assert_int_equal(wire_enc_hello(&h, 0, s_body, sizeof s_body, &len), 0);
    assert_int_equal(s_dec1(WIRE_HELLO, s_body, len, &m), 0);
    assert_int_equal(strlen(m.u.hello.name), WIRE_MAX_NAME);
    assert_int_equal(wire_enc_hello(&h, 0, s_body, 10, &len), WIRE_E_NOSPACE);
}

static void test_small_messages(void **state)
{
    size_t len;
    wire_msg_t m;
    /* PING/PONG: 8-byte big-endian sequence. */
    assert_int_equal(wire_enc_seq(0x0102030405060708ull, s_body, sizeof s_body, &len), 0);
    assert_int_equal(len, 8);
    assert_int_equal(s_body[0], 1);
    assert_int_equal(s_dec1(WIRE_PING, s_body, len, &m), 0);
    assert_true(m.u.seq == 0x0102030405060708ull);
    assert_int_equal(s_dec1(WIRE_PONG, s_body, 7, &m), WIRE_E_MALFORMED);
    assert_int_equal(s_dec1(WIRE_PONG, s_body, 9, &m), WIRE_E_MALFORMED);
    /* ACK. */
    uint8_t proof[32] = {1, 2, 3};
    assert_int_equal(wire_enc_ack(proof, 32, s_body, sizeof s_body, &len), 0);
    assert_int_equal(s_dec1(WIRE_ACK, s_body, len, &m), 0);
    assert_int_equal(m.u.ack.proof_len, 32);
    assert_memory_equal(m.u.ack.proof, proof, 32);
    assert_int_equal(wire_enc_ack(NULL, 0, s_body, sizeof s_body, &len), 0);
    assert_int_equal(s_dec1(WIRE_ACK, s_body, len, &m), 0);
    assert_int_equal(m.u.ack.proof_len, 0);
    /* REJECT / BYE. */
    assert_int_equal(wire_enc_reason(WIRE_R_NETWORK, "wrong network", s_body, sizeof s_body, &len),
                     0);
    assert_int_equal(s_dec1(WIRE_REJECT, s_body, len, &m), 0);
    assert_int_equal(m.u.reason.code, WIRE_R_NETWORK);
    assert_string_equal(m.u.reason.text, "wrong network");
    assert_int_equal(s_dec1(WIRE_BYE, s_body, len, &m), 0);
    assert_int_equal(s_dec1(WIRE_BYE, s_body, len - 1, &m), WIRE_E_MALFORMED);
}

static void test_ids(void **state)
{
    uint8_t ids[WIRE_MAX_IDS + 1][32];
    randombytes_buf(ids, sizeof ids);
    size_t len;
    wire_msg_t m;
    assert_int_equal(wire_enc_ids(ids[0], 3, s_body, sizeof s_body, &len), 0);
    assert_int_equal(len, 96);
    assert_int_equal(s_dec1(WIRE_INV, s_body, len, &m), 0);
    assert_int_equal(m.u.ids.n, 3);
    assert_memory_equal(m.u.ids.ids, ids, 96);
    assert_int_equal(s_dec1(WIRE_WANT, s_body, len, &m), 0);
    assert_int_equal(s_dec1(WIRE_WANT, s_body, 95, &m), WIRE_E_MALFORMED);
    assert_int_equal(s_dec1(WIRE_WANT, s_body, 0, &m), WIRE_E_MALFORMED);
    assert_int_equal(wire_enc_ids(ids[0], WIRE_MAX_IDS + 1, s_body, sizeof s_body, &len),
                     WIRE_E_MALFORMED);
    memcpy(s_body, ids, sizeof ids);
    assert_int_equal(s_dec1(WIRE_INV, s_body, sizeof ids, &m), WIRE_E_TOOBIG);
    assert_int_equal(s_dec1(WIRE_INV, s_body, WIRE_MAX_IDS * 32, &m), 0);
}

static void test_pex(void **state)
{
    wire_pex_entry_t e[2];
    uint8_t k1[32] = {1}, k2[32] = {2};
    e[0].node = k1;
    strcpy(e[0].endpoint, "tcp://198.18.0.1:7714");
    e[1].node = k2;
    strcpy(e[1].endpoint, "tcp://[fe80::1%eth0]:7714");
    size_t len;
    wire_msg_t m;
    assert_int_equal(wire_enc_pex(e, 2, s_body, sizeof s_body, &len), 0);
    assert_int_equal(s_dec1(WIRE_PEX, s_body, len, &m), 0);
    assert_int_equal(m.u.pex.n, 2);
    assert_memory_equal(m.u.pex.e[1].node, k2, 32);
    assert_string_equal(m.u.pex.e[1].endpoint, "tcp://[fe80::1%eth0]:7714");
    assert_int_equal(s_dec1(WIRE_PEX, s_body, len + 1, &m), WIRE_E_MALFORMED);
    s_body[0] = WIRE_MAX_PEX + 1;
    assert_int_equal(s_dec1(WIRE_PEX, s_body, len, &m), WIRE_E_TOOBIG);
    s_body[0] = 3; /* claims 3, holds 2 */
    assert_int_equal(s_dec1(WIRE_PEX, s_body, len, &m), WIRE_E_MALFORMED);
    assert_int_equal(wire_enc_pex(e, 0, s_body, sizeof s_body, &len), 0);
    assert_int_equal(s_dec1(WIRE_PEX, s_body, len, &m), 0);
    assert_int_equal(m.u.pex.n, 0);
}

static void test_events_and_recon(void **state)
{
    static uint8_t ev[WIRE_MAX_EVENT + 1];
    static uint8_t body[WIRE_MAX_MSG + 70000];
    wire_frame_t f[WIRE_MAX_EVENTS + 1];
    for (size_t i = 0; i <= WIRE_MAX_EVENTS; i++) f[i] = (wire_frame_t){ev, 100};
    memset(ev, 0x5a, sizeof ev);
    wire_msg_t m;
    size_t len;
    assert_int_equal(wire_enc_events(f, 2, body, sizeof body, &len), 0);
    assert_int_equal(len, 2 * (2 + 100));
    assert_int_equal(body[0], 0);
    assert_int_equal(body[1], 100);
    assert_int_equal(s_dec1(WIRE_EVENTS, body, len, &m), 0);
    assert_int_equal(m.u.events.n, 2);
    assert_int_equal(m.u.events.ev[1].len, 100);
    assert_memory_equal(m.u.events.ev[1].p, ev, 100);
    assert_int_equal(wire_enc_events(f, WIRE_MAX_EVENTS, body, sizeof body, &len), 0);
    assert_int_equal(s_dec1(WIRE_EVENTS, body, len, &m), 0);
    assert_int_equal(m.u.events.n, WIRE_MAX_EVENTS);
    assert_int_equal(wire_enc_events(f, WIRE_MAX_EVENTS + 1, body, sizeof body, &len),
                     WIRE_E_MALFORMED);
    assert_int_equal(wire_enc_events(f, 0, body, sizeof body, &len), WIRE_E_MALFORMED);
    /* 65 records: one too many, though small. */
    assert_int_equal(wire_enc_events(f, WIRE_MAX_EVENTS, body, sizeof body, &len), 0);
    memcpy(body + len, body, 102);
    assert_int_equal(s_dec1(WIRE_EVENTS, body, len + 102, &m), WIRE_E_TOOBIG);
    /* Empty body, a zero-length record, one above the event limit, a record
     * that runs past the end, a lone length byte. */
    assert_int_equal(s_dec1(WIRE_EVENTS, body, 0, &m), WIRE_E_MALFORMED);
    body[0] = 0, body[1] = 0;
    assert_int_equal(s_dec1(WIRE_EVENTS, body, 2, &m), WIRE_E_TOOBIG);
    body[0] = (WIRE_MAX_EVENT + 1) >> 8, body[1] = (WIRE_MAX_EVENT + 1) & 0xff;
    assert_int_equal(s_dec1(WIRE_EVENTS, body, 2 + WIRE_MAX_EVENT + 1, &m), WIRE_E_TOOBIG);
    body[0] = 0, body[1] = 100;
    assert_int_equal(s_dec1(WIRE_EVENTS, body, 2 + 99, &m), WIRE_E_MALFORMED);
    assert_int_equal(s_dec1(WIRE_EVENTS, body, 2 + 100 + 1, &m), WIRE_E_MALFORMED);
    /* Three events of 32 KiB pass the message limit: the encoder says so. */
    for (size_t i = 0; i < 3; i++) f[i].len = WIRE_MAX_EVENT;
    assert_int_equal(wire_enc_events(f, 3, body, sizeof body, &len), WIRE_E_TOOBIG);
    f[0].len = 0;
    assert_int_equal(wire_enc_events(f, 1, body, sizeof body, &len), WIRE_E_MALFORMED);
    /* RECON: 1..64 KiB. */
    assert_int_equal(s_dec1(WIRE_RECON, ev, 10, &m), 0);
    assert_int_equal(m.u.recon.len, 10);
    assert_int_equal(s_dec1(WIRE_RECON, ev, 0, &m), WIRE_E_TOOBIG);
}

static void test_header(void **state)
{
    wire_msg_t m;
    uint8_t h[11] = {WIRE_VERSION, WIRE_PING, 0, 0, 0, 0, 0, 0, 0, 7, 0};
    assert_int_equal(wire_decode(h, 10, &m), 0);
    assert_int_equal(m.u.seq, 7);
    assert_int_equal(wire_decode(h, 11, &m), WIRE_E_MALFORMED); /* trailing byte */
    assert_int_equal(wire_decode(h, 9, &m), WIRE_E_MALFORMED);  /* short body */
    assert_int_equal(wire_decode(h, 1, &m), WIRE_E_MALFORMED);
    assert_int_equal(wire_decode(h, 0, &m), WIRE_E_MALFORMED);
    h[0] = 1; /* the multipart protocol of version 1 */
    assert_int_equal(wire_decode(h, 10, &m), WIRE_E_VERSION);
    h[0] = WIRE_VERSION;
    h[1] = 0;
    assert_int_equal(wire_decode(h, 10, &m), WIRE_E_TYPE);
    h[1] = WIRE_TYPE_MAX + 1;
    assert_int_equal(wire_decode(h, 10, &m), WIRE_E_TYPE);
    /* Version 2 (an older node): the same types but the spread messages. */
    h[0] = 2;
    h[1] = WIRE_PING;
    assert_int_equal(wire_decode(h, 10, &m), 0);
    assert_int_equal(m.ver, 2);
    h[1] = WIRE_IHAVE;
    assert_int_equal(wire_decode(h, 10, &m), WIRE_E_TYPE);
    h[0] = WIRE_VERSION + 1;
    assert_int_equal(wire_decode(h, 10, &m), WIRE_E_VERSION);
    h[0] = WIRE_VERSION;
    static uint8_t big[WIRE_MAX_MSG + 1];
    big[0] = WIRE_VERSION;
    big[1] = WIRE_RECON;
    big[2] = 1;
    assert_int_equal(wire_decode(big, WIRE_MAX_MSG, &m), 0);
    assert_int_equal(wire_decode(big, WIRE_MAX_MSG + 1, &m), WIRE_E_TOOBIG);
    assert_string_equal(wire_type_name(WIRE_RECON), "RECON");
    assert_string_equal(wire_type_name(99), "?");
}

/* Version 3's spread messages: IHAVE and GRAFT carry 8-byte id prefixes
 * (IHAVE at least one, GRAFT maybe none), PRUNE nothing, PUSH an EVENTS
 * body; none of them exists in version 2. */
static void test_spread_messages(void **state)
{
    wire_msg_t m;
    uint8_t pfx[WIRE_MAX_IDS + 1][WIRE_PFX_LEN];
    randombytes_buf(pfx, sizeof pfx);
    size_t len;
    assert_int_equal(wire_enc_pfx(pfx[0], 3, 0, s_body, sizeof s_body, &len), 0);
    assert_int_equal(len, 24);
    assert_int_equal(s_dec1(WIRE_IHAVE, s_body, len, &m), 0);
    assert_int_equal(m.ver, WIRE_VERSION);
    assert_int_equal(m.u.pfx.n, 3);
    assert_memory_equal(m.u.pfx.pfx, pfx[0], 24);
    assert_int_equal(s_dec1(WIRE_GRAFT, s_body, len, &m), 0);
    assert_int_equal(m.u.pfx.n, 3);
    assert_int_equal(s_dec1(WIRE_IHAVE, s_body, 23, &m), WIRE_E_MALFORMED);
    assert_int_equal(s_dec1(WIRE_GRAFT, s_body, 9, &m), WIRE_E_MALFORMED);
    /* An empty IHAVE says nothing; an empty GRAFT asks for eager push. */
    assert_int_equal(wire_enc_pfx(pfx[0], 0, 0, s_body, sizeof s_body, &len), WIRE_E_MALFORMED);
    assert_int_equal(wire_enc_pfx(pfx[0], 0, 1, s_body, sizeof s_body, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(s_dec1(WIRE_IHAVE, s_body, 0, &m), WIRE_E_MALFORMED);
    assert_int_equal(s_dec1(WIRE_GRAFT, s_body, 0, &m), 0);
    assert_int_equal(m.u.pfx.n, 0);
    /* At most WIRE_MAX_IDS prefixes. */
    assert_int_equal(wire_enc_pfx(pfx[0], WIRE_MAX_IDS, 0, s_body, sizeof s_body, &len), 0);
    assert_int_equal(s_dec1(WIRE_IHAVE, s_body, len, &m), 0);
    assert_int_equal(m.u.pfx.n, WIRE_MAX_IDS);
    assert_int_equal(wire_enc_pfx(pfx[0], WIRE_MAX_IDS + 1, 1, s_body, sizeof s_body, &len),
                     WIRE_E_MALFORMED);
    memcpy(s_body, pfx, sizeof pfx);
    assert_int_equal(s_dec1(WIRE_GRAFT, s_body, sizeof pfx, &m), WIRE_E_TOOBIG);
    /* PRUNE: an empty body, nothing else. */
    assert_int_equal(s_dec1(WIRE_PRUNE, s_body, 0, &m), 0);
    assert_int_equal(m.type, WIRE_PRUNE);
    assert_int_equal(s_dec1(WIRE_PRUNE, s_body, 1, &m), WIRE_E_MALFORMED);
    /* PUSH: the EVENTS body and its rules. */
    uint8_t e1[3] = {1, 2, 3};
    wire_frame_t f[1] = {{e1, 3}};
    assert_int_equal(wire_enc_events(f, 1, s_body, sizeof s_body, &len), 0);
    assert_int_equal(s_dec1(WIRE_PUSH, s_body, len, &m), 0);
    assert_int_equal(m.u.events.n, 1);
    assert_memory_equal(m.u.events.ev[0].p, e1, 3);
    assert_int_equal(s_dec1(WIRE_PUSH, s_body, 0, &m), WIRE_E_MALFORMED);
    assert_int_equal(s_dec1(WIRE_PUSH, s_body, len - 1, &m), WIRE_E_MALFORMED);
    /* None of them under a version 2 header. */
    uint8_t v2[2 + 8];
    memset(v2, 0, sizeof v2);
    v2[0] = 2;
    for (uint8_t t = WIRE_IHAVE; t <= WIRE_PUSH; t++) {
        v2[1] = t;
        assert_int_equal(wire_decode(v2, t == WIRE_PRUNE ? 2 : 10, &m), WIRE_E_TYPE);
        assert_int_equal(wire_type_ok(2, t), 0);
        assert_int_equal(wire_type_ok(3, t), 1);
    }
    assert_string_equal(wire_type_name(WIRE_GRAFT), "GRAFT");
    assert_string_equal(wire_type_name(WIRE_PUSH), "PUSH");
}

static void test_proof(void **state)
{
    uint8_t k[32], k2[32], a[32], b[32], c[32], nd[16], nl[16], p1[32], p2[32];
    randombytes_buf(k, 32);
    randombytes_buf(k2, 32);
    randombytes_buf(a, 32);
    randombytes_buf(b, 32);
    randombytes_buf(c, 32);
    randombytes_buf(nd, 16);
    randombytes_buf(nl, 16);
    wire_net_proof(k, a, b, nd, nl, p1);
    wire_net_proof(k, a, b, nd, nl, p2);
    assert_memory_equal(p1, p2, 32);
    wire_net_proof(k, b, a, nd, nl, p2); /* reflected */
    assert_memory_not_equal(p1, p2, 32);
    wire_net_proof(k, a, c, nd, nl, p2); /* replayed to a third node */
    assert_memory_not_equal(p1, p2, 32);
    wire_net_proof(k, a, b, nl, nd, p2); /* other session */
    assert_memory_not_equal(p1, p2, 32);
    wire_net_proof(k2, a, b, nd, nl, p2); /* other network */
    assert_memory_not_equal(p1, p2, 32);

    uint8_t pk1[32], sk1[32], pk2[32], sk2[32], pk3[32], sk3[32], chk[32];
    wire_server_keys(k, pk1, sk1);
    wire_server_keys(k, pk2, sk2);
    assert_memory_equal(pk1, pk2, 32);
    crypto_scalarmult_base(chk, sk1);
    assert_memory_equal(chk, pk1, 32);
    wire_server_keys(k2, pk2, sk2);
    assert_memory_not_equal(pk1, pk2, 32);
    wire_server_keys(NULL, pk3, sk3);
    assert_memory_not_equal(pk1, pk3, 32);

    uint8_t msg[111];
    size_t len;
    wire_welcome_msg(a, b, nd, nl, msg, &len);
    assert_int_equal(len, 111);
    assert_memory_equal(msg, "tipd-welcome-v1", 15);
}

/* The vectors printed in docs/PROTOCOL.md section 2. */
static void s_unhex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) sscanf(h + 2 * i, "%2hhx", &out[i]);
}

static void test_doc_vectors(void **state)
{
    uint8_t pk[32], sk[32], want[32], key[32], a[32], b[32], nd[16], nl[16], pr[32];
    wire_server_keys(NULL, pk, sk);
    s_unhex("c97892a9e40532e34bd35c6c4a6e6ebfdcd8d911981ae97decd2c148649b2943", want, 32);
    assert_memory_equal(pk, want, 32);
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)i;
    wire_server_keys(key, pk, sk);
    s_unhex("7ffdb335d43783431ea4d90d60519bd8e57c9ba4912dad65f09d1abbadf6671c", want, 32);
    assert_memory_equal(pk, want, 32);
    memset(a, 0xaa, 32);
    memset(b, 0xbb, 32);
    memset(nd, 0x11, 16);
    memset(nl, 0x22, 16);
    wire_net_proof(key, a, b, nd, nl, pr);
    s_unhex("b87bbc1b752f14dc7d13ab36cf8c10b0cb6733fff2bc0cfa270cfea0d92a8e87", want, 32);
    assert_memory_equal(pr, want, 32);
    wire_net_proof(key, b, a, nd, nl, pr);
    s_unhex("acb50548de43904d60aff1f0cdce67df54b47615e6607fb162f6821166ab2b42", want, 32);
    assert_memory_equal(pr, want, 32);
    wire_hello_t h = {.node = a, .nonce = nd};
    strcpy(h.endpoint, "tcp://*:7714");
    strcpy(h.name, "host1");
    strcpy(h.net, "open");
    size_t len;
    assert_int_equal(wire_enc_hello(&h, 0, s_body, sizeof s_body, &len), 0);
    uint8_t tail[24];
    s_unhex("0c7463703a2f2f2a3a3737313405686f737431046f70656e", tail, 24);
    assert_int_equal(len, 48 + 24);
    assert_memory_equal(s_body, a, 32);
    assert_memory_equal(s_body + 32, nd, 16);
    assert_memory_equal(s_body + 48, tail, 24);
    /* The whole message is one frame: 0301 (0201 to an older node), then
     * that body. */
    uint8_t hdr[2];
    wire_header(WIRE_HELLO, hdr);
    assert_int_equal(hdr[0], 0x03);
    assert_int_equal(hdr[1], 0x01);
    wire_header_ver(2, WIRE_HELLO, hdr);
    assert_int_equal(hdr[0], 0x02);
    /* EVENTS vector (version 2): events ab ab ab and cd cd ->
     * 0209 0003ababab 0002cdcd; the same as PUSH: 0310 0003ababab 0002cdcd. */
    uint8_t e1[3] = {0xab, 0xab, 0xab}, e2[2] = {0xcd, 0xcd}, ev[11];
    wire_frame_t f[2] = {{e1, 3}, {e2, 2}};
    assert_int_equal(wire_enc_events(f, 2, s_body, sizeof s_body, &len), 0);
    wire_header_ver(2, WIRE_EVENTS, ev);
    memcpy(ev + 2, s_body, len);
    s_unhex("02090003ababab0002cdcd", want, 11);
    assert_int_equal(len + 2, 11);
    assert_memory_equal(ev, want, 11);
    wire_header(WIRE_PUSH, ev);
    s_unhex("03100003ababab0002cdcd", want, 11);
    assert_memory_equal(ev, want, 11);
    /* IHAVE of 0102030405060708 and 1112131415161718, GRAFT of none,
     * PRUNE. */
    uint8_t p2[16], msg[18];
    s_unhex("01020304050607081112131415161718", p2, 16);
    assert_int_equal(wire_enc_pfx(p2, 2, 0, s_body, sizeof s_body, &len), 0);
    wire_header(WIRE_IHAVE, msg);
    memcpy(msg + 2, s_body, len);
    s_unhex("030d01020304050607081112131415161718", want, 18);
    assert_memory_equal(msg, want, 18);
    wire_header(WIRE_GRAFT, msg);
    assert_int_equal(msg[0] << 8 | msg[1], 0x030e);
    wire_header(WIRE_PRUNE, msg);
    assert_int_equal(msg[0] << 8 | msg[1], 0x030f);
    wire_msg_t m;
    assert_int_equal(wire_decode(msg, 2, &m), 0);
    assert_int_equal(m.type, WIRE_PRUNE);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_roundtrip),
        cmocka_unit_test(test_small_messages),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_pex),
        cmocka_unit_test(test_events_and_recon),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_spread_messages),
        cmocka_unit_test(test_proof),
        cmocka_unit_test(test_doc_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
