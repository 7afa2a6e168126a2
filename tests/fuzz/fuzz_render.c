/*
 * tests/fuzz/fuzz_render.c - libFuzzer harness for render_safe() and
 * render_message() (render.h).
 *
 * Input: 8 bytes of timestamp (ms, little-endian, any int64), one byte of
 * flags, then text. render_safe() gets the whole text, NUL bytes included;
 * render_message() gets a message whose sender and type are the first two
 * NUL-separated pieces of it and whose text is the rest (NULs included).
 * Properties checked:
 *   - the output is valid UTF-8 with no C0 control but \t and \n (and no \n
 *     at all from render_safe with keep_newlines false), no DEL, no C1, no
 *     bidirectional control;
 *   - text that is already safe comes out byte for byte;
 *   - a message is a "[YYYY-MM-DD HH:MM:SS] " header line followed only by
 *     lines indented by two spaces, each ending in \n: no text can forge the
 *     header of another message.
 */
#include <stdlib.h>
#include <time.h>

#include "../../fs/text/buf.h"
#include "../../fs/text/render.h"
#include "fuzz_util.h"

enum {
	FLAG_KEEP_NEWLINES = 1 << 0,
	FLAG_NULL_FIELDS = 1 << 1, /* absent pieces are NULL, not "" */
	FLAG_ZONE_SHIFT = 2,	   /* two bits: which time zone */
};

/* POSIX zones, so no tzdata is needed: UTC, the extremes of real offsets
 * (+14, -12) and an odd one (+05:45). */
static const char *const zones[4] = {"UTC0", "<+14>-14", "<-12>12",
				     "<+0545>-5:45"};

static void use_zone(unsigned int which)
{
	static int current = -1;

	if ((int)which == current)
		return;
	setenv("TZ", zones[which], 1);
	tzset();
	current = (int)which;
}

static void check_safe(const char *in, size_t len, bool keep)
{
	struct buf b = BUF_INIT;

	render_safe(&b, in, len, keep);
	FUZZ_ASSERT(!b.oom);
	FUZZ_ASSERT(fuzz_text_safe(b.data, b.len, keep));
	if (fuzz_text_safe(in, len, keep))
		FUZZ_ASSERT(b.len == len && (!len || !memcmp(b.data, in, len)));
	buf_free(&b);
}

static bool is_digits(const char *s, size_t n)
{
	while (n--)
		if (*s < '0' || *s++ > '9')
			return false;
	return true;
}

/* "[YYYY-MM-DD HH:MM:SS] " then the rest of the header line. */
static void check_header(const char *s, size_t n)
{
	FUZZ_ASSERT(n > 22 && s[0] == '[' && s[20] == ']' && s[21] == ' ');
	FUZZ_ASSERT(is_digits(s + 1, 4) && s[5] == '-' && is_digits(s + 6, 2));
	FUZZ_ASSERT(s[8] == '-' && is_digits(s + 9, 2) && s[11] == ' ');
	FUZZ_ASSERT(is_digits(s + 12, 2) && s[14] == ':' &&
		    is_digits(s + 15, 2));
	FUZZ_ASSERT(s[17] == ':' && is_digits(s + 18, 2));
	FUZZ_ASSERT(memcmp(s + 1, "0000", 4) != 0);
}

static void check_message_text(const char *s, size_t n)
{
	const char *line = s, *nl;

	FUZZ_ASSERT(n > 0 && s[n - 1] == '\n');
	FUZZ_ASSERT(fuzz_text_safe(s, n, true));
	check_header(s, n);
	while ((nl = memchr(line, '\n', n - (size_t)(line - s))) != s + n - 1) {
		line = nl + 1;
		FUZZ_ASSERT(line[0] == ' ' && line[1] == ' ');
	}
}

/* The next NUL-terminated piece of *p (n bytes left), or absent. */
static const char *next_piece(const char **p, const char *end, bool null_absent)
{
	const char *s = *p;

	if (s >= end)
		return null_absent ? NULL : "";
	*p = s + strlen(s) + 1;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_message m;
	struct buf b = BUF_INIT;
	unsigned int flags;
	const char *p, *end;
	char *text;
	size_t len;

	if (size < 9)
		return 0;
	memcpy(&m.timestamp_ms, data, sizeof(m.timestamp_ms));
	flags = data[8];
	len = size - 9;
	use_zone((flags >> FLAG_ZONE_SHIFT) & 3);

	text = fuzz_strndup(data + 9, len);
	if (!text)
		return 0;
	check_safe(text, len, flags & FLAG_KEEP_NEWLINES);

	p = text;
	end = text + len;
	m.sender = (char *)next_piece(&p, end, flags & FLAG_NULL_FIELDS);
	m.message_type = (char *)next_piece(&p, end, flags & FLAG_NULL_FIELDS);
	/* the text is the rest, NUL bytes and all */
	m.text_len = p < end ? (size_t)(end - p) : 0;
	m.text = (char *)next_piece(&p, end, flags & FLAG_NULL_FIELDS);
	m.entity_urn = "";
	m.json = NULL;
	m.json_len = 0;
	render_message(&b, &m);
	FUZZ_ASSERT(!b.oom);
	check_message_text(b.data, b.len);
	buf_free(&b);
	free(text);
	return 0;
}
