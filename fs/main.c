/*
 * fs/main.c - wires linkupfs together: options, credentials, the API
 * client, the cache, the conversation table, and the FUSE loop.
 */
#include <malloc.h>
#include <errno.h>
#include <fuse_lowlevel.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "../cache/store.h"
#include "fuse/fs.h"
#include "model/link.h"
#include "cmdline.h"
#include "log.h"
#include "loop.h"
#include "options.h"

/* Retries of 429, 5xx and transport failures before a read fails. */
#define API_RETRIES 4

/*
 * Exit statuses (linkupfs.1, EXIT STATUS), sysexits.h's where one fits:
 * EX_USAGE (64) the command line is wrong, EX_CONFIG (78) a setting is
 * wrong or missing, EX_NOPERM (77) the API refused the credentials; 1
 * anything else (the mount point, FUSE, the network). A service manager
 * should not restart on the first three: the same start fails again, and
 * with v1 each refused try costs a credit (contrib/linkupfs.service).
 */

/* The account in the store's keys: a SHA-256 of the API URL and the
 * credentials (store_name), so that another key, login token or account
 * id never meets this one's data, and none of them can be read back from
 * the store. 0 or -1. */
static int name_account(struct lfs *fs, const struct options *o)
{
	char *all = NULL;
	int n = asprintf(&all, "linkupfs account\n%s\n%s\n%s\n%s", o->api_url,
			 o->api_key, o->login_token ? o->login_token : "",
			 o->account_id ? o->account_id : "");
	int r = -1;

	if (n >= 0) {
		r = store_name(all, (size_t)n, fs->account, 33);
		explicit_bzero(all, (size_t)n);
	}
	free(all);
	return r < 0 ? -1 : 0;
}

/* The store's one word when its writes fail (store_on_failure). */
static void store_failed(void *arg, int err)
{
	(void)arg;
	log_error("store: cannot write (%s); going on from memory, nothing "
		  "more is kept on disk this mount",
		  strerror(-err));
}

/* The store (on unless -o nostore): open it. One others may read, or a
 * file where its directory should be, fails the mount (with why); any
 * other failure leaves it from memory, with one line. */
static int open_store(struct lfs *fs, const struct options *o)
{
	char why[512];
	int r;

	if (!o->store_dir)
		return 0;
	if (o->store_default) { /* its parent, e.g. ~/.cache */
		char *parent = strdup(o->store_dir), *slash;

		if (parent && (slash = strrchr(parent, '/')) &&
		    slash != parent) {
			*slash = '\0';
			mkdir(parent, 0700);
		}
		free(parent);
	}
	r = store_open(o->store_dir, o->store_size, &fs->store, why,
		       sizeof(why));
	if (r == -EPERM || r == -ENOTDIR) {
		fprintf(stderr, "linkupfs: %s\n", why);
		return -1;
	}
	if (r < 0) { /* disk full, I/O error, in use: the mount goes on */
		log_error("%s; this mount runs from memory", why);
		return 0;
	}
	if (why[0])
		log_error("%s", why);
	store_on_failure(fs->store, store_failed, NULL);
	if (name_account(fs, o) < 0) {
		log_error("store: cannot name the account (libcrypto failed); "
			  "this mount runs from memory");
		store_close(fs->store);
		fs->store = NULL;
	}
	return 0;
}

static int setup(struct lfs *fs, struct options *o, bool debug)
{
	struct api_config cfg = {
		.base_url = o->api_url,
		.api_key = o->api_key,
		.login_token = o->login_token,
		.version = o->api_version,
		.account_id = o->account_id,
		.country = o->country,
		.timeout_s = o->timeout,
		.max_retries = API_RETRIES,
		.credit_limit = o->credit_limit,
		.rate_limit = o->rate_limit,
		.rate_seconds = o->rate_seconds,
		.debug = debug,
		/* a reader's Ctrl-C stops its network call at once */
		.interrupted = fs_interrupted,
	};
	struct conv_env env;

	fs->api = api_new(&cfg);
	fs->cache = lru_new(o->cache_size);
	fs->link = link_new(o->offline, LINK_BACKOFF_FIRST_MS,
			    LINK_BACKOFF_MAX_MS);
	if (!fs->api || !fs->cache || !fs->link)
		return -1;
	env = (struct conv_env){fs->api,  fs->cache,   o->page_size,
				o->ttl,	  o->parallel, fs->store,
				fs->link, fs->account};
	fs->root = root_new(&env, o->inbox_limit, o->conversations,
			    o->n_conversations);
	if (!fs->root)
		return -1;
	fs->ttl = o->ttl;
	fs->credit_limit = o->credit_limit;
	fs->uid = getuid();
	fs->gid = getgid();
	return 0;
}

/* libfuse may print one line in several calls: they gather here until
 * the newline (per thread, as each thread prints its own lines). */
static __thread char fuse_pending[1024];

/* For fuse_set_log_func: libfuse's messages as ours ("linkupfs: ...", its
 * "fuse: " prefix dropped), so every line a user sees names us.
 * fuse_log_level numbers the levels as syslog does. */
static void log_from_fuse(enum fuse_log_level level, const char *fmt,
			  va_list ap)
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
	if (strncmp(text, "unknown option", 14) == 0 ||
	    strncmp(text, "invalid ", 8) == 0) /* of fuse_parse_cmdline */
		log_at((int)level, "%s (see linkupfs --help)", text);
	else if (*text)
		log_at((int)level, "%s", text);
	fuse_pending[0] = '\0';
}

static void teardown(struct lfs *fs)
{
	root_free(fs->root);
	store_close(fs->store);
	link_free(fs->link);
	lru_free(fs->cache);
	api_free(fs->api);
}

/* Worker threads when the user did not say (-o max_threads=N). */
#define LFS_MAX_THREADS 64
static bool max_threads_given;

/* libfuse's clone_fd and max_idle_threads do not apply: one thread reads
 * at a time (loop.h), and idle threads wait for their turn. */
static int run_loop(struct fuse_session *se, const struct fuse_cmdline_opts *co)
{
	if (co->singlethread)
		return fuse_session_loop(se);
	/* libfuse's default of 10 would queue the 11th reader of a cold
	 * conversation behind the network calls of the first ten */
	return loop_run(se,
			max_threads_given ? co->max_threads : LFS_MAX_THREADS);
}

/*
 * Prompt shutdown. libfuse ends its loop on SIGINT/SIGTERM/SIGHUP or when
 * the kernel drops the connection (fusermount3 -u), but then waits for the
 * requests being served, which may sit in a network call for `timeout`
 * seconds. A watcher thread cancels those calls at once: it wakes on a byte
 * from our signal handler, or finds POLLERR on the session's fd (the
 * kernel's sign of an unmount) when it looks, every WATCH_MS. It never
 * waits on that fd: the kernel wakes every waiter of the fd for each
 * request it queues, and a warm `grep -r` sends thousands (a context
 * switch each, for nothing). The file-scope state is what a signal handler
 * needs.
 */
#define WATCH_MS 200
static struct fuse_session *signal_session;
static int shutdown_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	char byte = (char)sig;

	if (signal_session)
		fuse_session_exit(signal_session);
	if (write(shutdown_pipe[1], &byte, 1) < 0) {
		/* nothing to do: the watcher is awake already */
	}
	errno = saved;
}

struct watcher {
	pthread_t thread;
	struct api *api;
	int fuse_fd;
};

static void *watch_shutdown(void *arg)
{
	struct watcher *w = arg;
	struct pollfd wake = {.fd = shutdown_pipe[0], .events = POLLIN};
	struct pollfd fuse = {.fd = w->fuse_fd, .events = 0}; /* POLLERR */

	for (;;) {
		int r = poll(&wake, 1, WATCH_MS);

		if (r > 0 || (r < 0 && errno != EINTR))
			break;
		if (r == 0 && poll(&fuse, 1, 0) > 0) /* no wait: no waking */
			break;
	}
	api_cancel(w->api);
	return NULL;
}

static int install_signals(struct fuse_session *se)
{
	struct sigaction sa = {.sa_handler = on_signal};
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};

	if (pipe2(shutdown_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	signal_session = se;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void stop_watcher(struct watcher *w)
{
	char byte = 0;

	if (write(shutdown_pipe[1], &byte, 1) < 0) {
		/* the pipe is full: the watcher is awake already */
	}
	pthread_join(w->thread, NULL);
	signal_session = NULL;
	close(shutdown_pipe[0]);
	close(shutdown_pipe[1]);
}

/* Mount, serve until unmounted or signalled, unmount. */
static int serve(struct fuse_session *se, struct fuse_cmdline_opts *co,
		 struct lfs *fs)
{
	struct check_announce announce;
	struct watcher w = {0};
	int r = 1;

	if (fuse_session_mount(se, co->mountpoint) != 0)
		return 1;
	if (fuse_daemonize(co->foreground) != 0)
		goto out_mount;
	log_use_syslog(!co->foreground);
	fs->se = se;
	w.api = fs->api;
	w.fuse_fd = fuse_session_fd(se);
	if (install_signals(se) != 0 ||
	    pthread_create(&w.thread, NULL, watch_shutdown, &w) != 0) {
		log_error("cannot set up signal handling: %s", strerror(errno));
		goto out_mount;
	}
	if (fs->store && store_start(fs->store) < 0) /* after the fork too */
		log_error("store: cannot start its writer; answers are kept on "
			  "disk only at unmount");
	announce = fs_announce(fs);
	/* after the fork of daemonize */
	fs->checker = check_new(fs->root, fs->link, &announce);
	if (!fs->checker) {
		log_error("out of memory");
		stop_watcher(&w);
		goto out_mount;
	}
	fs->ahead = ahead_new(fs->root); /* NULL: no read-ahead */
	r = run_loop(se, co) ? 1 : 0;
	api_cancel(fs->api); /* checks and walks in flight end at once */
	check_free(fs->checker);
	fs->checker = NULL;
	ahead_free(fs->ahead);
	fs->ahead = NULL;
	stop_watcher(&w);
out_mount:
	fs->se = NULL;
	fuse_session_unmount(se);
	return r;
}

/*
 * The command line before libfuse reads it: mount(8)'s source dropped, a
 * second mount point refused, the mount point checked (ours first:
 * libfuse's check of a dead mount point says less). 0 to go on, else an
 * exit status.
 */
static int check_arguments(int *argc, char *argv[])
{
	const char *mp;

	if (cmdline_wants_help(*argc, argv))
		return 0;
	if (cmdline_take_source(argc, argv) < 0)
		return EX_USAGE;
	for (int i = 1; i < *argc; i++)
		max_threads_given |= strstr(argv[i], "max_threads=") != NULL;
	mp = cmdline_mountpoint(*argc, argv);
	if (mp && cmdline_check_mountpoint(mp) < 0)
		return 1;
	return 0;
}

/* Help or version on stdout. */
static void print_help(const struct fuse_cmdline_opts *co, const char *prog)
{
	if (co->show_help) {
		options_usage(stdout, prog);
		cmdline_credentials_usage(stdout, prog);
		cmdline_fuse_usage(stdout, LFS_MAX_THREADS);
		fuse_lowlevel_help();
		return;
	}
	printf("linkupfs %s\n", LINKUPFS_VERSION);
	printf("FUSE library %s\n", fuse_pkgversion());
}

static void tune_process(void)
{
	/* one heap for every thread: a heap per thread would hold freed page
	 * bodies apart, and even a second one held 2 MiB of holes after
	 * scenario 6 of make bench (cache_size=8M: 25.1 -> 24.5 MiB peak) */
	mallopt(M_ARENA_MAX, 1);
	/* page bodies (tens of KiB each) come and go with the cache: mapped
	 * apart, an evicted one goes back to the system at once instead of
	 * leaving a hole in the heap */
	mallopt(M_MMAP_THRESHOLD, 32 * 1024);
	tzset(); /* localtime_r needs TZ read once */
	/* the read-ahead sorts names as tree and ls -R do (fs/model/ahead.h) */
	setlocale(LC_COLLATE, "");
}

/*
 * The session, which checks FUSE's own options (libfuse says what is
 * wrong, through log_from_fuse). ro: the kernel itself answers EROFS to every
 * write, for root too. noatime: an atime update after each readdir would
 * make the kernel ask for the directory's attributes again on every walk.
 */
static struct fuse_session *new_session(struct fuse_args *args, struct lfs *fs)
{
	if (fuse_opt_add_arg(args, "-oro,default_permissions,fsname=linkupfs,"
				   "subtype=linkupfs,noatime") != 0)
		return NULL;
	return fuse_session_new(args, fs_operations(),
				sizeof(struct fuse_lowlevel_ops), fs);
}

/* Read what the mount shows first; a refused key or token fails it. */
static int prime(struct lfs *fs)
{
	struct api_error err;

	if (root_prime(fs->root, &err) == 0)
		return 0;
	fprintf(stderr, "linkupfs: the API refused the credentials: %s\n",
		err.message);
	return -1;
}

/*
 * linkupfs --import-token [-o api_url=...,country=...]: the v1 login token
 * (environment or config file) turned into a v2 account id with POST
 * /v2/login, printed on stdout: the one place an id is ever printed, as
 * the user asked for it. An exit status.
 */
static int import_token(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = {0};
	struct api_error err = {0};
	struct api *api = NULL;
	char *id = NULL;
	int r = 1;

	r = EX_CONFIG;
	if (options_load(&o, &args) < 0 || options_check_credentials(&o, true))
		goto out;
	r = EX_USAGE;
	if (args.argc > 1) {
		fprintf(stderr, "linkupfs: --import-token takes no mount point "
				"and no other argument\n");
		goto out;
	}
	r = 1;
	if (api_global_init() != 0)
		goto out;
	api = api_new(&(struct api_config){
		.base_url = o.api_url,
		.api_key = o.api_key,
		.login_token = o.login_token,
		.version = 2,
		.country = o.country,
		.timeout_s = o.timeout,
		.max_retries = API_RETRIES,
		.rate_limit = o.rate_limit,
		.rate_seconds = o.rate_seconds,
	});
	if (!api)
		fprintf(stderr, "linkupfs: cannot start: out of memory\n");
	else if (api_import_token(api, &id, &err) < 0) {
		fprintf(stderr, "linkupfs: cannot import the login token: %s\n",
			err.message);
		if (err.kind == API_ERR_AUTH)
			r = EX_NOPERM;
	} else if (printf("%s\n", id) > 0 && fflush(stdout) == 0)
		r = 0;
	if (id)
		explicit_bzero(id, strlen(id));
	free(id);
	api_free(api);
	api_global_cleanup();
out:
	options_free(&o);
	fuse_opt_free_args(&args);
	return r;
}

/* Mount with the options read, serve, unmount: an exit status. */
static int mount_and_serve(struct fuse_args *args, struct fuse_cmdline_opts *co,
			   struct options *o)
{
	struct lfs fs = {0};
	struct fuse_session *se = new_session(args, &fs);
	int r = EX_USAGE;

	if (!se) /* libfuse said which option it refused */
		return r;
	if (!co->mountpoint) {
		fprintf(stderr, "linkupfs: no mount point given (see "
				"linkupfs --help)\n");
		goto out_se;
	}
	r = EX_CONFIG;
	if (options_check_credentials(o, false) < 0)
		goto out_se;
	r = 1;
	if (cmdline_check_fuse_device() < 0)
		goto out_se;
	tune_process();
	if (open_store(&fs, o) < 0)
		goto out_fs;
	if (api_global_init() != 0 || setup(&fs, o, co->debug) < 0) {
		fprintf(stderr, "linkupfs: cannot start: out of memory\n");
		goto out_fs;
	}
	r = prime(&fs) < 0 ? EX_NOPERM : serve(se, co, &fs);
	fuse_session_destroy(se); /* before what its callbacks use */
	se = NULL;
out_fs:
	teardown(&fs);
	api_global_cleanup();
out_se:
	if (se)
		fuse_session_destroy(se);
	return r;
}

int main(int argc, char *argv[])
{
	struct fuse_args args;
	struct fuse_cmdline_opts co = {0};
	struct options o = {0};
	int r;

	fuse_set_log_func(log_from_fuse);
	if (cmdline_take_flag(&argc, argv, "--import-token"))
		return import_token(argc, argv);
	r = check_arguments(&argc, argv);
	if (r)
		return r;
	args = (struct fuse_args)FUSE_ARGS_INIT(argc, argv);
	r = EX_USAGE;
	if (fuse_parse_cmdline(&args, &co) != 0)
		goto out_args;
	if (co.show_help || co.show_version) {
		print_help(&co, argv[0]);
		r = 0;
		goto out_args;
	}
	r = EX_CONFIG;
	if (options_load(&o, &args) == 0)
		r = mount_and_serve(&args, &co, &o);
	options_free(&o);
out_args:
	free(co.mountpoint);
	fuse_opt_free_args(&args);
	return r;
}
