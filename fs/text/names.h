/*
 * fs/text/names.h - directory names for conversations (SPEC section 3).
 *
 * A name is the other participant's profile slug, percent-decoded
 * ("https://www.linkedin.com/in/al%C3%A9s-pr%C3%A9w-aa0262324/" gives
 * "alés-préw-aa0262324"). Where there is no usable slug, a short stable name
 * derived from the conversation id ("conv-" and 12 hex digits of a hash).
 *
 * A slug is usable when, once decoded, it is valid UTF-8 with no control
 * characters (nor the bidirectional controls render.h shows as "<U+202E>"),
 * no '/', no NUL, does not start with '.', and is not empty; it
 * is cut (at a character boundary) to NAME_MAX_BASE bytes so a "-NN" suffix
 * still fits in 255. Pure functions, thread-safe.
 */
#ifndef LINKUPFS_NAMES_H
#define LINKUPFS_NAMES_H

#include <stddef.h>

#define NAME_MAX_BASE 240
#define NAME_SIZE 256 /* buffer for a name and its NUL */

/* The slug of a LinkedIn profile URL (the path segment after "/in/"),
 * percent-decoded and checked as above, into out. Returns 0, or -1 when the
 * URL has no usable slug (out is then ""). */
int name_slug_from_url(const char *profile_url, char out[NAME_SIZE]);

/* The name for a conversation: the slug of profile_url (may be NULL), else
 * the id-derived name. Always succeeds. */
void name_for_conversation(const char *profile_url, const char *conversation_id,
			   char out[NAME_SIZE]);

/* base with suffix n >= 2 ("base-2"), within NAME_SIZE. */
void name_with_suffix(const char *base, int n, char out[NAME_SIZE]);

#endif
