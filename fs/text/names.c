/*
 * fs/text/names.c - directory names for conversations (see names.h).
 */
#include "names.h"
#include "render.h"
#include "utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) into out (room for n + 1 bytes). Returns the decoded
 * length, or -1 on a '%' not followed by two hex digits. */
static long percent_decode(const char *s, size_t n, char *out)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (n - i < 3)
			return -1;
		hi = hex_value(s[i + 1]);
		lo = hex_value(s[i + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	return (long)o;
}

/*
 * Length of the well-formed UTF-8 character at s[0..n) that is fit for a
 * file name (no C0, DEL or C1 control, no '/', no NUL, no bidirectional
 * control: a listing must show the name as it is), or 0.
 */
static size_t name_char_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len = utf8_next(s, n, &cp);

	if (cp == UTF8_BAD || cp < 0x20 || cp == '/' ||
	    (cp >= 0x7f && cp <= 0x9f) || render_is_bidi_control(cp))
		return 0;
	return len;
}

static bool name_is_usable(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	if (n == 0 || s[0] == '.')
		return false;
	while (i < n) {
		k = name_char_len(u + i, n - i);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

/* The largest length <= max that does not split a UTF-8 character of s. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

int name_slug_from_url(const char *profile_url, char out[NAME_SIZE])
{
	const char *seg;
	char *dec = NULL;
	size_t seglen;
	long n;
	int ret = -1;

	out[0] = '\0';
	if (!profile_url)
		return -1;
	seg = strstr(profile_url, "/in/");
	if (!seg)
		return -1;
	seg += 4;
	seglen = strcspn(seg, "/?#");
	dec = malloc(seglen + 1);
	if (!dec)
		goto out;
	n = percent_decode(seg, seglen, dec);
	if (n < 0 || !name_is_usable(dec, (size_t)n))
		goto out;
	n = (long)utf8_cut(dec, (size_t)n, NAME_MAX_BASE);
	memcpy(out, dec, (size_t)n);
	out[n] = '\0';
	ret = 0;
out:
	free(dec);
	return ret;
}

/* 64-bit FNV-1a: small, stable across runs and machines. */
static uint64_t fnv1a64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

void name_for_conversation(const char *profile_url, const char *conversation_id,
			   char out[NAME_SIZE])
{
	uint64_t h;

	if (name_slug_from_url(profile_url, out) == 0)
		return;
	/* the top 48 bits: FNV's multiply mixes the high bits best */
	h = fnv1a64(conversation_id ? conversation_id : "") >> 16;
	snprintf(out, NAME_SIZE, "conv-%012llx", (unsigned long long)h);
}

void name_with_suffix(const char *base, int n, char out[NAME_SIZE])
{
	char suffix[16];
	size_t slen, blen;

	if (!base)
		base = "";
	slen = (size_t)snprintf(suffix, sizeof(suffix), "-%d", n);
	blen = utf8_cut(base, strlen(base), NAME_SIZE - 1 - slen);
	memcpy(out, base, blen);
	memcpy(out + blen, suffix, slen + 1);
}
