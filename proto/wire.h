/* wire.h -- the peer wire protocol's message codec (docs/PROTOCOL.md §2.3).
 *
 * Every message is exactly one ZeroMQ frame: a 2-byte header (WIRE_VERSION,
 * type) and the body. One frame, never a multipart message, because libzmq
 * (4.3) aborts when a connection drops while its engine holds a half-sent
 * multipart message and the socket is closing (errno_assert in
 * session_base_t::clean_pipes); a single-frame message is never half-sent
 * at the pipe level. The decoder is strict: every length is checked before
 * use, no trailing bytes, every count and size under its limit. Decoded
 * messages point into the caller's buffer (no copies), so they are valid
 * only while it is.
 *
 * Encoders write one body into a caller buffer; the sender prefixes the
 * header (wire_header).
 */
#ifndef TIPD_WIRE_H
#define TIPD_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Version 3 adds the eager/lazy spread (IHAVE, GRAFT, PRUNE, PUSH);
 * a link runs at the version its HELLO carried, and a version 3 node
 * speaks version 2 to a node that refuses a version 3 HELLO. */
#define WIRE_VERSION     3
#define WIRE_VERSION_MIN 2

#define WIRE_KEY_LEN      32
#define WIRE_NONCE_LEN    16
#define WIRE_PROOF_LEN    32 /* keyed BLAKE2b-256 */
#define WIRE_SIG_LEN      64
#define WIRE_ID_LEN       32
#define WIRE_PFX_LEN      8 /* id prefix of IHAVE / GRAFT */
#define WIRE_MAX_ENDPOINT 255
#define WIRE_MAX_NAME     63
#define WIRE_MAX_NETID    16
#define WIRE_MAX_TEXT     200
#define WIRE_MAX_IDS      1024        /* ids in one INV / WANT */
#define WIRE_MAX_EVENTS   64          /* events in one EVENTS message */
#define WIRE_MAX_EVENT    32768       /* one signed event (EVENT_MAX_SIZE) */
#define WIRE_MAX_RECON    65536       /* RECON_MAX_MSG */
#define WIRE_MAX_PEX      32          /* endpoints in one PEX */
#define WIRE_MAX_MSG      (2 + 65536) /* ZMQ_MAXMSGSIZE: header + the largest body */

typedef enum {
    WIRE_HELLO = 1,   /* dialer -> listener: who I am */
    WIRE_WELCOME = 2, /* listener -> dialer: who I am + proof + signature */
    WIRE_ACK = 3,     /* dialer -> listener: my proof; link is up */
    WIRE_REJECT = 4,  /* either: refused (code + text); then silence */
    WIRE_PING = 5,
    WIRE_PONG = 6,
    WIRE_INV = 7,    /* ids I hold (new) */
    WIRE_WANT = 8,   /* ids I ask for */
    WIRE_EVENTS = 9, /* signed events, u16-length-prefixed */
    WIRE_RECON = 10, /* reconciliation message (recon.h) */
    WIRE_PEX = 11,   /* endpoints + node keys I know */
    WIRE_BYE = 12,   /* closing the link (code + text) */
    /* Version 3 only: */
    WIRE_IHAVE = 13, /* lazy announcement: id prefixes of new events I hold */
    WIRE_GRAFT = 14, /* push to me again, and send these (id prefixes, maybe none) */
    WIRE_PRUNE = 15, /* stop pushing to me; announce lazily (empty body) */
    WIRE_PUSH = 16,  /* events: eager push, or the answer to WANT / GRAFT */
    WIRE_TYPE_MAX = 16,
} wire_type_t;

/* REJECT / BYE codes. */
enum {
    WIRE_R_VERSION = 1,   /* protocol version not supported */
    WIRE_R_NETWORK = 2,   /* network proof missing or wrong */
    WIRE_R_IDENTITY = 3,  /* node key does not match the transport key, bad signature */
    WIRE_R_DUPLICATE = 4, /* another link to this node is kept */
    WIRE_R_PROTOCOL = 5,  /* malformed or unexpected message */
    WIRE_R_ABUSE = 6,     /* invalid events or flooding: held off */
    WIRE_R_SHUTDOWN = 7,  /* node stopping */
    WIRE_R_SELF = 8,      /* dialed ourselves */
    WIRE_R_FULL = 9,      /* the overlay made room for a newcomer: dial someone else */
};

enum {
    WIRE_E_MALFORMED = -1, /* bad lengths, counts, trailing bytes */
    WIRE_E_VERSION = -2,   /* unknown wire version in the header */
    WIRE_E_TYPE = -3,      /* unknown message type */
    WIRE_E_TOOBIG = -5,    /* a message, event or count above its limit */
    WIRE_E_NOSPACE = -6,   /* encoder: output buffer too small */
};

typedef struct {
    const uint8_t *p;
    size_t len;
} wire_frame_t;

typedef struct {
    const uint8_t *node;  /* WIRE_KEY_LEN */
    const uint8_t *nonce; /* WIRE_NONCE_LEN */
    char endpoint[WIRE_MAX_ENDPOINT + 1];
    char name[WIRE_MAX_NAME + 1];
    char net[WIRE_MAX_NETID + 1];
    /* WELCOME only: */
    size_t proof_len; /* 0 (open network) or WIRE_PROOF_LEN */
    const uint8_t *proof;
    const uint8_t *sig; /* WIRE_SIG_LEN */
} wire_hello_t;

typedef struct {
    uint8_t code;
    char text[WIRE_MAX_TEXT + 1];
} wire_reason_t;

typedef struct {
    const uint8_t *node; /* WIRE_KEY_LEN */
    char endpoint[WIRE_MAX_ENDPOINT + 1];
} wire_pex_entry_t;

typedef struct {
    uint8_t ver; /* header version: WIRE_VERSION_MIN..WIRE_VERSION */
    uint8_t type;
    union {
        wire_hello_t hello; /* HELLO, WELCOME */
        struct {
            size_t proof_len;
            const uint8_t *proof;
        } ack;
        wire_reason_t reason; /* REJECT, BYE */
        uint64_t seq;         /* PING, PONG */
        struct {
            size_t n;
            const uint8_t *ids; /* n * WIRE_ID_LEN */
        } ids;                  /* INV, WANT */
        struct {
            size_t n;
            const uint8_t *pfx; /* n * WIRE_PFX_LEN */
        } pfx;                  /* IHAVE, GRAFT */
        struct {
            size_t n;
            wire_frame_t ev[WIRE_MAX_EVENTS];
        } events; /* EVENTS, PUSH */
        wire_frame_t recon;
        struct {
            size_t n;
            wire_pex_entry_t e[WIRE_MAX_PEX];
        } pex;
    } u;
} wire_msg_t;

/* Name of a type ("HELLO"...) or "?" */
const char *wire_type_name(int type);
const char *wire_strerror(int code);

/* The 2-byte header that starts every message: WIRE_VERSION, or the
 * version ver of the link it goes out on. */
void wire_header(uint8_t type, uint8_t out[2]);
void wire_header_ver(uint8_t ver, uint8_t type, uint8_t out[2]);

/* 1 if a message of this type may carry this header version. */
int wire_type_ok(uint8_t ver, uint8_t type);

/* Strictly decode one message (header + body; no ROUTER routing id).
 * 0 or a negative WIRE_E_* code. m points into msg. */
int wire_decode(const uint8_t *msg, size_t len, wire_msg_t *m);

/* Body encoders. Each returns 0 or WIRE_E_NOSPACE / WIRE_E_MALFORMED
 * (a field above its bound). */
int wire_enc_hello(const wire_hello_t *h, int welcome, uint8_t *out, size_t cap, size_t *len);
int wire_enc_ack(const uint8_t *proof, size_t proof_len, uint8_t *out, size_t cap, size_t *len);
int wire_enc_reason(uint8_t code, const char *text, uint8_t *out, size_t cap, size_t *len);
int wire_enc_seq(uint64_t seq, uint8_t *out, size_t cap, size_t *len);
int wire_enc_ids(const uint8_t *ids, size_t n, uint8_t *out, size_t cap, size_t *len);
/* IHAVE (1..WIRE_MAX_IDS) or GRAFT (0..WIRE_MAX_IDS) body of id prefixes. */
int wire_enc_pfx(const uint8_t *pfx, size_t n, int graft, uint8_t *out, size_t cap, size_t *len);
int wire_enc_pex(const wire_pex_entry_t *e, size_t n, uint8_t *out, size_t cap, size_t *len);
/* EVENTS or PUSH body: 1..WIRE_MAX_EVENTS events as (u16 length, bytes); WIRE_E_TOOBIG
 * if the message would pass WIRE_MAX_MSG. */
int wire_enc_events(const wire_frame_t *ev, size_t n, uint8_t *out, size_t cap, size_t *len);

/* ---- handshake crypto (docs/PROTOCOL.md §2.2, §2.4) ---- */

/* Network proof sent by `from` to `to`:
 * BLAKE2b-256(key = netkey, "tipd-hello-v1" || from || to || nonce_dialer ||
 * nonce_listener). Direction-bound, so it cannot be reflected back, and bound
 * to both node keys and both nonces, so it cannot be replayed anywhere. */
void wire_net_proof(const uint8_t netkey[32], const uint8_t from[32], const uint8_t to[32],
                    const uint8_t nonce_d[WIRE_NONCE_LEN], const uint8_t nonce_l[WIRE_NONCE_LEN],
                    uint8_t out[WIRE_PROOF_LEN]);

/* The listener's WELCOME signature covers
 * "tipd-welcome-v1" || listener node || dialer node || nonce_dialer ||
 * nonce_listener, signed with the listener's Ed25519 node key. */
void wire_welcome_msg(const uint8_t listener[32], const uint8_t dialer[32],
                      const uint8_t nonce_d[WIRE_NONCE_LEN], const uint8_t nonce_l[WIRE_NONCE_LEN],
                      uint8_t out[15 + 64 + 32], size_t *len);

/* CURVE keypair of the transport. With a network key, every member's
 * listener uses the same keypair derived from it (outsiders cannot even
 * complete the CURVE handshake); on an open network, a published constant
 * pair. See PROTOCOL.md §2.2 for why. */
void wire_server_keys(const uint8_t *netkey, uint8_t pk[32], uint8_t sk[32]);

#endif
