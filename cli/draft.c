/* draft.c -- drafts of what tip is about to send (see draft.h).
 *
 * A draft is one JSON object per file:
 *   {"kind": "tip", "title": ..., "body": ..., "topics": [...],
 *    "refs": [{"role": ..., "id": ...}], "anon": false,
 *    "saved_at": "RFC 3339", "event": "base64 of the signed event"}
 * named <kind>-<32 hex>.json after a hash of its content: kind, references,
 * topics, value, title, body and the author's key (none for --anon), not the
 * time. Typing the same tip again therefore finds the same file, and its
 * signed bytes (with their original time) are what is sent: tipd answers
 * "duplicate" if the first attempt was stored after all.
 */
#include "draft.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_B64_MAX sodium_base64_ENCODED_LEN(EVENT_MAX_SIZE, sodium_base64_VARIANT_ORIGINAL)

/* mkdir -p with mode 0700 for every level made. */
static int s_mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST) return -1;
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

int draft_dir(char *out, size_t cap, int make, char *err, size_t errlen)
{
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    int n;
    if (state && *state == '/')
        n = snprintf(out, cap, "%s/tip/drafts", state);
    else if (home && *home)
        n = snprintf(out, cap, "%s/.local/state/tip/drafts", home);
    else {
        snprintf(err, errlen, "neither XDG_STATE_HOME nor HOME is set: nowhere to keep drafts");
        return -1;
    }
    if (n < 0 || (size_t)n >= cap) {
        snprintf(err, errlen, "the drafts directory's path is too long");
        return -1;
    }
    if (make && s_mkdirs(out) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", out, strerror(errno));
        return -1;
    }
    return 0;
}

/* Hash of what ev says (not when, nor its signature); author zeroed for anon. */
static void s_content_key(const event_t *ev, int anon, char hex[33])
{
    event_t *c = malloc(sizeof *c);
    uint8_t key[16] = {0};
    if (c) {
        *c = *ev;
        c->created_at = 1;
        if (anon) memset(c->author, 0, sizeof c->author);
        uint8_t *buf = malloc(EVENT_MAX_SIZE);
        size_t len = 0;
        if (buf && event_encode_unsigned(c, buf, EVENT_MAX_SIZE, &len) == 0)
            crypto_generichash(key, sizeof key, buf, len, NULL, 0);
        free(buf);
        free(c);
    }
    event_hex(key, sizeof key, hex);
}

/* The draft file's JSON for a signed ev. */
static json_t *s_draft_json(const event_t *ev, int anon)
{
    uint8_t *buf = malloc(EVENT_MAX_SIZE);
    char *b64 = malloc(S_B64_MAX);
    size_t len;
    json_t *o = NULL;
    if (buf && b64 && event_encode(ev, buf, EVENT_MAX_SIZE, &len) == 0) {
        sodium_bin2base64(b64, S_B64_MAX, buf, len, sodium_base64_VARIANT_ORIGINAL);
        char when[40];
        event_time_rfc3339(event_now_ms(), when, sizeof when);
        json_t *topics = json_array(), *refs = json_array();
        for (int i = 0; i < ev->ntopics; i++)
            json_array_append_new(topics, json_string(ev->topics[i]));
        for (int i = 0; i < ev->nrefs; i++) {
            char rid[65];
            event_hex(ev->refs[i].id, EVENT_ID_LEN, rid);
            json_array_append_new(
                refs,
                json_pack("{s:s, s:s}", "role", event_ref_role_name(ev->refs[i].role), "id", rid));
        }
        o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:s, s:s}", "kind",
                      event_kind_name(ev->kind) ?: "tip", "title", ev->title, "body", ev->body,
                      "topics", topics, "refs", refs, "anon", anon, "saved_at", when, "event", b64);
    }
    free(buf);
    free(b64);
    return o;
}

/* Write o to path through a temporary file, mode 0600. 0 or -1. */
static int s_write(const char *path, const json_t *o)
{
    char tmp[PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    int bad = json_dumpf(o, f, JSON_INDENT(2)) != 0;
    bad |= fputc('\n', f) == EOF;
    bad |= fflush(f) != 0 || fsync(fd) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* The signed event held by the draft at path into ev. 0 or -1. */
static int s_read_event(const char *path, event_t *ev, json_t **draft)
{
    json_error_t jerr;
    json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    const char *b64 = json_string_value(json_object_get(o, "event"));
    uint8_t *buf = malloc(EVENT_MAX_SIZE);
    size_t len;
    int rc = -1;
    if (b64 && buf && strlen(b64) < S_B64_MAX &&
        sodium_base642bin(buf, EVENT_MAX_SIZE, b64, strlen(b64), NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) == 0 &&
        event_decode(buf, len, ev) == 0 && event_verify(ev) == 0)
        rc = 0;
    free(buf);
    if (draft)
        *draft = o;
    else
        json_decref(o);
    return rc;
}

void draft_remove(const char *path)
{
    if (path && *path) unlink(path);
}

/* After a failed send: where the text is and how to send it. */
static void s_tell_kept(cli_t *cli, const event_t *ev, const char *path, int timed_out)
{
    const char *what = event_kind_name(ev->kind) ?: "event";
    char id[65];
    event_hex(ev->id, EVENT_ID_LEN, id);
    if (timed_out)
        fprintf(stderr,
                "tip: the %s may still have been stored: check in a minute with: tip show %.12s\n"
                "tip: it is kept in %s; the same command again, or tip add --draft %s, sends the "
                "same signed %s, which tipd stores at most once\n",
                what, id, path, path, what);
    else
        fprintf(stderr,
                "tip: nothing is lost: the %s is kept in %s; send it later with: "
                "tip add --draft %s\n",
                what, path, path);
    (void)cli;
}

/* The draft file's path for ev's content into path (cap PATH_MAX + 64);
 * 0, or -1 when there is no drafts directory. */
static int s_path(event_t *ev, const ident_t *id, int anon, int make, char *path, size_t cap)
{
    char dir[PATH_MAX], key[33], err[PATH_MAX + 64];
    memcpy(ev->author, id->pk, EVENT_KEY_LEN);
    s_content_key(ev, anon, key);
    if (draft_dir(dir, sizeof dir, make, err, sizeof err) != 0) return -1;
    snprintf(path, cap, "%s/%s-%s.json", dir, event_kind_name(ev->kind) ?: "event", key);
    return 0;
}

int draft_pending(event_t *ev, const ident_t *id, int flags)
{
    char path[PATH_MAX + 64];
    return s_path(ev, id, flags & DRAFT_ANON, 0, path, sizeof path) == 0 && access(path, F_OK) == 0;
}

int draft_send(cli_t *cli, event_t *ev, const ident_t *id, int flags, char idhex[65], int *dup)
{
    int anon = flags & DRAFT_ANON;
    char path[PATH_MAX + 64], key[33];
    path[0] = 0;
    if (s_path(ev, id, anon, 1, path, sizeof path) != 0) {
        path[0] = 0;
        if (flags & DRAFT_KEEP)
            fprintf(stderr,
                    "tip: no drafts directory (%s); the text is not kept if sending "
                    "fails\n",
                    getenv("XDG_STATE_HOME") ? "XDG_STATE_HOME" : "HOME");
    }
    s_content_key(ev, anon, key);

    /* The same content pending from an earlier attempt: send its bytes. */
    event_t *old = malloc(sizeof *old);
    int reuse = 0;
    if (old && *path && access(path, F_OK) == 0 && s_read_event(path, old, NULL) == 0) {
        char okey[33];
        s_content_key(old, anon, okey);
        reuse = !strcmp(okey, key) && (anon || !memcmp(old->author, id->pk, EVENT_KEY_LEN));
    }
    int rc = 0;
    if (reuse) {
        *ev = *old;
        fprintf(stderr, "tip: sending the same signed %s as an earlier attempt (kept in %s)\n",
                event_kind_name(ev->kind) ?: "event", path);
    } else if ((rc = event_sign(ev, id->sk)) != 0) {
        free(old);
        return cli_fail(cli, CLI_EXIT_ERROR, "cannot sign: %s", event_strerror(rc));
    } else if (*path) {
        json_t *o = s_draft_json(ev, anon);
        if (!o || s_write(path, o) != 0) {
            if (flags & DRAFT_KEEP)
                fprintf(stderr, "tip: cannot write the draft %s: %s\n", path, strerror(errno));
            path[0] = 0;
        }
        json_decref(o);
    }
    free(old);

    cli->timed_out = 0;
    rc = cli_submit_event(cli, ev, idhex, dup);
    if (rc == 0) {
        draft_remove(path);
        return 0;
    }
    /* Refused, or never reached tipd, with text typed on the command line:
     * the command line still has it, so no file is left behind. */
    int keep = *path && (cli->timed_out || cli->no_space || (flags & DRAFT_KEEP) ||
                         rc == CLI_EXIT_UNREACHABLE);
    if (rc == CLI_EXIT_REFUSED && !(flags & DRAFT_KEEP)) keep = 0;
    if (keep)
        s_tell_kept(cli, ev, path, cli->timed_out);
    else
        draft_remove(path);
    return rc;
}

/* The newest *.json in dir into out. 0 or -1. */
static int s_newest(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    struct timespec best = {0, 0};
    int found = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0) continue;
        char p[PATH_MAX + 300];
        struct stat st;
        int w = snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        size_t plen = w < 0 ? 0 : (size_t)w;
        /* A path that does not fit is not one tip could open again. */
        if (w < 0 || plen >= sizeof p || plen >= cap) continue;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (!found || st.st_mtim.tv_sec > best.tv_sec ||
            (st.st_mtim.tv_sec == best.tv_sec && st.st_mtim.tv_nsec > best.tv_nsec)) {
            best = st.st_mtim;
            memcpy(out, p, plen + 1);
            found = 1;
        }
    }
    closedir(d);
    return found ? 0 : -1;
}

int draft_load(cli_t *cli, const char *path, char *real, event_t *ev, int *signed_, int *anon)
{
    char dir[PATH_MAX], err[PATH_MAX + 64];
    if (!strcmp(path, "last")) {
        if (draft_dir(dir, sizeof dir, 0, err, sizeof err) != 0)
            return cli_fail(cli, CLI_EXIT_ERROR, "%s", err);
        if (s_newest(dir, real, PATH_MAX) != 0)
            return cli_fail(cli, CLI_EXIT_NOTFOUND, "no drafts in %s", dir);
    } else {
        snprintf(real, PATH_MAX, "%s", path);
    }
    json_t *o = NULL;
    event_t *signed_ev = malloc(sizeof *signed_ev);
    if (!signed_ev) return cli_fail(cli, CLI_EXIT_ERROR, "out of memory");
    int have = s_read_event(real, signed_ev, &o) == 0;
    if (!o) {
        free(signed_ev);
        return cli_fail(cli, CLI_EXIT_ERROR, "%s is not a tip draft (%s)", real,
                        access(real, R_OK) ? strerror(errno) : "not JSON");
    }
    *anon = json_is_true(json_object_get(o, "anon"));
    /* The text as the file has it now: someone may have edited it. */
    const char *kind = json_string_value(json_object_get(o, "kind"));
    const char *title = json_string_value(json_object_get(o, "title"));
    const char *body = json_string_value(json_object_get(o, "body"));
    int k = kind ? event_kind_from_name(kind) : EVENT_TIP;
    int rc = 0;
    if (k != EVENT_TIP && k != EVENT_QUESTION && k != EVENT_THANKS) {
        rc = cli_fail(cli, CLI_EXIT_ERROR, "%s: a draft of a %s cannot be sent this way", real,
                      kind ? kind : "?");
        goto out;
    }
    event_init(ev, (event_kind_t)k);
    if ((title && event_set_title(ev, title, strlen(title))) ||
        (body && event_set_body(ev, body, strlen(body)))) {
        rc = cli_fail(cli, CLI_EXIT_ERROR, "%s: the title or body does not fit a tip", real);
        goto out;
    }
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(o, "topics"), i, t)
    {
        if (!json_is_string(t) || event_add_topic(ev, json_string_value(t))) {
            rc = cli_fail(cli, CLI_EXIT_ERROR, "%s: topic %s is not valid", real,
                          json_is_string(t) ? json_string_value(t) : "?");
            goto out;
        }
    }
    json_array_foreach(json_object_get(o, "refs"), i, t)
    {
        const char *role = json_string_value(json_object_get(t, "role"));
        uint8_t rid[EVENT_ID_LEN];
        const char *hex = json_string_value(json_object_get(t, "id"));
        int r = -1;
        for (int ro = EVENT_REF_TARGET; ro <= EVENT_REF_RELATED; ro++)
            if (role && !strcmp(role, event_ref_role_name(ro))) r = ro;
        if (r < 0 || !hex || strlen(hex) != 64 || event_unhex(hex, rid, EVENT_ID_LEN) ||
            event_add_ref(ev, (event_ref_role_t)r, rid)) {
            rc = cli_fail(cli, CLI_EXIT_ERROR, "%s: a reference is not valid", real);
            goto out;
        }
    }
    /* Unchanged text: the signed bytes, so a stored first attempt is not
     * stored again. */
    *signed_ = 0;
    if (have) {
        char a[33], b[33];
        memcpy(ev->author, signed_ev->author, EVENT_KEY_LEN);
        s_content_key(ev, 0, a);
        s_content_key(signed_ev, 0, b);
        if (!strcmp(a, b)) {
            *ev = *signed_ev;
            *signed_ = 1;
        }
    }
out:
    free(signed_ev);
    json_decref(o);
    return rc;
}
