/*
 * fs/text/render.c - the text format of SPEC section 4, and safe text.
 */
#include "render.h"

#include "utf8.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

static bool must_escape(uint32_t cp, bool keep_newlines)
{
	if (cp == '\t' || (cp == '\n' && keep_newlines))
		return false;
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

static void put_hex_escape(struct buf *out, uint32_t cp)
{
	static const char hex[] = "0123456789abcdef";
	char e[4] = {'\\', 'x', hex[(cp >> 4) & 0xf], hex[cp & 0xf]};

	buf_append(out, e, sizeof(e));
}

bool render_is_bidi_control(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* "<U+202E>": the notation of the Unicode standard, upper-case hex. */
static void put_code_point(struct buf *out, uint32_t cp)
{
	char e[16];
	int n = snprintf(e, sizeof(e), "<U+%04X>", (unsigned)cp);

	buf_append(out, e, (size_t)n);
}

/* Append the shown form of the character cp (k bytes at s) that cannot
 * pass as it is. */
static void put_shown(struct buf *out, const unsigned char *s, size_t len,
		      uint32_t cp, bool keep_newlines)
{
	if (cp == UTF8_BAD)
		buf_append(out, replacement, 3);
	else if (render_is_bidi_control(cp))
		put_code_point(out, cp);
	else if (!(cp == '\r' && keep_newlines && len > 1 && s[1] == '\n'))
		put_hex_escape(out, cp); /* "\r\n" is one newline */
}

/* Safe runs are copied in one append; only replaced characters break them. */
void render_safe(struct buf *out, const char *s, size_t len, bool keep_newlines)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0, k;
	uint32_t cp;

	while (i < len) {
		k = utf8_next(u + i, len - i, &cp);
		if (cp != UTF8_BAD && !must_escape(cp, keep_newlines) &&
		    !render_is_bidi_control(cp)) {
			i += k;
			continue;
		}
		buf_append(out, s + run, i - run);
		put_shown(out, u + i, len - i, cp, keep_newlines);
		i += k;
		run = i;
	}
	buf_append(out, s + run, len - run);
}

/*
 * Clamp to years 0001..9999 with two days to spare for any UTC offset, so
 * "%Y" always gives four digits and localtime_r never overflows.
 */
#define TIME_MIN_S (-62135596800LL + 2 * 86400)
#define TIME_MAX_S (253402300799LL - 2 * 86400)

void render_time(int64_t ms, char out[32])
{
	int64_t sec = ms / 1000;
	struct tm tm;
	time_t t;

	if (ms % 1000 < 0) /* floor: -1 ms is 23:59:59 of the day before */
		sec--;
	if (sec < TIME_MIN_S)
		sec = TIME_MIN_S;
	if (sec > TIME_MAX_S)
		sec = TIME_MAX_S;
	if (sizeof(time_t) < 8) { /* 32-bit time_t platforms */
		if (sec < INT32_MIN)
			sec = INT32_MIN;
		if (sec > INT32_MAX)
			sec = INT32_MAX;
	}
	t = (time_t)sec;
	/* Not strftime: glibc's "%Y" does not pad years below 1000. The
	 * clamp keeps every field in range; the modulos only show the
	 * compiler that 19 characters always fit. */
	if (!localtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(out, 32, "%04u-%02u-%02u %02u:%02u:%02u",
		 (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
		 (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
		 (unsigned)tm.tm_sec % 100u);
}

/* Length of text without its trailing newlines ("\n" or "\r\n"). */
static size_t trimmed_len(const char *text, size_t len)
{
	while (len > 0 && text[len - 1] == '\n') {
		len--;
		if (len > 0 && text[len - 1] == '\r')
			len--;
	}
	return len;
}

/* The lines of text[0..len): the first continues the header line, the others
 * are indented by two spaces. A '\r' just before a '\n' belongs to the line
 * break. Splitting raw bytes at '\n' is safe for UTF-8 repair: 0x0a is never
 * part of a multi-byte sequence and always ends an ill-formed one. */
static void render_lines(struct buf *out, const char *text, size_t len)
{
	size_t start = 0, end, line_len;
	const char *nl;

	while (start < len) {
		nl = memchr(text + start, '\n', len - start);
		end = nl ? (size_t)(nl - text) : len;
		line_len = end - start;
		if (nl && line_len > 0 && text[end - 1] == '\r')
			line_len--;
		if (start > 0)
			buf_puts(out, "  ");
		render_safe(out, text + start, line_len, false);
		buf_putc(out, '\n');
		start = end + 1;
	}
}

void render_message(struct buf *out, const struct api_message *m)
{
	const char *sender = m->sender ? m->sender : "";
	const char *type = m->message_type ? m->message_type : "";
	const char *text = m->text ? m->text : "";
	bool is_text = type[0] == '\0' || strcmp(type, "TEXT") == 0;
	size_t len = trimmed_len(text, m->text ? m->text_len : 0);
	char when[32];

	render_time(m->timestamp_ms, when);
	buf_putc(out, '[');
	buf_puts(out, when);
	buf_puts(out, "] ");
	render_safe(out, sender, strlen(sender), false);
	if (!is_text) {
		buf_puts(out, " (");
		render_safe(out, type, strlen(type), false);
		buf_putc(out, ')');
	}
	if (len == 0) {
		buf_puts(out, is_text ? ":\n" : "\n");
		return;
	}
	buf_puts(out, ": ");
	render_lines(out, text, len);
}

void render_messages(struct buf *out, const struct api_message *msgs, size_t n)
{
	while (n > 0)
		render_message(out, &msgs[--n]);
}
