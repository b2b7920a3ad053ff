/* draft.h -- nothing typed is lost, nothing sent twice: drafts of what a
 * writing command is about to send (draft.c).
 *
 * Before a tip, question, answer, edit or thanks is submitted, its text and
 * its signed bytes are written to $XDG_STATE_HOME/tip/drafts/ (default
 * ~/.local/state/tip/drafts), in a file named for its content. The draft is
 * removed once tipd confirms the event is stored. When tipd is down, does
 * not answer in time or refuses it, the draft stays and the message says
 * where; `tip add --draft FILE` or the same command again sends the SAME
 * signed bytes, which every store keeps at most once (same id). So a retry
 * after a timeout cannot make a second tip, even when the first did arrive.
 */
#ifndef TIP_DRAFT_H
#define TIP_DRAFT_H

#include <jansson.h>

#include "cli.h"

/* Flags of draft_send. */
enum {
    DRAFT_ANON = 1, /* signed with a one-time key: the content, not the key, names it */
    DRAFT_KEEP = 2, /* the text exists nowhere else (editor, stdin): keep it on any failure */
};

/* The drafts directory (created 0700 when make is set). 0 or -1 with err. */
int draft_dir(char *out, size_t cap, int make, char *err, size_t errlen);

/* Submit ev signed with id (created_at set by the caller), through a draft:
 * if a draft of the same content is pending, its signed bytes are sent
 * instead (ev then holds that event). idhex gets the id, *dup whether tipd
 * already had it. 0, or the exit code with what happened and where the
 * draft is printed. */
int draft_send(cli_t *cli, event_t *ev, const ident_t *id, int flags, char idhex[65], int *dup);

/* 1 if a draft of ev's content (author id, or none with DRAFT_ANON) is
 * waiting to be sent: the same command run again is a retry, not a new tip. */
int draft_pending(event_t *ev, const ident_t *id, int flags);

/* Load the draft at path ("last": the newest draft) into ev: its signed
 * event when the text still matches it, else (edited by hand) an unsigned
 * event from the text, with *signed_ set to 0. *anon from the draft. path
 * of "last" is resolved into real (cap >= 4096). 0 or exit code (printed). */
int draft_load(cli_t *cli, const char *path, char *real, event_t *ev, int *signed_, int *anon);

/* Remove the draft file at path (after a success). */
void draft_remove(const char *path);

#endif
