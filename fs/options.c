/*
 * fs/options.c - options from -o, the environment and the config file.
 */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "model/conv.h"

enum setting_id {
	S_API_URL,
	S_PAGE_SIZE,
	S_CACHE_SIZE,
	S_TTL,
	S_TIMEOUT,
	S_CREDIT_LIMIT,
	S_COUNTRY,
	S_INBOX_LIMIT,
	S_PARALLEL,
	S_RATE_LIMIT,
	S_STORE,
	S_NOSTORE,
	S_STORE_SIZE,
	S_OFFLINE,
	S_API_VERSION,
	S_CONFIG,
	S_API_KEY,
	S_LOGIN_TOKEN,
	S_ACCOUNT_ID,
	S_COUNT
};

/* One setting. arg is what --help writes after "-o name": "=N" for a
 * value; "" or "[=PATH]" for a flag, which takes the name alone too. */
struct setting {
	const char *name; /* -o name and config file key */
	const char *env;  /* environment variable, or NULL */
	const char *def;  /* default, or NULL */
	bool secret;	  /* never from argv (and not in --help) */
	const char *arg;
	const char *help;
};

static const struct setting settings[S_COUNT] = {
	[S_API_URL] = {"api_url", "LINKUP_API_URL", "https://api.linkupapi.com",
		       false, "=URL", "base URL of the API"},
	[S_PAGE_SIZE] = {"page_size", NULL, "100", false, "=N",
			 "messages per page (total_results)"},
	[S_CACHE_SIZE] = {"cache_size", NULL, "64M", false, "=SIZE",
			  "byte budget of the cache of answers (K, M, G)"},
	[S_TTL] = {"ttl", NULL, "60", false, "=N",
		   "seconds a listing or newest page is trusted"},
	[S_TIMEOUT] = {"timeout", NULL, "30", false, "=N",
		       "seconds for one HTTP request, connection included"},
	[S_CREDIT_LIMIT] = {"credit_limit", NULL, "0", false, "=N",
			    "stop after spending N credits (0: no limit)"},
	[S_COUNTRY] = {"country", "LINKUP_COUNTRY", NULL, false, "=CC",
		       "the API's proxy country (default: the API's)"},
	[S_INBOX_LIMIT] = {"inbox_limit", NULL, "all", false, "=N",
			   "most conversations listed from the inbox ("
			   "all: no cap, 0: none)"},
	[S_PARALLEL] = {"parallel", NULL, "1", false, "=N",
			"requests at once when reading a whole conversation"},
	[S_RATE_LIMIT] = {"rate_limit", NULL, "300/60", false, "=N/SECONDS",
			  "at most N requests in any SECONDS (0: no limit)"},
	[S_STORE] = {"store", NULL, "on", false, "[=PATH]",
		     "keep answers on disk across mounts (SQLite), in PATH or "
		     "$XDG_CACHE_HOME/linkupfs"},
	[S_NOSTORE] = {"nostore", NULL, NULL, false, "",
		       "keep nothing on disk: run from memory only"},
	[S_STORE_SIZE] = {"store_size", NULL, "1G", false, "=SIZE",
			  "byte budget of the store (K, M, G)"},
	[S_OFFLINE] = {"offline", NULL, NULL, false, "",
		       "send no request: serve what the store holds"},
	[S_API_VERSION] =
		{"api_version", NULL, "1", false, "=N",
		 "LinkupAPI version spoken: 1, or 2 (needs account_id)"},
	[S_CONFIG] =
		{"config", "LINKUPFS_CONFIG", NULL, false, "=PATH",
		 "config file (default: $XDG_CONFIG_HOME/linkupfs/config)"},
	[S_API_KEY] = {"api_key", "LINKUP_API_KEY", NULL, true, "=", NULL},
	[S_LOGIN_TOKEN] = {"login_token", "LINKUP_LOGIN_TOKEN", NULL, true, "=",
			   NULL},
	[S_ACCOUNT_ID] = {"account_id", "LINKUP_ACCOUNT_ID", NULL, true, "=",
			  NULL},
};

/* Raw values from one source; each malloc'd or NULL. */
struct source {
	char *val[S_COUNT];
	char **convs;
	size_t n_convs;
	bool bad; /* an error was already printed */
};

#define KEY_CONVERSATION S_COUNT

static void wipe(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void source_free(struct source *src)
{
	for (int i = 0; i < S_COUNT; i++)
		wipe(src->val[i]);
	for (size_t i = 0; i < src->n_convs; i++)
		free(src->convs[i]);
	free(src->convs);
	memset(src, 0, sizeof(*src));
}

/* Append a copy of ref to the list (*refs, *n). */
static int push_ref(char ***refs, size_t *n, const char *ref)
{
	char **grown = realloc(*refs, (*n + 1) * sizeof(*grown));

	if (!grown)
		return -1;
	*refs = grown;
	grown[*n] = strdup(ref);
	if (!grown[*n])
		return -1;
	(*n)++;
	return 0;
}

static int set_value(struct source *src, int id, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return -1;
	wipe(src->val[id]);
	src->val[id] = copy;
	return 0;
}

/* fuse_opt callback: our "name=value" options. */
static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct source *src = data;
	const char *value = strchr(arg, '=');

	(void)outargs;
	if (key == FUSE_OPT_KEY_OPT || key == FUSE_OPT_KEY_NONOPT)
		return 1; /* FUSE's, or the mount point */
	value = value ? value + 1 : "";
	if (key == KEY_CONVERSATION)
		return push_ref(&src->convs, &src->n_convs, value);
	if (key < 0 || key >= S_COUNT)
		return 1;
	if (settings[key].secret) {
		log_error(
			"%s is not accepted on the command line (anyone can "
			"read it with ps); set %s or put it in the config file",
			settings[key].name, settings[key].env);
		src->bad = true;
		return -1;
	}
	return set_value(src, key, value);
}

static int parse_cli(struct source *src, struct fuse_args *args)
{
	/* fstab lines often carry these; the kernel's FUSE does not take them,
	 * and they mean nothing for a read-only view of remote data */
	static const char *const ignored[] = {"relatime", "nodiratime",
					      "strictatime", "lazytime"};
	static char templ[S_COUNT][32];
	struct fuse_opt spec[2 * S_COUNT + 8];
	size_t n = 0;

	for (int i = 0; i < S_COUNT; i++) {
		snprintf(templ[i], sizeof(templ[i]), "%s=", settings[i].name);
		if (settings[i].arg[0] != '=') /* a flag: the name alone too */
			spec[n++] = (struct fuse_opt)FUSE_OPT_KEY(
				settings[i].name, i);
		spec[n++] = (struct fuse_opt)FUSE_OPT_KEY(templ[i], i);
	}
	spec[n++] = (struct fuse_opt)FUSE_OPT_KEY("conversation=",
						  KEY_CONVERSATION);
	for (size_t i = 0; i < sizeof(ignored) / sizeof(*ignored); i++)
		spec[n++] = (struct fuse_opt)FUSE_OPT_KEY(ignored[i],
							  FUSE_OPT_KEY_DISCARD);
	spec[n] = (struct fuse_opt)FUSE_OPT_END;
	if (fuse_opt_parse(args, src, spec, opt_proc) != 0) {
		if (!src->bad)
			log_error("cannot parse the command line");
		return -1;
	}
	return 0;
}

static int read_env(struct source *src)
{
	for (int i = 0; i < S_COUNT; i++) {
		char *v;

		if (!settings[i].env || !(v = getenv(settings[i].env)) || !*v)
			continue;
		if (set_value(src, i, v) < 0)
			return -1;
		if (settings[i].secret) {
			/* Scrub the process's own copy: /proc/PID/environ. */
			explicit_bzero(v, strlen(v));
			unsetenv(settings[i].env);
		}
	}
	return 0;
}

static int setting_by_name(const char *name)
{
	for (int i = 0; i < S_COUNT; i++)
		if (strcmp(settings[i].name, name) == 0)
			return i;
	return -1;
}

/* One "key = value" line of the config file (config_read's callback). */
static int config_line(void *arg, const char *path, int lineno, const char *key,
		       const char *value)
{
	struct source *src = arg;
	int id;

	if (strcmp(key, "conversation") == 0)
		return push_ref(&src->convs, &src->n_convs, value);
	id = setting_by_name(key);
	if (id < 0 || id == S_CONFIG) {
		log_error("%s line %d: unknown key '%s'", path, lineno, key);
		return -1;
	}
	return set_value(src, id, value);
}

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* "64M", "512K", "1G", "1048576" (also "64MiB", "64MB"). */
static bool parse_size(const char *s, size_t *out)
{
	static const char units[] = "KMG";
	unsigned long long v, mult = 1;
	const char *unit;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	unit = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
	if (unit) {
		mult = 1ull << (10 * (unit - units + 1));
		end++;
	}
	if (*end == 'i')
		end++;
	if (toupper((unsigned char)*end) == 'B')
		end++;
	if (*end || v == 0 || v > (1ull << 40) / mult)
		return false;
	*out = (size_t)(v * mult);
	return true;
}

static const char *pick(struct source *const src[3], int id)
{
	for (int i = 0; i < 3; i++)
		if (src[i]->val[id])
			return src[i]->val[id];
	return settings[id].def;
}

/* A number setting: its range, and where in struct options it goes (an
 * int or a long field). */
#define NUM_INT(field) offsetof(struct options, field), sizeof(int)
#define NUM_LONG(field) offsetof(struct options, field), sizeof(long)

static const struct {
	int id;
	long min, max;
	size_t off, width;
} numbers[] = {
	{S_PAGE_SIZE, 1, 1000, NUM_INT(page_size)},
	{S_TTL, 0, 31536000, NUM_LONG(ttl)},
	{S_TIMEOUT, 1, 3600, NUM_LONG(timeout)},
	{S_CREDIT_LIMIT, 0, LONG_MAX, NUM_LONG(credit_limit)},
	{S_INBOX_LIMIT, 0, 100000, NUM_INT(inbox_limit)},
	{S_PARALLEL, 1, CONV_PARALLEL_MAX, NUM_INT(parallel)},
	{S_API_VERSION, 1, 2, NUM_INT(api_version)},
};

/* "N/SECONDS", or "0" for no limit. */
static int parse_rate(const char *s, struct options *o)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	char n[24];

	if (s && strcmp(s, "0") == 0) {
		o->rate_limit = o->rate_seconds = 0;
		return 0;
	}
	if (slash && (size_t)(slash - s) < sizeof(n)) {
		memcpy(n, s, (size_t)(slash - s));
		n[slash - s] = '\0';
		if (parse_long(n, 1, 100000, &o->rate_limit) &&
		    parse_long(slash + 1, 1, 86400, &o->rate_seconds))
			return 0;
	}
	log_error("bad value '%s' for rate_limit: expected N/SECONDS such as "
		  "300/60 (N from 1 to 100000, SECONDS from 1 to 86400), or 0 "
		  "for no limit",
		  s ? s : "");
	return -1;
}

static int take_size(struct source *const src[3], int id, size_t *out)
{
	if (parse_size(pick(src, id), out))
		return 0;
	log_error("bad value '%s' for %s: expected a size such as 64M, 512K "
		  "or 1G",
		  pick(src, id), settings[id].name);
	return -1;
}

static int take_numbers(struct options *o, struct source *const src[3])
{
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		const char *s = pick(src, numbers[i].id);
		char *field = (char *)o + numbers[i].off;
		long v;

		if (numbers[i].id == S_INBOX_LIMIT && s &&
		    strcmp(s, "all") == 0)
			v = INT_MAX;
		else if (!parse_long(s, numbers[i].min, numbers[i].max, &v)) {
			log_error("bad value '%s' for %s: expected a whole "
				  "number from %ld to %ld",
				  s, settings[numbers[i].id].name,
				  numbers[i].min, numbers[i].max);
			return -1;
		}
		if (numbers[i].width == sizeof(int))
			*(int *)(void *)field = (int)v;
		else
			*(long *)(void *)field = v;
	}
	if (parse_rate(pick(src, S_RATE_LIMIT), o) < 0)
		return -1;
	if (take_size(src, S_STORE_SIZE, &o->store_size) < 0 ||
	    take_size(src, S_CACHE_SIZE, &o->cache_size) < 0)
		return -1;
	return 0;
}

static int take_strings(struct options *o, struct source *const src[3])
{
	const char *url = pick(src, S_API_URL), *cc = pick(src, S_COUNTRY);

	if (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0) {
		log_error("bad value '%s' for api_url: expected http:// or "
			  "https://",
			  url);
		return -1;
	}
	if (cc && (strlen(cc) != 2 || !isalpha((unsigned char)cc[0]) ||
		   !isalpha((unsigned char)cc[1]))) {
		log_error("bad value '%s' for country: expected a two-letter "
			  "code such as FR",
			  cc);
		return -1;
	}
	o->api_url = strdup(url);
	o->country = cc ? strdup(cc) : NULL;
	if (!o->api_url || (cc && !o->country))
		return -1;
	return 0;
}

static bool is_yes(const char *v)
{
	return !*v || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 ||
	       strcmp(v, "on") == 0 || strcmp(v, "true") == 0;
}

/* The source (0 -o, 1 environment, 2 file) that gives id; 3: none. */
static int given_by(struct source *const src[3], int id)
{
	int i = 0;

	while (i < 3 && !src[i]->val[id])
		i++;
	return i;
}

/* A yes/no setting (a flag alone is yes). 0, or -1 once said why. */
static int take_flag(struct source *const src[3], int id, bool *out)
{
	const char *v = pick(src, id);

	*out = v && is_yes(v);
	if (!v || *out || strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
		return 0;
	log_error("bad value '%s' for %s: expected yes or no", v,
		  settings[id].name);
	return -1;
}

/* store: a flag (the default place, the default) or a path; nostore
 * (where it is given before store: -o, environment, file) and store=no
 * turn it off; offline: a flag. */
static int take_store(struct options *o, struct source *const src[3])
{
	const char *v = pick(src, S_STORE), *cache = getenv("XDG_CACHE_HOME");
	const char *home = config_home_dir();
	bool no;

	if (take_flag(src, S_OFFLINE, &o->offline) < 0 ||
	    take_flag(src, S_NOSTORE, &no) < 0)
		return -1;
	if (no && given_by(src, S_NOSTORE) <= given_by(src, S_STORE))
		return 0;
	if (!v || strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
		return 0;
	if (!is_yes(v)) {
		o->store_dir = strdup(v);
		return o->store_dir ? 0 : -1;
	}
	o->store_default = true;
	if (cache && cache[0] == '/')
		return asprintf(&o->store_dir, "%s/linkupfs", cache) < 0 ? -1
									 : 0;
	if (!home || home[0] != '/') {
		bool asked = given_by(src, S_STORE) < 3;

		log_error("store: no home nor $XDG_CACHE_HOME to put it in; %s",
			  asked ? "give store=PATH"
				: "running from memory (give store=PATH to "
				  "keep answers on disk)");
		o->store_default = false;
		return asked ? -1 : 0;
	}
	return asprintf(&o->store_dir, "%s/.cache/linkupfs", home) < 0 ? -1 : 0;
}

/* The secrets as found, NULL when missing: options_check_credentials
 * says so, once every option was checked. */
static int take_secrets(struct options *o, struct source *const src[3])
{
	const char *key = pick(src, S_API_KEY), *tok = pick(src, S_LOGIN_TOKEN);
	const char *acct = pick(src, S_ACCOUNT_ID);

	if (key && *key && !(o->api_key = strdup(key)))
		return -1;
	if (tok && *tok && !(o->login_token = strdup(tok)))
		return -1;
	if (acct && *acct && !(o->account_id = strdup(acct)))
		return -1;
	return 0;
}

int options_check_credentials(const struct options *o, bool import)
{
	const char *path = o->config_path ? o->config_path : "the config file";

	if (!o->api_key) {
		log_error("no API key: set LINKUP_API_KEY or put "
			  "'api_key = ...' in %s",
			  path);
		return -1;
	}
	if (o->api_version == 2 && !import && !o->account_id) {
		log_error("no account_id for api_version=2: set "
			  "LINKUP_ACCOUNT_ID or put 'account_id = ...' in %s "
			  "(linkupfs --import-token turns a login token into "
			  "one)",
			  path);
		return -1;
	}
	if ((o->api_version != 2 || import) && !o->login_token) {
		log_error("no LinkedIn login token: set LINKUP_LOGIN_TOKEN or "
			  "put 'login_token = ...' in %s",
			  path);
		return -1;
	}
	return 0;
}

static int take_conversations(struct options *o, struct source *const src[3])
{
	for (int i = 0; i < 3; i++)
		for (size_t j = 0; j < src[i]->n_convs; j++)
			if (push_ref(&o->conversations, &o->n_conversations,
				     src[i]->convs[j]) < 0)
				return -1;
	return 0;
}

int options_load(struct options *o, struct fuse_args *args)
{
	struct source cli = {0}, env = {0}, file = {0};
	struct source *const order[3] = {&cli, &env, &file};
	const char *cfg;
	int r = -1;

	memset(o, 0, sizeof(*o));
	if (parse_cli(&cli, args) < 0 || read_env(&env) < 0)
		goto out;
	cfg = cli.val[S_CONFIG] ? cli.val[S_CONFIG] : env.val[S_CONFIG];
	o->config_path = cfg ? strdup(cfg) : config_default_path();
	if (o->config_path &&
	    config_read(o->config_path, cfg != NULL, config_line, &file) < 0)
		goto out;
	if (take_numbers(o, order) < 0 || take_strings(o, order) < 0 ||
	    take_secrets(o, order) < 0 || take_conversations(o, order) < 0 ||
	    take_store(o, order) < 0)
		goto out;
	r = 0;
out:
	source_free(&cli);
	source_free(&env);
	source_free(&file);
	return r;
}

void options_free(struct options *o)
{
	free(o->api_url);
	free(o->country);
	free(o->config_path);
	free(o->store_dir);
	for (size_t i = 0; i < o->n_conversations; i++)
		free(o->conversations[i]);
	free(o->conversations);
	wipe(o->api_key);
	wipe(o->login_token);
	wipe(o->account_id);
	memset(o, 0, sizeof(*o));
}

void options_usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [-f] [-d] [-s] [-o OPTION[,OPTION...]] MOUNTPOINT\n"
		"       %s --import-token [-o OPTION[,OPTION...]]\n"
		"       fusermount3 -u MOUNTPOINT\n\n"
		"Mounts your LinkedIn conversations (LinkupAPI) as folders.\n\n"
		"linkupfs options:\n",
		prog, prog);
	for (int i = 0; i < S_COUNT; i++) {
		char left[40];

		if (settings[i].secret)
			continue;
		snprintf(left, sizeof(left), "-o %s%s", settings[i].name,
			 settings[i].arg);
		fprintf(out, "    %-26s %s", left, settings[i].help);
		if (settings[i].def)
			fprintf(out, " [%s]", settings[i].def);
		fputc('\n', out);
	}
	fprintf(out,
		"    %-26s add a conversation: slug, profile URL or URN "
		"(repeatable)\n\n",
		"-o conversation=REF");
}
