/*
 * api/json.h - JSON text byte for byte, where cJSON falls short; shared by
 * the files of api/ only (the module's contract is api.h).
 *
 * cJSON ends every string at its first NUL, so a "\u0000" in a message's
 * text would cut it short. api_json_keep_nul() finds such strings again in
 * the answer's own bytes and turns them into raw items that print exactly;
 * api_json_raw_bytes() gives their bytes back. api_json_for_display() makes
 * JSON text safe to show in a terminal without changing what it means.
 * Pure functions, no global state.
 */
#ifndef LINKUPFS_API_JSON_H
#define LINKUPFS_API_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * root is what cJSON parsed from body[0..len) (not NUL-terminated). Every
 * string value of the tree that holds a NUL becomes a cJSON_Raw item whose
 * valuestring is the string's full JSON spelling, quotes included (NUL as
 * \u0000; other bytes as decoded, invalid UTF-8 left for the caller to
 * repair). Keys are left as cJSON cut them. When the tree and the bytes do
 * not line up (never for an answer cJSON accepted), it stops there and the
 * rest stays as cJSON made it. Returns 0 or -ENOMEM.
 */
int api_json_keep_nul(cJSON *root, const char *body, size_t len);

/* The bytes of a raw string item made by api_json_keep_nul into *out
 * (malloc'd, NUL-terminated, *out_len bytes before that NUL). Returns 0,
 * -EINVAL when item is no such item, or -ENOMEM. */
int api_json_raw_bytes(const cJSON *item, char **out, size_t *out_len);

/*
 * A malloc'd copy of valid JSON text json[0..len) where DEL, the C1
 * controls (U+0080..U+009F) and the bidirectional controls (U+202A..U+202E,
 * U+2066..U+2069) are \u escapes, so neither a terminal nor a text viewer
 * acts on them; the value is the same for any JSON reader. newline appends
 * "\n". NUL-terminated, *out_len bytes before the NUL; NULL on no memory.
 */
char *api_json_for_display(const char *json, size_t len, bool newline,
			   size_t *out_len);

#endif
