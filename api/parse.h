/*
 * api/parse.h - shared by the files of api/ that turn answers into structs
 * (parse.c, parse_conversation.c, parse_inbox.c, clean.c, error.c) only;
 * the module's contract is api.h.
 *
 * Everything behind it reads untrusted network input: any value may be
 * missing, of the wrong type or absurdly large. Pure functions: no I/O, no
 * locks, no global state.
 */
#ifndef LINKUPFS_API_PARSE_H
#define LINKUPFS_API_PARSE_H

#include "api.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct api_json_elems; /* json.h */

/* What one parse carries along while it fills its structs. */
struct api_parse_ctx {
	bool oom;   /* an allocation failed: the result is incomplete */
	bool clean; /* the body is valid UTF-8 with no \uD800-\uDFFF escape,
		       so no string needs repair */
};

/* Zero err (API_OK, no message). In error.c. */
void api_error_clear(struct api_error *err);

/* err becomes an API_ERR_PARSE with message what; returns -EIO. */
int api_parse_fail(struct api_error *err, const char *what);

/* The same for an allocation that failed; returns -ENOMEM. */
int api_parse_oom(struct api_error *err);

/* Whether body[0..len) is an HTML page (its first non-blank byte is '<'):
 * a proxy's or a captive portal's, never the API's. */
bool api_looks_like_html(const char *body, size_t len);

/*
 * body[0..len) (not NUL-terminated) parsed into *out, the caller's to
 * cJSON_Delete. Returns 0, -EBADMSG when it is not JSON, or -ENOMEM when
 * there was no memory for a terminated copy.
 */
int api_json_parse(const char *body, size_t len, cJSON **out);

/* obj[key] (borrowed), or NULL when obj is not an object or has no such
 * member. */
const cJSON *api_json_get(const cJSON *obj, const char *key);

/* The string obj[key] (borrowed), or NULL when absent, not a string, or
 * empty. */
const char *api_json_str(const cJSON *obj, const char *key);

/* A malloc'd copy of s, or NULL when s is NULL or memory is short (then
 * ctx->oom is set). */
char *api_parse_strdup(struct api_parse_ctx *ctx, const char *s);

/* Milliseconds since the epoch from a number or a decimal string; 0 for
 * anything absent or implausible. */
int64_t api_json_time_ms(const cJSON *item);

/* A count: number, numeric string or bool (true is 1), clamped to a
 * billion; absent for anything else. */
long api_json_count(const cJSON *item, long absent);

/* true, a non-zero number or the string "true"; anything else is false. */
bool api_json_flag(const cJSON *item);

/* An id or cursor as a malloc'd C string: a string as sent, a number in
 * decimal. NULL when absent, empty or of another type. */
char *api_json_token_dup(struct api_parse_ctx *ctx, const cJSON *item);

/* "first last" (malloc'd) from an object's first_name and last_name; NULL
 * if neither. */
char *api_json_full_name(struct api_parse_ctx *ctx, const cJSON *obj);

/* body as a JSON object (*root, to cJSON_Delete), or a parse error: empty,
 * over API_MAX_BODY, not JSON (HTML said so), not an object. Both versions'
 * envelopes start here. */
int api_parse_object(const char *body, size_t len, cJSON **root,
		     struct api_error *err);

/*
 * The answer's root object (*root, the caller's to cJSON_Delete) and its
 * "data" object (*data, borrowed from *root); an error answer (status
 * "error", even under HTTP 200) fills err instead. 0 or -errno; on failure
 * *root is NULL.
 */
int api_parse_root(const char *body, size_t len, cJSON **root,
		   const cJSON **data, struct api_error *err);

/*
 * The same for a v2 answer (parse_v2.c): {"success": true, "data": {...},
 * "metadata": {"credits_consumed": N}}; success false (or an "error"
 * object) fills err with api_parse_error_v2. *credits is
 * metadata.credits_consumed, -1 when absent or not a count.
 */
int api_parse_root_v2(const char *body, size_t len, cJSON **root,
		      const cJSON **data, long *credits, struct api_error *err);

/* Which API an answer is parsed as: its envelope and its pagination. */
enum api_dialect { API_V1 = 1, API_V2 = 2 };

/*
 * api_parse_conversation(_v2) and api_parse_inbox(_v2) with the dialect
 * named, and (credits NULL, or) *credits set to the answer's
 * metadata.credits_consumed (-1: none, or v1) even when the answer is then
 * refused for its shape: what the API charged for it.
 */
int api_parse_conversation_as(const char *body, size_t len,
			      struct api_page **out, struct api_error *err,
			      enum api_dialect v, long *credits);
int api_parse_inbox_as(const char *body, size_t len,
		       struct api_inbox_page **out, struct api_error *err,
		       enum api_dialect v, long *credits);

/* Number of objects in array (other entries are skipped) into *n: 0, or
 * -E2BIG when the array is longer than we accept. */
int api_parse_count_objects(const cJSON *array, long *n);

/*
 * In clean.c: whether body, which cJSON parsed as an object, is also
 * strictly valid JSON wherever cJSON is lenient (UTF-8, strings, numbers,
 * no NUL, nothing after the value), so that its own bytes can be kept.
 */
bool api_json_strict(const char *body, size_t len);

/* item printed as one line of JSON fit for display (api_json_for_display),
 * repaired first unless ctx->clean; malloc'd, *n its length; NULL (and
 * ctx->oom) when memory is short. raw (may be NULL) is at item's own bytes
 * in the answer: when ctx->clean, the line is made from them
 * (api_json_print_line, the same bytes) unless they are unusual. In
 * clean.c. */
char *api_json_line(struct api_parse_ctx *ctx, cJSON *item,
		    struct api_json_elems *raw, bool newline, size_t *n);

/* data as JSON text ending in "\n" (for page-NNNN.json): the body itself
 * when it is clean (*whole), else data repaired and printed anew; either
 * way with the characters api_json_for_display hides escaped. In clean.c. */
char *api_json_compact(struct api_parse_ctx *ctx, cJSON *data, const char *body,
		       size_t len, bool *whole);

#endif
