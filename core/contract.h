/* contract.h -- what tip and tipd must agree on about the local API.
 *
 * The CLI and the daemon are built from one tree, but they meet only over
 * the socket, so every number one side relies on about the other lives here
 * and nowhere else: where the socket is, how big a request may be, how many
 * events one submit carries, and the error codes a reply can carry
 * (docs/API.md lists the same codes with their meaning).
 */
#ifndef TIPD_CONTRACT_H
#define TIPD_CONTRACT_H

#include "version.h"

/* The socket both sides use unless told otherwise (tipd.conf `api`,
 * TIP_SOCKET). */
#define CONTRACT_DEFAULT_SOCKET "/run/tipd/tipd.sock"

/* Requests larger than this get "too_large"; a frame over CONTRACT_MAX_FRAME
 * makes ZeroMQ drop the connection before tipd sees it. */
#define CONTRACT_MAX_REQUEST (4u << 20)
#define CONTRACT_MAX_FRAME   (8u << 20)

/* Events in one submit request; bytes of a search query; rows of one page of
 * search, list and export. */
#define CONTRACT_SUBMIT_MAX 1024
#define CONTRACT_QUERY_MAX  2048
#define CONTRACT_SEARCH_MAX 100
#define CONTRACT_LIST_MAX   1000
#define CONTRACT_EXPORT_MAX 1000

/* Submits a bulk sender (tip import) keeps outstanding. tipd commits up to
 * half of them in one transaction while it verifies the other half. Into a
 * store of a million tips, a transaction of 16384 events writes 2.8 pages
 * an event where one of 4096 writes 4.3, and costs 22 % less CPU and 31 %
 * less time per event (docs/PERFORMANCE.md, "Bigger commits"). */
#define CONTRACT_SUBMIT_INFLIGHT 32

/* Error codes of a reply {"ok": false, "error": CODE}. */
#define CONTRACT_E_BAD_REQUEST "bad_request"
#define CONTRACT_E_TOO_LARGE   "too_large"
#define CONTRACT_E_NOT_FOUND   "not_found"
#define CONTRACT_E_AMBIGUOUS   "ambiguous"
#define CONTRACT_E_INTERNAL    "internal"
#define CONTRACT_E_NO_SPACE    "no_space" /* tipd's disk is full: nothing of it stored */

#endif
