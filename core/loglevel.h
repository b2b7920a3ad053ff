/* loglevel.h -- the one vocabulary of log priorities.
 *
 * Every module that reports something to an operator (the daemon's log, the
 * gossip engine, discovery through its callback, the config's `log-level`)
 * speaks these five names. The values are syslog's, so that journald reads
 * the "<N>" prefix tipd writes as the entry's priority.
 */
#ifndef TIPD_LOGLEVEL_H
#define TIPD_LOGLEVEL_H

#define LOG_E 3 /* error: something failed that an operator must fix */
#define LOG_W 4 /* warning: degraded, tipd carries on */
#define LOG_N 5 /* notice: a normal but significant change */
#define LOG_I 6 /* info: what tipd is doing */
#define LOG_D 7 /* debug */

#endif
