/* social.h -- the social-learning API ops (questions, stats, today, misses)
 * and the one rule every tip rendering shares: when an event counts as
 * anonymous. Implemented in api_social.c; docs/SOCIAL.md explains the
 * features, docs/API.md the ops.
 */
#ifndef TIPD_SOCIAL_H
#define TIPD_SOCIAL_H

#include "daemon.h"
#include "event.h"
#include "store.h"

/* Register questions, stats, today and misses on d->api. 0 or -1 (ENOMEM). */
int social_ops_register(tipd_t *d);

/* 1 if ev was posted with `tip add --anon`, judged only from what every
 * store holds: a tip or question whose key has no profile and signed no
 * other live event, stamped on a whole minute (the CLI coarsens anonymous
 * events' created_at). 0 otherwise or on error. */
int social_anonymous(store_t *s, const event_t *ev);

#endif
