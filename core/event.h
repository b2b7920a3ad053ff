/* event.h -- the signed event: the one thing tipd replicates.
 *
 * Every tip, question, rating, thanks, retraction and profile is an immutable
 * event. It has exactly one valid byte string (the canonical encoding, see
 * docs/PROTOCOL.md) and the decoder refuses every other one, so two nodes that
 * hold the same bytes always compute the same id and show the same thing.
 *
 *   id  = BLAKE2b-256("tipd-event-v1" || 0x00 || unsigned encoding)
 *   sig = Ed25519(author secret key, id)
 *   wire/storage form = unsigned encoding || sig (64 bytes)
 *
 * An event_t is a plain value: fixed-size fields, strings NUL-terminated,
 * no heap pointers, so it can be copied and freed with the memory holding it.
 * All functions return 0 on success or a negative EVENT_E* code;
 * event_strerror() turns a code into a sentence.
 */
#ifndef TIPD_EVENT_H
#define TIPD_EVENT_H

#include <stddef.h>
#include <stdint.h>

#define EVENT_VERSION   1 /* what every event that fits it is written as */
#define EVENT_VERSION_2 2 /* adds Unicode topics and the imported mark */

#define EVENT_ID_LEN     32 /* BLAKE2b-256 */
#define EVENT_KEY_LEN    32 /* Ed25519 public key */
#define EVENT_SIG_LEN    64 /* Ed25519 signature */
#define EVENT_SECRET_LEN 64 /* libsodium Ed25519 secret key (seed || pk) */
#define EVENT_SEED_LEN   32
/* The first bytes of an id, enough to name it where a rare mix-up costs
 * nothing (a tip counted as read): two ids share them with probability
 * 2^-64, and making one that does takes ~2^64 signatures. */
#define EVENT_PFX_LEN 8

#define EVENT_MAX_SIZE      32768 /* whole signed event */
#define EVENT_MAX_BODY      16384
#define EVENT_MAX_TITLE     200
#define EVENT_MAX_TOPICS    8
#define EVENT_MAX_TOPIC_LEN 32
#define EVENT_MAX_REFS      8
#define EVENT_MAX_FUTURE_MS (10LL * 60 * 1000) /* refuse events >10 min ahead */

#define EVENT_MAX_NAME   64   /* profile display name (title) */
#define EVENT_MAX_TEAM   64   /* profile team (body) */
#define EVENT_MAX_STORY  1024 /* thanks story (body) */
#define EVENT_MAX_SOURCE 128  /* where an imported tip came from (version 2) */

/* Kinds. Values are wire bytes: never renumber. */
typedef enum {
    EVENT_TIP = 1,      /* title + body; may answer a question, supersede a tip */
    EVENT_QUESTION = 2, /* title + body */
    EVENT_RATING = 3,   /* value 1..5 on one target */
    EVENT_THANKS = 4,   /* optional story in body, on one target */
    EVENT_RETRACT = 5,  /* the author withdraws one of their own events */
    EVENT_PROFILE = 6,  /* title = display name, body = team */
} event_kind_t;

/* Reference roles. Values are wire bytes: never renumber. */
typedef enum {
    EVENT_REF_TARGET = 1,     /* rating/thanks/retract: the event acted on */
    EVENT_REF_ANSWERS = 2,    /* tip: the question it answers */
    EVENT_REF_SUPERSEDES = 3, /* tip/question: the earlier version it replaces */
    EVENT_REF_RELATED = 4,    /* tip/question: see also */
} event_ref_role_t;

typedef struct {
    uint8_t role; /* event_ref_role_t */
    uint8_t id[EVENT_ID_LEN];
} event_ref_t;

typedef struct {
    uint8_t version; /* EVENT_VERSION */
    uint8_t kind;    /* event_kind_t */
    uint8_t author[EVENT_KEY_LEN];
    uint64_t created_at; /* ms since the Unix epoch, UTC */
    uint8_t nrefs;
    event_ref_t refs[EVENT_MAX_REFS]; /* sorted by (role, id), no duplicates */
    uint8_t ntopics;
    char topics[EVENT_MAX_TOPICS][EVENT_MAX_TOPIC_LEN + 1]; /* sorted, unique */
    uint8_t value;                                          /* rating score; else 0 */
    /* Version 2 only: set by whoever imported the tip from a file (the
     * author is the importer, not the writer), and the file's own word on
     * where it came from ("" if it said nothing). */
    uint8_t imported;
    uint8_t source_len;
    char source[EVENT_MAX_SOURCE + 1];
    uint16_t title_len;
    char title[EVENT_MAX_TITLE + 1];
    uint16_t body_len;
    char body[EVENT_MAX_BODY + 1];
    /* Filled by event_sign() and event_decode(): */
    uint8_t id[EVENT_ID_LEN];
    uint8_t sig[EVENT_SIG_LEN];
} event_t;

/* Error codes (negative). */
enum {
    EVENT_OK = 0,
    EVENT_E_TRUNCATED = -1, /* input ends inside a field */
    EVENT_E_VERSION = -2,   /* unknown format version */
    EVENT_E_KIND = -3,      /* unknown kind */
    EVENT_E_TRAILING = -4,  /* bytes after the signature */
    EVENT_E_UTF8 = -5,      /* title/body/topic not valid UTF-8, or has NUL */
    EVENT_E_OVERSIZE = -6,  /* a length above its bound */
    EVENT_E_FIELD = -7,     /* a field out of range for its kind */
    EVENT_E_ORDER = -8,     /* topics/refs not sorted and unique */
    EVENT_E_TOPIC = -9,     /* topic has characters outside [a-z0-9._+#-] */
    EVENT_E_SIG = -10,      /* signature does not verify */
    EVENT_E_FUTURE = -11,   /* created_at too far in the future */
    EVENT_E_NOSPACE = -12,  /* output buffer too small */
    EVENT_E_REFS = -13,     /* references wrong for the kind */
    EVENT_E_HEX = -14,      /* not a hex id / prefix */
    EVENT_E_NEEDLESS = -15, /* version 2 where version 1 fits */
};

const char *event_strerror(int code);
/* 1 if code says the event's bytes themselves are bad (malformed, oversized,
 * badly signed, wrong references): whoever sent them is to blame. 0 for
 * everything else: clock skew (EVENT_E_FUTURE), a caller's buffer, a store
 * error. Replication holds off peers by this rule. */
int event_err_is_malformed(int code);

/* Anonymous posts (`tip add --anon`) are signed with a one-time key and
 * stamped on a whole minute, less to correlate with who was at a keyboard;
 * readers recognise them by the same grain (docs/SOCIAL.md). */
#define EVENT_ANON_GRAIN_MS 60000u
/* ms rounded down to the anonymous grain. */
uint64_t event_anon_time(uint64_t ms);
/* 1 if ms lies on the anonymous grain. */
int event_on_anon_grain(uint64_t ms);

/* Short lower-case kind name ("tip", "question", ...) or NULL. */
const char *event_kind_name(int kind);
/* Kind from its name; -1 if unknown. */
int event_kind_from_name(const char *name);
/* Lower-case reference role name ("target", "answers", "supersedes",
 * "related"), or "unknown" for any other byte. */
const char *event_ref_role_name(int role);
/* The id of ev's first reference of role (refs are sorted by role, then
 * id), NULL if it has none. */
const uint8_t *event_ref(const event_t *ev, int role);

/* Zero ev and set version; call before filling fields by hand. */
void event_init(event_t *ev, event_kind_t kind);

/* Setters that keep the struct canonical: they check bounds and UTF-8 and
 * keep topics/refs sorted and unique. A topic is case-folded and put in
 * Unicode NFC first (event_topic_norm); one outside ASCII, or marking a tip
 * imported, makes the event version 2. */
int event_set_title(event_t *ev, const char *s, size_t len);
int event_set_body(event_t *ev, const char *s, size_t len);
int event_add_topic(event_t *ev, const char *topic);
/* Mark a tip or question as imported, with the source the file named (NULL
 * or "" for none; cut at a character boundary to EVENT_MAX_SOURCE bytes,
 * control characters refused). */
int event_set_imported(event_t *ev, const char *source);

/* A topic as the wire holds it: case-folded, NFC, 1..EVENT_MAX_TOPIC_LEN
 * bytes of letters (any script), combining marks, decimal digits and
 * . _ + # -. 0 with out set; EVENT_E_TOPIC (empty, or a character not
 * allowed: *bad gets its byte offset in out, which holds the normalised
 * text) or EVENT_E_OVERSIZE (too long once normalised). */
int event_topic_norm(const char *in, char out[EVENT_MAX_TOPIC_LEN + 1], size_t *bad);
int event_add_ref(event_t *ev, event_ref_role_t role, const uint8_t id[EVENT_ID_LEN]);

/* Check every rule of the format (bounds, UTF-8, order, per-kind rules).
 * Does not look at id/sig. */
int event_validate(const event_t *ev);

/* Unsigned canonical encoding into out[cap]; *len gets its length. */
int event_encode_unsigned(const event_t *ev, uint8_t *out, size_t cap, size_t *len);

/* Set author from sk, created_at must be set by the caller, then compute id
 * and sig. sk is a libsodium Ed25519 secret key (64 bytes). */
int event_sign(event_t *ev, const uint8_t sk[EVENT_SECRET_LEN]);

/* Signed encoding (unsigned || sig) into out[cap]. ev must be signed. */
int event_encode(const event_t *ev, uint8_t *out, size_t cap, size_t *len);

/* Strict decode of a signed event; computes ev->id. Does NOT verify the
 * signature (see event_verify): decoding is cheap, verifying is not. Never
 * reads past buf[len]. */
int event_decode(const uint8_t *buf, size_t len, event_t *ev);

/* Verify ev->sig over ev->id with ev->author. 0 or EVENT_E_SIG. */
int event_verify(const event_t *ev);

/* Refuse events stamped more than EVENT_MAX_FUTURE_MS after now_ms. */
int event_check_time(const event_t *ev, uint64_t now_ms);

/* Compute the id of an unsigned encoding. */
void event_compute_id(const uint8_t *unsigned_enc, size_t len, uint8_t id[EVENT_ID_LEN]);

/* ---- hex ids ---- */

/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void event_hex(const uint8_t *bin, size_t n, char *out);
/* Parse exactly 2n hex chars (either case). 0 or EVENT_E_HEX. */
int event_unhex(const char *hex, uint8_t *bin, size_t n);
/* Validate an id prefix: 4..64 hex chars. Lower-cases into out (65 bytes).
 * Returns its length, or EVENT_E_HEX. */
int event_prefix_norm(const char *s, char out[2 * EVENT_ID_LEN + 1]);

/* Milliseconds since the epoch (CLOCK_REALTIME). */
uint64_t event_now_ms(void);
/* RFC 3339 UTC with milliseconds ("2026-11-29T16:03:39.123Z"). out >= 32. */
void event_time_rfc3339(uint64_t ms, char *out, size_t cap);

#endif
