/*
 * fs/options.h - what the user asked for: -o options, environment, config
 * file (SPEC section 2). Precedence: -o over environment over file.
 *
 * Secrets (api_key, login_token, account_id) come only from the environment or
 * the config file, never from argv; options_free zeroes them. The environment
 * copies are scrubbed too, so they do not linger in /proc/PID/environ.
 */
#ifndef LINKUPFS_OPTIONS_H
#define LINKUPFS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <fuse.h>

struct options {
	char *api_url;
	int page_size;
	size_t cache_size;
	long ttl;
	long timeout;
	long credit_limit;
	char *country; /* NULL: the API's default */
	int inbox_limit;
	int parallel;	 /* requests at once for a whole-conversation walk */
	long rate_limit; /* at most rate_limit requests in any rate_seconds; */
	long rate_seconds;    /* 0 and 0: no limit */
	char **conversations; /* URNs, profile URLs or slugs, as given */
	size_t n_conversations;
	char *config_path;  /* the file read, or NULL */
	char *store_dir;    /* the store's directory, NULL: no store */
	bool store_default; /* store_dir is the default place */
	size_t store_size;  /* its byte budget */
	bool offline;	    /* send no request (-o offline) */
	char *api_key;	    /* secret */
	char *login_token;  /* secret */
	int api_version;    /* 1 or 2 */
	char *account_id;   /* secret; v2 */
};

/*
 * Take our options out of args (FUSE's own stay), then the environment and
 * the config file, and check every value. Returns 0, or -1 after printing
 * one line saying what is wrong (the caller exits non-zero). Help and
 * version flags are left in args for the caller. A missing credential is
 * not an error here (api_key, login_token stay NULL): the caller checks
 * FUSE's options too, then calls options_check_credentials.
 */
int options_load(struct options *o, struct fuse_args *args);

/* 0 when the credentials api_version needs are set (v1: api_key and
 * login_token; v2: api_key and account_id; import: api_key and
 * login_token), else -1 after printing one line saying which is missing
 * and where to set it. */
int options_check_credentials(const struct options *o, bool import);

/* Free and zero everything. */
void options_free(struct options *o);

/* The usage text: every option of ours with its default. */
void options_usage(FILE *out, const char *prog);

#endif
