/*
 * tests/fuzz/fuzz_util.h - checks shared by the libFuzzer harnesses.
 *
 * A harness states a property of the code's output and abort()s when it
 * fails, so libFuzzer records the input as a crash like any sanitizer
 * finding. The checks are written here from the contracts in api.h,
 * render.h and names.h, not from the code under test, so a shared bug
 * cannot hide itself.
 */
#ifndef LINKUPFS_FUZZ_UTIL_H
#define LINKUPFS_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Report which property failed (the input is saved by libFuzzer). */
#define FUZZ_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: property violated: %s\n",      \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/*
 * Length of the well-formed UTF-8 sequence at s[0..n), or 0. Decodes the
 * code point and checks its range (the classic way), unlike the code under
 * test, which checks byte ranges (Unicode Table 3-7).
 */
static inline size_t fuzz_utf8_len(const unsigned char *s, size_t n,
				   uint32_t *cp_out)
{
	static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		len = 1, cp = s[0];
	else if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp_out)
		*cp_out = cp;
	return len;
}

static inline bool fuzz_utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		k = fuzz_utf8_len(u + i, n - i, NULL);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

/* The bidirectional embedding, override and isolate controls. */
static inline bool fuzz_is_bidi_control(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* api.h's promise for JSON text: valid UTF-8, no raw DEL, C1 or bidi
 * control (they are \u escapes). */
static inline bool fuzz_json_display_safe(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;
	uint32_t cp = 0;

	while (i < n) {
		k = fuzz_utf8_len(u + i, n - i, &cp);
		if (!k || (cp >= 0x7f && cp <= 0x9f) ||
		    fuzz_is_bidi_control(cp))
			return false;
		i += k;
	}
	return true;
}

/*
 * render_safe's promise (render.h): valid UTF-8 with no C0 control other
 * than \t (and \n when allowed), no DEL, no C1 control (U+0080..U+009F),
 * no bidirectional control.
 */
static inline bool fuzz_text_safe(const char *s, size_t n, bool allow_newline)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;
	uint32_t cp = 0;

	while (i < n) {
		k = fuzz_utf8_len(u + i, n - i, &cp);
		if (!k)
			return false;
		if (cp < 0x20 && cp != '\t' && !(cp == '\n' && allow_newline))
			return false;
		if ((cp >= 0x7f && cp <= 0x9f) || fuzz_is_bidi_control(cp))
			return false;
		i += k;
	}
	return true;
}

/* An error line fit for the log: NUL-terminated within its array and
 * printable ASCII only (a hostile body cannot forge or colour log lines). */
static inline bool fuzz_message_printable(const char *msg, size_t size)
{
	const char *end = memchr(msg, '\0', size);
	const char *p;

	if (!end)
		return false;
	for (p = msg; p < end; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return true;
}

/* data[0..size) as a fresh NUL-terminated string, so ASan sees its exact
 * end; NULL only when memory is short (the harness then gives up). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

#endif
