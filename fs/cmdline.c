/*
 * fs/cmdline.c - the command line before libfuse reads it (cmdline.h).
 */
#include "cmdline.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Take argv[i] out. */
static void take(int *argc, char *argv[], int i)
{
	memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i) * sizeof(*argv));
	(*argc)--;
}

bool cmdline_take_flag(int *argc, char *argv[], const char *flag)
{
	for (int i = 1; i < *argc; i++)
		if (strcmp(argv[i], flag) == 0) {
			take(argc, argv, i);
			return true;
		}
	return false;
}

bool cmdline_wants_help(int argc, char *argv[])
{
	static const char *const flags[] = {"-h", "--help", "-V", "--version"};

	for (int i = 1; i < argc; i++)
		for (size_t j = 0; j < sizeof(flags) / sizeof(*flags); j++)
			if (strcmp(argv[i], flags[j]) == 0)
				return true;
	return false;
}

/* The indexes of argv's plain arguments (neither an option nor -o's
 * value), at most max of them in at[]; how many were found. */
static int plain_args(int argc, char *argv[], int at[], int max)
{
	int n = 0;

	for (int i = 1; i < argc && n < max; i++) {
		if (strcmp(argv[i], "-o") == 0)
			i++; /* its value */
		else if (argv[i][0] != '-')
			at[n++] = i;
	}
	return n;
}

/* The source an fstab line gives: "linkupfs" (as ours does), with a
 * directory before it or not, or nothing ("linkupfs#"). */
static bool is_fstab_source(const char *arg)
{
	const char *slash = strrchr(arg, '/');

	return !*arg || strcmp(slash ? slash + 1 : arg, "linkupfs") == 0;
}

int cmdline_take_source(int *argc, char *argv[])
{
	int at[2], n = plain_args(*argc, argv, at, 2);

	if (n < 2)
		return 0;
	if (*argc == 5 && at[0] == 1 && at[1] == 2 &&
	    strcmp(argv[3], "-o") == 0 && is_fstab_source(argv[1])) {
		take(argc, argv, 1);
		return 0;
	}
	fprintf(stderr,
		"linkupfs: two mount points given, '%s' and '%s': linkupfs "
		"takes one (see linkupfs --help)\n",
		argv[at[0]], argv[at[1]]);
	return -1;
}

const char *cmdline_mountpoint(int argc, char *argv[])
{
	int at;

	return plain_args(argc, argv, &at, 1) ? argv[at] : NULL;
}

void cmdline_fuse_usage(FILE *out, unsigned max_threads)
{
	fprintf(out,
		"FUSE options:\n"
		"    -h, --help                 print this help\n"
		"    -V, --version              print the versions of linkupfs "
		"and libfuse\n"
		"    -f                         stay in the foreground, log to "
		"stderr\n"
		"    -d, -o debug               log every FUSE and HTTP "
		"request "
		"(implies -f)\n"
		"    -s                         serve every request in one "
		"thread\n"
		"    -o clone_fd                one /dev/fuse descriptor per "
		"worker thread\n"
		"    -o max_idle_threads=N      idle worker threads kept (-1: "
		"all) [-1]\n"
		"    -o max_threads=N           most worker threads at once "
		"[%u]\n",
		max_threads);
}

void cmdline_credentials_usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Credentials, never on the command line:\n"
		"    LINKUP_API_KEY, LINKUP_LOGIN_TOKEN (environment), or\n"
		"    api_key = ..., login_token = ... in the config file\n"
		"    (mode 0600). With api_version=2: LINKUP_ACCOUNT_ID or\n"
		"    account_id = ... instead of the login token. Also read:\n"
		"    LINKUP_API_URL, LINKUP_COUNTRY, LINKUPFS_CONFIG.\n"
		"    Precedence: -o, environment, file.\n\n"
		"%s --import-token\n"
		"    turns the v1 login token (LINKUP_LOGIN_TOKEN or the "
		"config\n"
		"    file) into a v2 account_id with POST /v2/login (free) "
		"and\n"
		"    prints it on stdout, for LINKUP_ACCOUNT_ID or the "
		"file.\n\n",
		prog);
}

int cmdline_check_mountpoint(const char *mp)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (stat(mp, &st) != 0 && errno == ENOTCONN) {
		fprintf(stderr,
			"linkupfs: mount point %s: %s (the filesystem "
			"mounted there died); free it with: fusermount3 -u "
			"%s\n",
			mp, strerror(errno), mp);
		return -1;
	}
	if (stat(mp, &st) != 0) {
		fprintf(stderr, "linkupfs: mount point %s: %s\n", mp,
			strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "linkupfs: mount point %s is not a directory\n",
			mp);
		return -1;
	}
	d = opendir(mp);
	if (!d) {
		fprintf(stderr, "linkupfs: mount point %s: %s\n", mp,
			strerror(errno));
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			fprintf(stderr,
				"linkupfs: mount point %s is not empty "
				"(already mounted?)\n",
				mp);
			r = -1;
			break;
		}
	closedir(d);
	return r;
}

/* libfuse opens /dev/fuse before it runs fusermount3 and then says only
 * "Permission denied". */
int cmdline_check_fuse_device(void)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	struct stat st;

	if (fd >= 0)
		close(fd);
	if (fd >= 0 || errno != EACCES || stat("/dev/fuse", &st) != 0 ||
	    (st.st_mode & 0006) == 0006)
		return 0; /* else libfuse's own line ("modprobe fuse") */
	fprintf(stderr,
		"linkupfs: cannot open /dev/fuse: %s (mode %04o): mounting "
		"as a user needs read and write access to it; as root, run "
		"chmod 0666 /dev/fuse (Debian's default)\n",
		strerror(EACCES), (unsigned)(st.st_mode & 07777));
	return -1;
}
