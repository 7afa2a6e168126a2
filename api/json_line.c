/*
 * api/json_line.c - JSON text made safe to display, and the one line
 * cJSON_PrintUnformatted would print of a value, made straight from the
 * bytes of a strictly valid text (json.h).
 *
 * The line is what cJSON would print of what it parsed, with no tree in
 * between: no whitespace between tokens, each string decoded and spelt
 * again as cJSON spells it ('"', '\\' and the C0 controls escaped, \b \f
 * \n \r \t by name, every other character as UTF-8), numbers and literals
 * as written. Whatever cJSON might print otherwise (a number that is not a
 * plain integer of at most 15 digits, "-0", a string holding a NUL) makes
 * it give up, and the caller prints the tree instead.
 */
#include "json.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char hex[] = "0123456789abcdef";

/* Length of the character at s[0..n) to show as a \u escape, or 0. In
 * valid UTF-8 these bytes start a character wherever they appear. */
static size_t hidden_len(const unsigned char *s, size_t n)
{
	if (s[0] == 0x7f)
		return 1;
	if (s[0] == 0xc2 && n >= 2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	if (s[0] == 0xe2 && n >= 3 &&
	    ((s[1] == 0x80 && s[2] >= 0xaa && s[2] <= 0xae) ||
	     (s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)))
		return 3;
	return 0;
}

static uint32_t hidden_cp(const unsigned char *s, size_t k)
{
	if (k == 1)
		return s[0];
	if (k == 2)
		return s[1];
	return 0x2000u | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
}

static bool hidden(uint32_t cp)
{
	return cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* "\uXXXX" of cp (below 0x10000) at out: 6 bytes. */
static void put_escape(char *out, uint32_t cp)
{
	out[0] = '\\';
	out[1] = 'u';
	for (int d = 0; d < 4; d++)
		out[2 + d] = hex[cp >> (12 - 4 * d) & 0xf];
}

/* Length of the run at s[0..n) of bytes below 0x7f, which never start a
 * hidden character: eight at a time while it can. */
static size_t plain_run(const unsigned char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101u, highs = ones << 7;
	size_t i = 0;
	uint64_t w;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if ((w | (w + ones)) & highs) /* a byte >= 0x7f */
			break;
	}
	while (i < n && s[i] < 0x7f)
		i++;
	return i;
}

/* json[0..len) for display into out (NULL: only measure); its length. */
static size_t display_copy(char *out, const unsigned char *s, size_t len)
{
	size_t i = 0, o = 0, run, k;

	while (i < len) {
		run = plain_run(s + i, len - i);
		if (out)
			memcpy(out + o, s + i, run);
		i += run;
		o += run;
		if (i >= len)
			break;
		k = hidden_len(s + i, len - i);
		if (!k) {
			if (out)
				out[o] = (char)s[i];
			i++;
			o++;
			continue;
		}
		if (out)
			put_escape(out + o, hidden_cp(s + i, k));
		i += k;
		o += 6;
	}
	return o;
}

char *api_json_for_display(const char *json, size_t len, bool newline,
			   size_t *out_len)
{
	const unsigned char *s = (const unsigned char *)json;
	size_t o = display_copy(NULL, s, len);
	char *out = malloc(o + 2);

	if (!out)
		return NULL;
	if (o == len)
		memcpy(out, json, len);
	else
		display_copy(out, s, len);
	if (newline)
		out[o++] = '\n';
	out[o] = '\0';
	*out_len = o;
	return out;
}

/* The output of api_json_print_line: room kept for all the input left
 * spelt as it is, plus what escapes added (grow() before each one). */
struct line {
	char *out;
	size_t o, cap;
};

/* Room for k more bytes than the input left (n bytes) will take. */
static int grow(struct line *l, size_t k, size_t n)
{
	size_t need = l->o + k + n + 2, cap = l->cap;
	char *bigger;

	if (need <= cap)
		return 0;
	while (cap < need)
		cap *= 2;
	bigger = realloc(l->out, cap);
	if (!bigger)
		return -ENOMEM;
	l->out = bigger;
	l->cap = cap;
	return 0;
}

/* The character cp (below 0x10000, not NUL), decoded from an escape, as
 * cJSON prints it and api_json_for_display shows it. Its input took 2 or
 * 6 bytes, so at most 6 bytes of output keep l's room (grow() first). */
static void put_decoded(struct line *l, uint32_t cp)
{
	static const char names[] = "btnvfr";
	char *o = l->out + l->o;

	if (cp == '"' || cp == '\\') {
		o[0] = '\\';
		o[1] = (char)cp;
		l->o += 2;
	} else if (cp >= '\b' && cp <= '\r' && cp != 0x0b) {
		o[0] = '\\';
		o[1] = names[cp - '\b'];
		l->o += 2;
	} else if (cp < 0x20 || hidden(cp)) {
		put_escape(o, cp);
		l->o += 6;
	} else if (cp < 0x80) {
		o[0] = (char)cp;
		l->o += 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		l->o += 2;
	} else {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		l->o += 3;
	}
}

/* The escape at s[i] (a backslash) into l; its length, 0 to give up. */
static size_t escape(struct line *l, const char *s, size_t len, size_t i)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	int cp;

	if (i + 1 >= len)
		return 0;
	if (s[i + 1] != 'u') {
		e = memchr(from, s[i + 1], sizeof(from) - 1);
		if (!s[i + 1] || !e)
			return 0;
		put_decoded(l, (unsigned char)to[e - from]);
		return 2;
	}
	if (i + 6 > len || (cp = api_json_hex4(s + i + 2)) <= 0 ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0; /* NUL, a surrogate (not in a clean text), not hex */
	put_decoded(l, (uint32_t)cp);
	return 6;
}

/* The string token at s[i] ('"') into l; the index past it, 0 to give up
 * (or -ENOMEM in *rc). */
static size_t string(struct line *l, const char *s, size_t len, size_t i,
		     int *rc)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k;

	l->out[l->o++] = s[i++];
	while (i < len) {
		unsigned char c;

		/* room: o + (len - i) + 2 <= cap */
		k = api_json_copy_run(l->out + l->o, s + i, len - i);
		i += k;
		l->o += k;
		if (i >= len)
			break;
		c = u[i];
		if (c == '"') {
			l->out[l->o++] = '"';
			return i + 1;
		}
		if (c < 0x20)
			return 0; /* not strictly valid */
		if (c == '\\') {
			if ((*rc = grow(l, 6, len - i)) != 0)
				return 0;
			k = escape(l, s, len, i);
			if (!k)
				return 0;
			i += k;
			continue;
		}
		k = hidden_len(u + i, len - i);
		if (!k) {
			l->out[l->o++] = (char)c;
			i++;
			continue;
		}
		if ((*rc = grow(l, 6, len - i)) != 0)
			return 0;
		put_escape(l->out + l->o, hidden_cp(u + i, k));
		l->o += 6;
		i += k;
	}
	return 0;
}

/* The number at s[i] copied into l when cJSON prints it as it is written
 * (an integer of 1 to 15 digits, not "-0"): the index past it, or 0. */
static size_t number(struct line *l, const char *s, size_t len, size_t i)
{
	size_t start = i, d;

	if (s[i] == '-')
		i++;
	d = i;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == d || i - d > 15 || (s[d] == '0' && i - d > 1) ||
	    (s[d] == '0' && d > start))
		return 0;
	if (i < len && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
		return 0;
	memcpy(l->out + l->o, s + start, i - start);
	l->o += i - start;
	return i;
}

/* A literal (true, false, null) at s[i] copied into l: the index past it,
 * or 0. */
static size_t literal(struct line *l, const char *s, size_t len, size_t i)
{
	static const char *const words[] = {"true", "false", "null"};
	size_t n;

	for (int w = 0; w < 3; w++) {
		n = strlen(words[w]);
		if (len - i >= n && memcmp(s + i, words[w], n) == 0) {
			memcpy(l->out + l->o, words[w], n);
			l->o += n;
			return i + n;
		}
	}
	return 0;
}

/* The value at s[0..len) into l: the index past it, 0 to give up
 * (-ENOMEM in *rc). */
static size_t value(struct line *l, const char *s, size_t len, int *rc)
{
	size_t i = 0;
	long depth = 0;

	while (i < len) {
		char c = s[i];

		switch (c) {
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			i++;
			continue;
		case '{':
		case '[':
			depth++;
			l->out[l->o++] = c;
			i++;
			break;
		case '}':
		case ']':
			if (--depth < 0)
				return 0;
			l->out[l->o++] = c;
			i++;
			break;
		case ',':
		case ':':
			l->out[l->o++] = c;
			i++;
			continue;
		case '"':
			i = string(l, s, len, i, rc);
			break;
		case 't':
		case 'f':
		case 'n':
			i = literal(l, s, len, i);
			break;
		default:
			i = c == '-' || (c >= '0' && c <= '9')
				    ? number(l, s, len, i)
				    : 0;
		}
		if (!i)
			return 0;
		if (depth == 0)
			return i;
	}
	return 0;
}

static size_t skip_space(const char *s, size_t len, size_t i);
static size_t value_end(const char *s, size_t len, size_t i);

int api_json_print_line(const char *json, size_t len, bool newline, char **out,
			size_t *out_len, size_t *used)
{
	struct line l = {0};
	size_t start = skip_space(json, len, 0), end;
	int rc = 0;

	*out = NULL;
	*out_len = 0;
	*used = 0;
	/* the value alone: json runs on to the end of the answer (a number
	 * or a word may end with it) */
	if (start >= len)
		return -EINVAL;
	end = value_end(json, len, start);
	if (!end && !strchr("\"{[", json[start]))
		end = len;
	if (!end)
		return -EINVAL;
	len = end;
	l.cap = len + 16;
	l.out = malloc(l.cap);
	if (!l.out)
		return -ENOMEM;
	*used = value(&l, json, len, &rc);
	if (!*used) {
		free(l.out);
		return rc ? rc : -EINVAL;
	}
	if (newline)
		l.out[l.o++] = '\n';
	l.out[l.o] = '\0';
	*out = l.out;
	*out_len = l.o;
	return 0;
}

static size_t skip_space(const char *s, size_t len, size_t i)
{
	while (i < len &&
	       (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* Index past the string token at s[i] ('"'), 0 when it does not end. */
static size_t string_end(const char *s, size_t len, size_t i)
{
	size_t n = api_json_string_len(s + i, len - i, false);

	return n ? i + n : 0;
}

/* Index past the value at s[i], 0 when it does not end. */
static size_t value_end(const char *s, size_t len, size_t i)
{
	long depth = 0;

	if (s[i] == '"')
		return string_end(s, len, i);
	if (s[i] != '{' && s[i] != '[') {
		while (i < len && !strchr(",]} \t\n\r", s[i]))
			i++;
		return i < len ? i : 0;
	}
	while (i < len) {
		if (s[i] == '"') {
			i = string_end(s, len, i);
			if (!i)
				return 0;
			continue;
		}
		if (s[i] == '{' || s[i] == '[')
			depth++;
		else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return 0;
}

/* Where the value of the first member named key of the object at s[i]
 * starts, as cJSON_GetObjectItemCaseSensitive finds it; 0 when there is
 * none, or a key before it holds an escape (whose meaning is not
 * compared here). */
static size_t member(const char *s, size_t len, size_t i, const char *key)
{
	size_t n = strlen(key), end;
	bool match;

	if (i >= len || s[i] != '{')
		return 0;
	i = skip_space(s, len, i + 1);
	while (i < len && s[i] == '"') {
		end = string_end(s, len, i);
		if (!end || memchr(s + i, '\\', end - i))
			return 0;
		match = end - i - 2 == n && memcmp(s + i + 1, key, n) == 0;
		i = skip_space(s, len, end);
		if (i >= len || s[i] != ':')
			return 0;
		i = skip_space(s, len, i + 1);
		if (i >= len)
			return 0;
		if (match)
			return i;
		i = value_end(s, len, i);
		if (!i)
			return 0;
		i = skip_space(s, len, i);
		if (i >= len || s[i] != ',')
			return 0;
		i = skip_space(s, len, i + 1);
	}
	return 0;
}

bool api_json_elems_open(struct api_json_elems *e, const char *body, size_t len,
			 const char *const *path)
{
	size_t i = skip_space(body, len, 0);

	for (; *path; path++) {
		i = member(body, len, i, *path);
		if (!i)
			return false;
	}
	if (i >= len || body[i] != '[')
		return false;
	e->s = body;
	e->len = len;
	e->at = i; /* the '[' */
	e->end = 0;
	e->first = true;
	return true;
}

bool api_json_elems_next(struct api_json_elems *e, size_t *at)
{
	size_t i;

	if (e->at >= e->len)
		return false;
	if (e->first) {
		e->first = false;
		i = skip_space(e->s, e->len, e->at + 1);
	} else {
		i = e->end ? e->end : value_end(e->s, e->len, e->at);
		i = i ? skip_space(e->s, e->len, i) : e->len;
		if (i < e->len && e->s[i] == ',')
			i = skip_space(e->s, e->len, i + 1);
		else
			i = e->len; /* ']': no more */
	}
	e->end = 0;
	e->at = i;
	if (i >= e->len || e->s[i] == ']') {
		e->at = e->len;
		return false;
	}
	*at = i;
	return true;
}

void api_json_elems_done(struct api_json_elems *e, size_t n)
{
	e->end = e->at + n;
}
