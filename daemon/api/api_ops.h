/* api_ops.h -- registration of the local API's operations on d->api.
 *
 * The transport (api.h) knows nothing of what the ops do; main.c calls these
 * once the store, ingest and network modules are up, since the ops reach
 * them through the tipd_t they are registered with.
 */
#ifndef TIPD_API_OPS_H
#define TIPD_API_OPS_H

#include "daemon.h"

/* Register the core ops (submit, search, get, list, export, status, peers)
 * on d->api. 0 or -1 (ENOMEM). */
int api_core_ops_register(tipd_t *d);

#endif
