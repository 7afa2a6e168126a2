/*
 * fs/log.h - one line per event, "linkupfs: ..." on stderr in the
 * foreground, syslog (LOG_DAEMON) once daemonised. Thread-safe.
 */
#ifndef LINKUPFS_LOG_H
#define LINKUPFS_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/* Send later lines to syslog (true) or stderr (false, the default). */
void log_use_syslog(bool on);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A line at a syslog priority (LOG_ERR, LOG_INFO, ...). */
void log_at(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
