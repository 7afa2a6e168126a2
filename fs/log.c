#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

static atomic_bool use_syslog; /* set once at start-up, read by all threads */

void log_use_syslog(bool on)
{
	if (on && !use_syslog)
		openlog("linkupfs", LOG_PID, LOG_DAEMON);
	use_syslog = on;
}

static void log_line(int prio, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (use_syslog)
		syslog(prio, "%s", line);
	else /* one write per line */
		fprintf(stderr, "linkupfs: %s\n", line);
}

void log_at(int prio, const char *fmt, ...)
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
