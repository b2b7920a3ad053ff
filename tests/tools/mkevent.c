/* mkevent.c -- test helper: print one signed event as base64 on stdout.
 *
 * Python tests cannot sign events without reimplementing the format, so they
 * ask this tool, which uses core/ exactly as tip does. It can also produce
 * the broken events the daemon must refuse (a flipped signature bit, a time
 * too far in the future, a truncated encoding), which tip would never make.
 *
 *   tipd-mkevent [--home DIR] [--kind K] [--title T] [--body B] [-t TOPIC]...
 *                [--ref ROLE:HEXID]... [--value N] [--created-at MS]
 *                [--bad-sig] [--future] [--truncate N] [--raw] [--count N]
 *
 * --home: identity directory (created if missing); without it a one-time key.
 * --count N prints N distinct events (titles get " #i"), one per line.
 * --raw writes the binary encoding instead of base64 (one event only).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "event.h"
#include "ident.h"

static int s_role(const char *s)
{
    if (!strcmp(s, "target")) return EVENT_REF_TARGET;
    if (!strcmp(s, "answers")) return EVENT_REF_ANSWERS;
    if (!strcmp(s, "supersedes")) return EVENT_REF_SUPERSEDES;
    if (!strcmp(s, "related")) return EVENT_REF_RELATED;
    return -1;
}

int main(int argc, char **argv)
{
    const char *home = NULL, *kind = "tip", *title = "A test tip", *body = "Body of a test tip.";
    const char *topics[EVENT_MAX_TOPICS + 1];
    const char *refs[EVENT_MAX_REFS + 1];
    int ntopics = 0, nrefs = 0, bad_sig = 0, future = 0, raw = 0, value = 0;
    long truncate_to = -1, count = 1;
    unsigned long long created = 0;
    static const struct option opts[] = {
        {"home", required_argument, NULL, 'H'},     {"kind", required_argument, NULL, 'k'},
        {"title", required_argument, NULL, 'T'},    {"body", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},    {"ref", required_argument, NULL, 'r'},
        {"value", required_argument, NULL, 'v'},    {"created-at", required_argument, NULL, 'c'},
        {"bad-sig", no_argument, NULL, 'S'},        {"future", no_argument, NULL, 'F'},
        {"truncate", required_argument, NULL, 'X'}, {"raw", no_argument, NULL, 'R'},
        {"count", required_argument, NULL, 'n'},    {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
        switch (c) {
        case 'H':
            home = optarg;
            break;
        case 'k':
            kind = optarg;
            break;
        case 'T':
            title = optarg;
            break;
        case 'b':
            body = optarg;
            break;
        case 't':
            if (ntopics < EVENT_MAX_TOPICS) topics[ntopics++] = optarg;
            break;
        case 'r':
            if (nrefs < EVENT_MAX_REFS) refs[nrefs++] = optarg;
            break;
        case 'v':
            value = atoi(optarg);
            break;
        case 'c':
            created = strtoull(optarg, NULL, 10);
            break;
        case 'S':
            bad_sig = 1;
            break;
        case 'F':
            future = 1;
            break;
        case 'X':
            truncate_to = atol(optarg);
            break;
        case 'R':
            raw = 1;
            break;
        case 'n':
            count = atol(optarg);
            break;
        default:
            fprintf(stderr, "usage: see tests/tools/mkevent.c\n");
            return 2;
        }
    }
    ident_t id;
    char err[512];
    if (home) {
        if (ident_load_or_create(home, &id, err, sizeof(err)) < 0) {
            fprintf(stderr, "mkevent: %s\n", err);
            return 1;
        }
    } else {
        ident_ephemeral(&id);
    }
    int k = event_kind_from_name(kind);
    if (k < 0) {
        fprintf(stderr, "mkevent: unknown kind %s\n", kind);
        return 2;
    }
    static event_t ev;
    static uint8_t buf[EVENT_MAX_SIZE];
    static char b64[EVENT_MAX_SIZE * 2];
    for (long i = 0; i < count; i++) {
        event_init(&ev, (event_kind_t)k);
        char t[EVENT_MAX_TITLE + 1];
        if (count > 1)
            snprintf(t, sizeof(t), "%s #%ld", title, i);
        else
            snprintf(t, sizeof(t), "%s", title);
        int rc = 0;
        if (k != EVENT_RATING && k != EVENT_RETRACT) {
            if (*t) rc = event_set_title(&ev, t, strlen(t));
            if (!rc && *body) rc = event_set_body(&ev, body, strlen(body));
        }
        for (int j = 0; !rc && j < ntopics; j++) rc = event_add_topic(&ev, topics[j]);
        for (int j = 0; !rc && j < nrefs; j++) {
            char role[32];
            const char *colon = strchr(refs[j], ':');
            uint8_t rid[EVENT_ID_LEN];
            if (!colon || (size_t)(colon - refs[j]) >= sizeof(role)) {
                rc = EVENT_E_REFS;
                break;
            }
            memcpy(role, refs[j], (size_t)(colon - refs[j]));
            role[colon - refs[j]] = '\0';
            int r = s_role(role);
            if (r < 0 || event_unhex(colon + 1, rid, EVENT_ID_LEN) < 0) {
                rc = EVENT_E_REFS;
                break;
            }
            rc = event_add_ref(&ev, (event_ref_role_t)r, rid);
        }
        ev.value = (uint8_t)value;
        ev.created_at = created ? created + (uint64_t)i : event_now_ms() + (uint64_t)i;
        if (future) ev.created_at = event_now_ms() + 3600ull * 1000;
        if (!rc) rc = event_sign(&ev, id.sk);
        if (!rc && bad_sig) ev.sig[7] ^= 0x01;
        size_t len = 0;
        if (!rc) rc = event_encode(&ev, buf, sizeof(buf), &len);
        if (rc) {
            fprintf(stderr, "mkevent: %s\n", event_strerror(rc));
            return 1;
        }
        if (truncate_to >= 0 && (size_t)truncate_to < len) len = (size_t)truncate_to;
        if (raw) {
            fwrite(buf, 1, len, stdout);
            break;
        }
        b64_encode(buf, len, b64);
        printf("%s\n", b64);
    }
    ident_wipe(&id);
    return 0;
}
