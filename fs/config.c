/*
 * fs/config.c - the config file (config.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define CONFIG_MAX_BYTES (64 * 1024)

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* A config file must be private, as ssh insists for keys. */
static int check_private(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_error("%s is not a regular file", path);
		return -1;
	}
	if (st.st_mode & 077) {
		log_error("%s is accessible by group or others (mode %04o); it "
			  "holds "
			  "credentials: run chmod 600 %s",
			  path, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if (st.st_uid != getuid()) {
		log_error(
			"%s is not owned by you; refusing to read credentials "
			"from it",
			path);
		return -1;
	}
	return 0;
}

/* Split "key = value" lines (blank ones and # comments skipped). */
static int parse_text(const char *path, char *text, config_line_fn line,
		      void *arg)
{
	int lineno = 0;

	for (char *cur = text, *next; cur; cur = next) {
		char *eq, *key;

		next = strchr(cur, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		cur = trim(cur);
		if (!*cur || *cur == '#')
			continue;
		eq = strchr(cur, '=');
		if (!eq) {
			log_error("%s line %d: expected 'key = value'", path,
				  lineno);
			return -1;
		}
		*eq = '\0';
		key = trim(cur);
		if (line(arg, path, lineno, key, trim(eq + 1)) < 0)
			return -1;
	}
	return 0;
}

int config_read(const char *path, bool must_exist, config_line_fn line,
		void *arg)
{
	char *text = NULL;
	ssize_t n;
	int fd, r = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		log_error("cannot open config file %s: %s", path,
			  strerror(errno));
		return -1;
	}
	if (check_private(fd, path) < 0)
		goto out;
	text = calloc(1, CONFIG_MAX_BYTES + 1);
	if (!text)
		goto out;
	n = read(fd, text, CONFIG_MAX_BYTES + 1);
	if (n < 0 || n > CONFIG_MAX_BYTES) {
		log_error("cannot read config file %s: %s", path,
			  n < 0 ? strerror(errno) : "larger than 64 KiB");
		goto out;
	}
	r = parse_text(path, text, line, arg);
out:
	if (text) {
		explicit_bzero(text, CONFIG_MAX_BYTES + 1);
		free(text);
	}
	close(fd);
	return r;
}

/* $HOME, unless mount(8) or mount.fuse3 left it unset or someone else's
 * (they do for fstab mounts): then the passwd entry, as ssh does. */
const char *config_home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;
	struct stat st;

	if (home && *home && stat(home, &st) == 0 && st.st_uid == getuid())
		return home;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : home;
}

char *config_default_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = config_home_dir();
	char *path = NULL;

	if (xdg && *xdg) {
		if (asprintf(&path, "%s/linkupfs/config", xdg) < 0)
			path = NULL;
	} else if (home && *home) {
		if (asprintf(&path, "%s/.config/linkupfs/config", home) < 0)
			path = NULL;
	}
	return path;
}
