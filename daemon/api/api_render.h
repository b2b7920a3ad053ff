/* api_render.h -- the JSON of docs/API.md built from what the views layer
 * computed: JSON values as every op shows them, the tip object, the stats
 * and misses answers. Nothing here reads the store: a tip's derived figures
 * come in a views_tip_t filled on the thread that read them.
 */
#ifndef TIPD_API_RENDER_H
#define TIPD_API_RENDER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "views.h"

/* Lower-case hex of n bytes, an RFC 3339 UTC time with milliseconds, a
 * string from the store ("" for NULL or for text jansson refuses: never NULL
 * unless out of memory). The reason for a store or event error code is
 * store_strerror's. */
json_t *api_json_hex(const uint8_t *b, size_t n);
json_t *api_json_time(uint64_t ms);
json_t *api_json_str(const char *s);

/* The tip object of docs/API.md: ev's signed fields and fig's derived ones
 * (rating, thanks, answers, author name/team, anonymous, superseded).
 * Never NULL unless out of memory. */
json_t *api_tip_json(const event_t *ev, const views_tip_t *fig);

/* The misses array ({query, count, last, last_ms} each). */
json_t *api_misses_json(const views_miss_t *v, size_t n);
/* The whole `stats` answer. */
json_t *api_stats_json(const views_stats_t *st);

#endif
