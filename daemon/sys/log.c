/* log.c -- one line per message on stderr, journald-aware.
 *
 * The whole line is formatted into one buffer and written with a single
 * write(2), so lines from the verify thread and the loop never interleave.
 * Newlines inside a message are replaced by spaces: one message, one line,
 * whatever a peer or a file put into the text. The level and the journald
 * flag are the logger's own state (set once at start, changed on SIGHUP).
 */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int s_level = LOG_I;
static int s_journal;

/* systemd sets JOURNAL_STREAM=DEV:INODE of the stream it connected to
 * stderr. Only when stderr still is that stream do we write "<N>" prefixes:
 * a tipd started by hand from a shell that inherited the variable writes
 * plain lines. */
static int s_stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2) return 0;
    if (fstat(STDERR_FILENO, &st) < 0) return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(int level)
{
    s_journal = s_stderr_is_journal();
    log_set_level(level);
}

void log_set_level(int level)
{
    if (level < LOG_E) level = LOG_E;
    if (level > LOG_D) level = LOG_D;
    s_level = level;
}

int log_level(void)
{
    return s_level;
}

int log_enabled(int priority)
{
    return priority <= s_level;
}

static const char *s_name(int p)
{
    switch (p) {
    case 0:
    case 1:
    case 2:
    case LOG_E:
        return "error";
    case LOG_W:
        return "warning";
    case LOG_N:
        return "notice";
    case LOG_I:
        return "info";
    default:
        return "debug";
    }
}

void log_vmsg(int priority, const char *fmt, va_list ap)
{
    if (!log_enabled(priority)) return;
    char line[2048];
    int off;
    if (s_journal)
        off = snprintf(line, sizeof(line), "<%d>", priority < 0 ? 0 : priority);
    else
        off = snprintf(line, sizeof(line), "tipd: %s: ", s_name(priority));
    int n = vsnprintf(line + off, sizeof(line) - (size_t)off - 1, fmt, ap);
    size_t len = (size_t)off + (n < 0 ? 0 : (size_t)n);
    if (len > sizeof(line) - 2) len = sizeof(line) - 2;
    for (size_t i = (size_t)off; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w; /* nowhere left to report a failing stderr */
}

void log_msg(int priority, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(priority, fmt, ap);
    va_end(ap);
}
