/*
 * api/json.h - JSON text byte for byte, where cJSON falls short; shared by
 * the files of api/ only (the module's contract is api.h).
 *
 * cJSON ends every string at its first NUL, so a "\u0000" in a message's
 * text would cut it short. api_json_keep_nul() finds such strings again in
 * the answer's own bytes and turns them into raw items that print exactly;
 * api_json_raw_bytes() gives their bytes back (json.c, which holds the
 * one scanner of string tokens too). In json_line.c:
 * api_json_for_display() makes JSON text safe to show in a terminal without
 * changing what it means; api_json_print_line() makes the line cJSON would
 * print of a value straight from a strictly valid text, whose values
 * api_json_elems finds. Pure functions, no global state.
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

/* The value of the four hex digits at s, or -1 when they are not. In
 * json.c. */
int api_json_hex4(const char *s);

/*
 * The one scanner of string tokens. s[0] is the '"' that opens one: its
 * length, both quotes included, or 0 when it does not end within
 * s[0..n). Not strict: a backslash escapes the next byte, whatever it is.
 * Strict: 0 too unless the token is strictly valid JSON (UTF-8, no raw
 * control character, only the escapes JSON has, no surrogate escape). In
 * json.c, as the next two.
 */
size_t api_json_string_len(const char *s, size_t n, bool strict);

/* Length of the run at s[0..n) of bytes a JSON string holds as they are,
 * printable ASCII but '"' and '\\', copied to out (room for n bytes):
 * eight at a time while it can. */
size_t api_json_copy_run(char *out, const char *s, size_t n);

/* Length of the valid UTF-8 sequence at s (n bytes left, at least 1), 0
 * when it is not one (overlong, surrogate, past U+10FFFF, cut short). */
size_t api_json_utf8_len(const unsigned char *s, size_t n);

/*
 * The value that starts json[0..len) (whitespace may come first; what
 * follows it is not read), in a strictly valid JSON text (api_json_strict
 * in parse.h), as api_json_for_display() shows what cJSON_PrintUnformatted
 * prints of it once cJSON parsed it, byte for byte, without the tree: into
 * *out (malloc'd, NUL-terminated, *out_len bytes before the NUL; newline
 * appends "\n"), *used the bytes it took. Returns 0; -EINVAL when that
 * value might print otherwise (a number other than an integer of at most
 * 15 digits, "-0", a string holding a NUL, anything not strictly valid):
 * print the tree then; or -ENOMEM.
 */
int api_json_print_line(const char *json, size_t len, bool newline, char **out,
			size_t *out_len, size_t *used);

/* The elements of one array of a strictly valid JSON text, in order. */
struct api_json_elems {
	const char *s; /* borrowed: the text */
	size_t len;
	size_t at;  /* the current element (at first, the '[') */
	size_t end; /* where it ends, 0 until known */
	bool first;
};

/* e before the first element of the array body[path[0]][path[1]]...
 * (path ends with NULL), each member found as
 * cJSON_GetObjectItemCaseSensitive finds it (the first of that name).
 * false when there is no such array, or a key before one on the path is
 * spelt with an escape. */
bool api_json_elems_open(struct api_json_elems *e, const char *body, size_t len,
			 const char *const *path);

/* The next element starts at e->s[*at]; false after the last. */
bool api_json_elems_next(struct api_json_elems *e, size_t *at);

/* The current element is n bytes long (as api_json_print_line found), so
 * the next needs no scan past it. */
void api_json_elems_done(struct api_json_elems *e, size_t n);

#endif
