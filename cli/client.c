/* client.c -- ZeroMQ DEALER client for tipd's local API.
 *
 * See client.h for the framing. The one subtle part is telling "tipd is not
 * running" from "tipd is busy": with ZMQ_IMMEDIATE a DEALER has no outgoing
 * pipe until a connection has completed its ZMTP handshake, so polling for
 * ZMQ_POLLOUT with a short timeout answers "is anyone there?" without sending
 * anything. A stale socket file (daemon killed) or a stopped daemon never
 * becomes writable; a live daemon does within milliseconds.
 */
#include "client.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdint.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#define CLIENT_MAX_REPLY       (256LL * 1024 * 1024) /* export pages can be large */
#define CLIENT_SEND_TIMEOUT_MS 30000

struct client {
    void *zctx;
    void *sock;
    void *mon; /* PAIR receiving the DEALER's disconnect events */
    char path[PATH_MAX];
    int connected;
    size_t pending;
};

client_t *client_new(const char *path)
{
    client_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    snprintf(c->path, sizeof c->path, "%s", path);
    return c;
}

void client_destroy(client_t **p)
{
    if (!p || !*p) return;
    client_t *c = *p;
    if (c->mon) zmq_close(c->mon);
    if (c->sock) zmq_close(c->sock);
    if (c->zctx) zmq_ctx_term(c->zctx);
    free(c);
    *p = NULL;
}

/* Check the socket file before involving ZeroMQ, which would silently retry
 * forever on a missing path. */
static int s_check_path(const client_t *c, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    struct stat st;
    if (strlen(c->path) >= sizeof sun.sun_path) {
        snprintf(err, errlen, "socket path too long (max %zu bytes): %s", sizeof sun.sun_path - 1,
                 c->path);
        return CLIENT_E_OTHER;
    }
    if (stat(c->path, &st) != 0) {
        if (errno == EACCES) {
            snprintf(err, errlen, "permission denied on %s", c->path);
            return CLIENT_E_PERM;
        }
        snprintf(err, errlen, "no socket at %s", c->path);
        return CLIENT_E_NOSOCKET;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "%s is not a socket", c->path);
        return CLIENT_E_OTHER;
    }
    if (access(c->path, W_OK) != 0) {
        snprintf(err, errlen, "permission denied on %s", c->path);
        return CLIENT_E_PERM;
    }
    return 0;
}

int client_connect(client_t *c, int timeout_ms, char *err, size_t errlen)
{
    if (c->connected) return 0;
    int rc = s_check_path(c, err, errlen);
    if (rc) return rc;

    if (!c->zctx && !(c->zctx = zmq_ctx_new())) {
        snprintf(err, errlen, "zmq_ctx_new: %s", zmq_strerror(errno));
        return CLIENT_E_OTHER;
    }
    c->sock = zmq_socket(c->zctx, ZMQ_DEALER);
    if (!c->sock) {
        snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(errno));
        return CLIENT_E_OTHER;
    }
    int zero = 0, one = 1, sndto = CLIENT_SEND_TIMEOUT_MS;
    int64_t maxmsg = CLIENT_MAX_REPLY;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(c->sock, ZMQ_IMMEDIATE, &one, sizeof one);
    zmq_setsockopt(c->sock, ZMQ_SNDTIMEO, &sndto, sizeof sndto);
    zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    /* A pipelined import keeps a few MiB in flight; the default HWM of 1000
     * messages is plenty, so leave it. */

    /* Watch for the daemon going away mid-request (crash, kill): without
     * this a DEALER would wait out the whole reply timeout. */
    char mon_ep[64];
    snprintf(mon_ep, sizeof mon_ep, "inproc://tip-client-mon-%p", (void *)c);
    if (zmq_socket_monitor(c->sock, mon_ep, ZMQ_EVENT_DISCONNECTED) == 0 &&
        (c->mon = zmq_socket(c->zctx, ZMQ_PAIR)) != NULL) {
        zmq_setsockopt(c->mon, ZMQ_LINGER, &zero, sizeof zero);
        if (zmq_connect(c->mon, mon_ep) != 0) {
            zmq_close(c->mon);
            c->mon = NULL;
        }
    }

    char ep[PATH_MAX + 8];
    snprintf(ep, sizeof ep, "ipc://%s", c->path);
    if (zmq_connect(c->sock, ep) != 0) {
        snprintf(err, errlen, "cannot connect to %s: %s", ep, zmq_strerror(errno));
        return CLIENT_E_OTHER;
    }
    zmq_pollitem_t it = {.socket = c->sock, .events = ZMQ_POLLOUT};
    for (;;) {
        int n = zmq_poll(&it, 1, timeout_ms);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            snprintf(err, errlen, "zmq_poll: %s", zmq_strerror(errno));
            return CLIENT_E_OTHER;
        }
        if (n == 0) {
            snprintf(err, errlen, "nothing answers at %s", c->path);
            return CLIENT_E_NOANSWER;
        }
        break;
    }
    c->connected = 1;
    return 0;
}

int client_send(client_t *c, const json_t *req, char *err, size_t errlen)
{
    if (!c->connected) {
        snprintf(err, errlen, "not connected");
        return CLIENT_E_OTHER;
    }
    char *s = json_dumps(req, JSON_COMPACT);
    if (!s) {
        snprintf(err, errlen, "cannot encode the request");
        return CLIENT_E_OTHER;
    }
    size_t len = strlen(s);
    int rc = 0;
    /* One frame, no empty delimiter: tipd then answers in one frame too, so
     * neither side ever holds half of a multipart message (libzmq 4.3 can
     * abort closing a socket whose connection fails in that state). */
    if (zmq_send(c->sock, s, len, 0) != (int)len) {
        snprintf(err, errlen, "cannot send to tipd: %s",
                 errno == EAGAIN ? "it stopped taking requests" : zmq_strerror(errno));
        rc = errno == EAGAIN ? CLIENT_E_TIMEOUT : CLIENT_E_OTHER;
    } else {
        c->pending++;
    }
    free(s);
    return rc;
}

/* True if the monitor reports that the connection to tipd closed. */
static int s_disconnected(client_t *c)
{
    int gone = 0;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, c->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return gone;
        }
        /* First frame: uint16 event, uint32 value; second: the endpoint. */
        if (zmq_msg_size(&m) >= 2) {
            uint16_t ev;
            memcpy(&ev, zmq_msg_data(&m), 2);
            if (ev == ZMQ_EVENT_DISCONNECTED) gone = 1;
        }
        int more = zmq_msg_more(&m);
        zmq_msg_close(&m);
        if (more) {
            zmq_msg_init(&m);
            zmq_msg_recv(&m, c->mon, ZMQ_DONTWAIT);
            zmq_msg_close(&m);
        }
    }
}

/* Receive one frame into msg, waiting up to timeout_ms. */
static int s_recv_frame(client_t *c, zmq_msg_t *msg, int timeout_ms, char *err, size_t errlen)
{
    zmq_pollitem_t it[2] = {{.socket = c->sock, .events = ZMQ_POLLIN},
                            {.socket = c->mon, .events = ZMQ_POLLIN}};
    for (;;) {
        int n = zmq_poll(it, c->mon ? 2 : 1, timeout_ms);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            snprintf(err, errlen, "zmq_poll: %s", zmq_strerror(errno));
            return CLIENT_E_OTHER;
        }
        if (n == 0) {
            snprintf(err, errlen, "tipd did not answer within %d s", timeout_ms / 1000);
            return CLIENT_E_TIMEOUT;
        }
        if (it[0].revents & ZMQ_POLLIN) break;
        if (s_disconnected(c)) {
            snprintf(err, errlen, "tipd closed the connection before answering (did it stop?)");
            return CLIENT_E_GONE;
        }
    }
    if (zmq_msg_recv(msg, c->sock, ZMQ_DONTWAIT) < 0) {
        snprintf(err, errlen, "receive: %s", zmq_strerror(errno));
        return CLIENT_E_OTHER;
    }
    return 0;
}

int client_recv(client_t *c, json_t **reply, int timeout_ms, char *err, size_t errlen)
{
    *reply = NULL;
    if (!c->connected) {
        snprintf(err, errlen, "not connected");
        return CLIENT_E_OTHER;
    }
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    int rc = s_recv_frame(c, &msg, timeout_ms, err, errlen);
    /* Skip the empty delimiter (and anything else before the last frame). */
    while (rc == 0 && zmq_msg_more(&msg)) {
        zmq_msg_close(&msg);
        zmq_msg_init(&msg);
        rc = s_recv_frame(c, &msg, timeout_ms, err, errlen);
    }
    if (rc == 0) {
        c->pending = c->pending ? c->pending - 1 : 0;
        json_error_t jerr;
        json_t *j = json_loadb(zmq_msg_data(&msg), zmq_msg_size(&msg), 0, &jerr);
        if (!j || !json_is_object(j)) {
            json_decref(j);
            snprintf(err, errlen, "tipd sent a reply that is not a JSON object");
            rc = CLIENT_E_REPLY;
        } else {
            *reply = j;
        }
    }
    zmq_msg_close(&msg);
    return rc;
}

size_t client_pending(const client_t *c)
{
    return c->pending;
}

int client_call(client_t *c, const json_t *req, json_t **reply, int timeout_ms, char *err,
                size_t errlen)
{
    int rc = client_send(c, req, err, errlen);
    if (rc) return rc;
    return client_recv(c, reply, timeout_ms, err, errlen);
}
