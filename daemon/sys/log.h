/* log.h -- tipd's log lines on stderr.
 *
 * Under journald (JOURNAL_STREAM names our stderr) each line starts with a "<N>" syslog
 * priority prefix that journald turns into the entry's priority; otherwise
 * lines read "tipd: level: message". Messages less important than the
 * configured level are dropped. Priorities are core/loglevel.h's LOG_E ..
 * LOG_D, the same numbers as syslog's.
 *
 * log_msg has the signature gossip_opts_t.log and the other modules expect.
 */
#ifndef TIPD_LOG_H
#define TIPD_LOG_H

#include <stdarg.h>

#include "loglevel.h"

/* Read JOURNAL_STREAM and set the level (call once at start and on reload). */
void log_init(int level);
void log_set_level(int level);
int log_level(void);
/* 1 if a message of this priority would be written. */
int log_enabled(int priority);

void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(int priority, const char *fmt, va_list ap);

#endif
