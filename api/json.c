/*
 * api/json.c - JSON text byte for byte, where cJSON falls short (json.h).
 *
 * cJSON keeps no offsets into the text it parsed, but it keeps the order:
 * walking the tree depth first, each object member's key and each string
 * value come in the same order as the string tokens of the text. So one
 * pass over both finds the token of any string, with no JSON grammar here
 * but what delimits a string.
 *
 * Also the one scanner of string tokens (api_json_string_len), which
 * json_line.c and clean.c use too.
 */
#include "json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The string tokens of a JSON text, in order, and room to decode one. */
struct tokens {
	const char *s;
	size_t len, pos;
	char *scratch; /* decoded token, scratch_size bytes */
	size_t scratch_size;
};

static const uint64_t ones = 0x0101010101010101u, highs = ones << 7;

/* Whether a byte of w is b (broadcast in bb); no false negatives, and a
 * false positive only above a true one. */
static uint64_t has_byte(uint64_t w, uint64_t bb)
{
	uint64_t x = w ^ bb;

	return (x - ones) & ~x & highs;
}

/* The bytes of w that end a run inside a string: '"' and '\\', and when
 * strict the controls (below 0x20) and every byte from 0x7f too; each as
 * its high bit. The lowest is always a true one. */
static uint64_t stops(uint64_t w, bool strict)
{
	uint64_t m = has_byte(w, '"' * ones) | has_byte(w, '\\' * ones);

	if (strict)
		m |= ((w - ' ' * ones) & ~w & highs) |
		     ((w | (w + ones)) & highs);
	return m;
}

static bool is_stop(unsigned char c, bool strict)
{
	return c == '"' || c == '\\' || (strict && (c < 0x20 || c >= 0x7f));
}

/* Which byte of w the lowest bit of m (not 0) is: the first in memory
 * order. */
static size_t first_stop(uint64_t m)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (size_t)__builtin_ctzll(m) / 8;
#else
	(void)m;
	return 0; /* the byte loop finds it */
#endif
}

/* Length of the run at s[0..n) without a stop, eight bytes at a time
 * while it can; copied to out (room for n bytes) unless out is NULL.
 * Inlined where strict and out are constants, so each use gets its own
 * loop. */
static inline __attribute__((always_inline)) size_t
run_len(char *out, const char *s, size_t n, bool strict)
{
	size_t i = 0;
	uint64_t w, m;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if (out)
			memcpy(out + i, &w, 8);
		m = stops(w, strict);
		if (m) {
			i += first_stop(m);
			break;
		}
	}
	for (; i < n && !is_stop((unsigned char)s[i], strict); i++)
		if (out)
			out[i] = s[i];
	return i;
}

size_t api_json_copy_run(char *out, const char *s, size_t n)
{
	return run_len(out, s, n, true);
}

size_t api_json_utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Length of the escape at s[0..n) (s[0] is the backslash) when JSON has
 * it and it is no surrogate (a lone one would decode to bytes that are
 * not UTF-8); else 0. */
static size_t strict_escape_len(const char *s, size_t n)
{
	if (n < 2)
		return 0;
	if (s[1] != 'u')
		return s[1] && strchr("\"\\/bfnrt", s[1]) ? 2 : 0;
	if (n < 6 || (s[2] | 0x20) == 'd' || api_json_hex4(s + 2) < 0)
		return 0;
	return 6;
}

static inline __attribute__((always_inline)) size_t
string_len(const char *s, size_t n, bool strict)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 1, k;

	while (i < n) {
		i += run_len(NULL, s + i, n - i, strict);
		if (i >= n)
			break;
		if (u[i] == '"')
			return i + 1;
		if (u[i] == '\\')
			k = strict ? strict_escape_len(s + i, n - i) : 2;
		else if (u[i] < 0x20)
			k = 0;
		else
			k = api_json_utf8_len(u + i, n - i);
		if (!k)
			return 0;
		i += k;
	}
	return 0;
}

size_t api_json_string_len(const char *s, size_t n, bool strict)
{
	return strict ? string_len(s, n, true) : string_len(s, n, false);
}

/* The next string token, s[*at .. *at + *n) from quote to quote: outside
 * strings, JSON has no '"'. */
static bool next_string(struct tokens *t, size_t *at, size_t *n)
{
	const char *q = memchr(t->s + t->pos, '"', t->len - t->pos);

	if (!q)
		return false;
	*at = (size_t)(q - t->s);
	*n = api_json_string_len(q, t->len - *at, false);
	if (!*n)
		return false;
	t->pos = *at + *n;
	return true;
}

int api_json_hex4(const char *s)
{
	int v = 0, d;

	for (int i = 0; i < 4; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f')
			d = (s[i] | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	return v;
}

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The \u escape at s[0..n) (s[0] is 'u'), a surrogate pair as one code
 * point: its length, or 0 when malformed (cJSON refuses lone surrogates). */
static size_t unicode_escape(const char *s, size_t n, uint32_t *cp)
{
	int hi, lo;

	if (n < 5 || (hi = api_json_hex4(s + 1)) < 0 ||
	    (hi >= 0xdc00 && hi <= 0xdfff))
		return 0;
	*cp = (uint32_t)hi;
	if (hi < 0xd800 || hi > 0xdbff)
		return 5;
	if (n < 11 || s[5] != '\\' || s[6] != 'u' ||
	    (lo = api_json_hex4(s + 7)) < 0xdc00 || lo > 0xdfff)
		return 0;
	*cp = 0x10000 + (((uint32_t)hi - 0xd800) << 10) +
	      ((uint32_t)lo - 0xdc00);
	return 11;
}

/* Decode the string token tok[0..n) (quotes included) into out, which has
 * room for n bytes. Returns the decoded length, or -1 when malformed. */
static long decode_string(const char *tok, size_t n, char *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	size_t i = 1, o = 0, k, end = n - 1;
	const char *e;
	uint32_t cp;

	while (i < end) {
		if (tok[i] != '\\') {
			out[o++] = tok[i++];
			continue;
		}
		if (i + 1 >= end)
			return -1;
		if (tok[i + 1] == 'u') {
			k = unicode_escape(tok + i + 1, end - i - 1, &cp);
			if (!k)
				return -1;
			o += put_utf8(out + o, cp);
			i += 1 + k;
			continue;
		}
		e = memchr(from, tok[i + 1], sizeof(from) - 1);
		if (!e)
			return -1;
		out[o++] = to[e - from];
		i += 2;
	}
	out[o] = '\0';
	return (long)o;
}

/* s[0..len) as a JSON string, quotes included (cJSON_malloc'd): '"', '\\'
 * and the C0 controls escaped, NUL included; every other byte as it is. */
static char *encode_string(const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char *out = cJSON_malloc(6 * len + 3), *o;
	unsigned char c;

	if (!out)
		return NULL;
	o = out;
	*o++ = '"';
	for (size_t i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 0xf];
			o += 6;
		} else {
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

/* Decode the next token into t->scratch: its length, -1 when cJSON took
 * an escape that JSON does not have ("\uzzzz"), -EPROTO when there is no
 * token left, or -ENOMEM. */
static long next_decoded(struct tokens *t)
{
	size_t at, n;
	char *bigger;

	if (!next_string(t, &at, &n))
		return -EPROTO;
	if (n > t->scratch_size) {
		bigger = realloc(t->scratch, n);
		if (!bigger)
			return -ENOMEM;
		t->scratch = bigger;
		t->scratch_size = n;
	}
	return decode_string(t->s + at, n, t->scratch);
}

/* Whether the decoded token (dlen bytes) is what cJSON made of it: the
 * same bytes up to the first NUL. */
static bool same_as_cjson(const struct tokens *t, long dlen, const char *cj)
{
	size_t cut = strnlen(t->scratch, (size_t)dlen);

	return cj && strlen(cj) == cut && memcmp(cj, t->scratch, cut) == 0;
}

/* Check the next token against cJSON's string s: 0 with *dlen its decoded
 * length (bytes in t->scratch), or -1 when it cannot be decoded (s stays
 * as cJSON made it); -EPROTO when it is not s's token; -ENOMEM. */
static int next_token_of(struct tokens *t, const char *s, long *dlen)
{
	*dlen = next_decoded(t);
	if (*dlen == -1)
		return 0;
	if (*dlen < 0)
		return (int)*dlen;
	return same_as_cjson(t, *dlen, s) ? 0 : -EPROTO;
}

/* Turn string item into a raw one when its token (the next) holds a NUL.
 * 0, -EPROTO when the token is not item's, or -ENOMEM. */
static int keep_one(cJSON *item, struct tokens *t)
{
	long dlen;
	int rc = next_token_of(t, item->valuestring, &dlen);
	char *spelt;

	if (rc || dlen < 0 || strlen(t->scratch) == (size_t)dlen)
		return rc;
	spelt = encode_string(t->scratch, (size_t)dlen);
	if (!spelt)
		return -ENOMEM;
	cJSON_free(item->valuestring);
	item->valuestring = spelt;
	item->type = cJSON_Raw;
	return 0;
}

/* item and its siblings, depth first, against the tokens from t->pos. */
static int walk(cJSON *item, struct tokens *t)
{
	long dlen;
	int rc;

	for (; item; item = item->next) {
		if (item->string) { /* an object member: its key comes first */
			rc = next_token_of(t, item->string, &dlen);
			if (rc)
				return rc;
		}
		if (cJSON_IsString(item))
			rc = keep_one(item, t);
		else
			rc = walk(item->child, t);
		if (rc)
			return rc;
	}
	return 0;
}

int api_json_keep_nul(cJSON *root, const char *body, size_t len)
{
	struct tokens t = {.s = body, .len = len};
	int rc = walk(root, &t);

	free(t.scratch);
	return rc == -ENOMEM ? -ENOMEM : 0;
}

int api_json_raw_bytes(const cJSON *item, char **out, size_t *out_len)
{
	size_t n;
	long dlen;
	char *bytes;

	*out = NULL;
	*out_len = 0;
	if (!cJSON_IsRaw(item) || !item->valuestring)
		return -EINVAL;
	n = strlen(item->valuestring);
	if (n < 2 || item->valuestring[0] != '"' ||
	    item->valuestring[n - 1] != '"')
		return -EINVAL;
	bytes = malloc(n);
	if (!bytes)
		return -ENOMEM;
	dlen = decode_string(item->valuestring, n, bytes);
	if (dlen < 0) {
		free(bytes);
		return -EINVAL;
	}
	*out = bytes;
	*out_len = (size_t)dlen;
	return 0;
}
