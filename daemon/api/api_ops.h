/* api_ops.h -- registration of the local API's operations on d->api.
 *
 * The transport (api.h) knows nothing of what the ops do; main.c calls these
 * once the store, ingest and network modules are up, since the ops reach
 * them through the tipd_t they are registered with.
 */
#ifndef TIPD_API_OPS_H
#define TIPD_API_OPS_H

#include "daemon.h"

/* Register the ops that run on the loop (submit, status, peers) on d->api.
 * 0 or -1 (ENOMEM). */
int api_loop_ops_register(tipd_t *d);
/* Register the read ops (search, get, list, export, questions, stats,
 * today, misses), run on the reader threads. 0 or -1 (ENOMEM). */
int api_read_ops_register(tipd_t *d);

#endif
