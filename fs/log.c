#include "log.h"

#include <fuse_log.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

static atomic_bool use_syslog; /* set once at start-up, read by all threads */
static atomic_bool debug_on;

void log_use_syslog(bool on)
{
	if (on && !use_syslog)
		openlog("linkupfs", LOG_PID, LOG_DAEMON);
	use_syslog = on;
}

void log_set_debug(bool on)
{
	debug_on = on;
}

static void log_line(int prio, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (use_syslog)
		syslog(prio, "%s", line);
	else
		fprintf(stderr, "linkupfs: %s\n", line); /* one write per line */
}

/* fuse_log_level numbers the levels as syslog does. */
static void log_error_at(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void log_error_at(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(prio, fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_ERR, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_INFO, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!debug_on)
		return;
	va_start(ap, fmt);
	log_line(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

/* libfuse may print one line in several calls: they gather here until
 * the newline (per thread, as each thread prints its own lines). */
static __thread char fuse_pending[1024];

void log_fuse(enum fuse_log_level level, const char *fmt, va_list ap)
{
	size_t used = strlen(fuse_pending);
	const char *text = fuse_pending;

	vsnprintf(fuse_pending + used, sizeof(fuse_pending) - used, fmt, ap);
	used = strlen(fuse_pending);
	if (used && fuse_pending[used - 1] != '\n' &&
	    used < sizeof(fuse_pending) - 1)
		return; /* the rest of the line comes next */
	while (used && fuse_pending[used - 1] == '\n')
		fuse_pending[--used] = '\0';
	if (strncmp(text, "fuse: ", 6) == 0)
		text += 6;
	if (*text)
		log_error_at((int)level, "%s", text);
	fuse_pending[0] = '\0';
}
