/* client.h -- the tip side of tipd's local API (docs/API.md).
 *
 * A ZeroMQ DEALER connected to ipc://PATH. Each request is one JSON frame,
 * without the empty delimiter REQ would add; each reply comes back the same
 * way, in order (a delimiter, should one come, is skipped).
 * client_call() is one request/reply with a timeout; client_send() and
 * client_recv() let a caller keep many requests in flight (tip import).
 *
 * Reaching the daemon is checked up front: the socket file must exist and a
 * ZeroMQ connection must complete within the connect timeout (ZMQ_IMMEDIATE
 * makes the socket unwritable until it does), so a dead or stopped daemon is
 * reported in about a second instead of a request hanging. ZMQ_LINGER is 0:
 * exiting never waits for unsent requests.
 */
#ifndef TIP_CLIENT_H
#define TIP_CLIENT_H

#include <jansson.h>
#include <stddef.h>

typedef struct client client_t;

enum {
    CLIENT_OK = 0,
    CLIENT_E_OTHER = -1,
    CLIENT_E_NOSOCKET = -2, /* no socket file at the path */
    CLIENT_E_NOANSWER = -3, /* socket file there but no daemon completes a connection */
    CLIENT_E_PERM = -4,     /* not allowed to connect to the socket */
    CLIENT_E_TIMEOUT = -5,  /* connected, but no reply in time */
    CLIENT_E_REPLY = -6,    /* a reply that is not a JSON object */
    CLIENT_E_GONE = -7,     /* the daemon closed the connection mid-request */
};

#define CLIENT_CONNECT_TIMEOUT_MS 1000

/* A client for the socket at path; no I/O yet. NULL on ENOMEM. */
client_t *client_new(const char *path);
/* Close the socket and context; idempotent, NULLs *p. */
void client_destroy(client_t **p);

/* Connect and wait up to timeout_ms for the connection to complete.
 * 0 or a CLIENT_E_* code with a sentence in err. */
int client_connect(client_t *c, int timeout_ms, char *err, size_t errlen);

/* Queue one request (a JSON object) without waiting for its reply. */
int client_send(client_t *c, const json_t *req, char *err, size_t errlen);
/* Wait up to timeout_ms (-1 = forever) for the next reply. *reply is a new
 * reference to a JSON object. */
int client_recv(client_t *c, json_t **reply, int timeout_ms, char *err, size_t errlen);
/* Requests sent but not yet answered. */
size_t client_pending(const client_t *c);

/* client_send + client_recv. */
int client_call(client_t *c, const json_t *req, json_t **reply, int timeout_ms, char *err,
                size_t errlen);

#endif
