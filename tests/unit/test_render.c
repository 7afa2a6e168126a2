/*
 * tests/unit/test_render.c - the text format of SPEC section 4: message
 * layout, local time, and safe text (controls shown, UTF-8 repaired).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../fs/text/buf.h"
#include "../../fs/text/render.h"

#include "check.h"

static void check_str(const char *got, const char *want, const char *what,
		      int line)
{
	if (got && strcmp(got, want) == 0) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "%s:%d: %s:\n  got  \"%s\"\n  want \"%s\"\n", __FILE__,
		line, what, got ? got : "(null)", want);
}

#define CHECK_STR(got, want) check_str((got), (want), #got, __LINE__)

#define FFFD "\xef\xbf\xbd"

/* render_safe of s[0..len) as a NUL-terminated string; caller frees. */
static char *safe(const char *s, size_t len, bool keep_newlines)
{
	struct buf b = BUF_INIT;
	size_t n;
	char *r;

	render_safe(&b, s, len, keep_newlines);
	r = buf_steal(&b, &n);
	return r ? r : calloc(1, 1);
}

static void check_safe(const char *in, size_t len, bool keep, const char *want,
		       int line)
{
	char *got = safe(in, len, keep);

	check_str(got, want, "render_safe", line);
	free(got);
}

#define SAFE(in, keep, want)                                                   \
	check_safe((in), sizeof(in) - 1, (keep), (want), __LINE__)

/* Our own strict UTF-8 check: well-formed, no C0 but \t \n, no DEL, no C1,
 * no bidirectional embedding, override or isolate control. */
static bool clean_utf8(const unsigned char *s, size_t n, bool allow_nl)
{
	size_t i = 0, need, k;
	uint32_t cp, min;

	while (i < n) {
		unsigned char c = s[i];

		if (c < 0x80) {
			if ((c < 0x20 && c != '\t' &&
			     !(allow_nl && c == '\n')) ||
			    c == 0x7f)
				return false;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			need = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i <= need)
			return false;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f) ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return false;
		i += need + 1;
	}
	return true;
}

static void test_buf(void)
{
	struct buf b = BUF_INIT;
	size_t n, i;
	char *s;

	s = buf_steal(&b, &n);
	CHECK(s == NULL && n == 0 && !b.oom);
	buf_puts(&b, "ab");
	buf_putc(&b, 'c');
	buf_printf(&b, "-%d-%s", 42, "x");
	CHECK_STR(b.data, "abc-42-x");
	CHECK(b.len == 8);
	for (i = 0; i < 10000; i++)
		buf_printf(&b, "%05zu", i);
	CHECK(b.len == 8 + 50000 && b.data[b.len] == '\0' && !b.oom);
	CHECK(memcmp(b.data + b.len - 5, "09999", 5) == 0);
	s = buf_steal(&b, &n);
	CHECK(s && n == 50008 && b.data == NULL && b.len == 0);
	free(s);
	buf_append(&b, "x", (size_t)-1); /* would overflow: flagged, not done */
	CHECK(b.oom && b.len == 0);
	buf_puts(&b, "ignored");
	CHECK(b.len == 0);
	buf_free(&b);
	CHECK(!b.oom && b.data == NULL);
	buf_free(NULL);
}

static void test_controls(void)
{
	SAFE("\x1b[31mred\x1b[0m", true, "\\x1b[31mred\\x1b[0m");
	SAFE("a\xc2\x9b"
	     "31m",
	     true, "a\\x9b31m");
	SAFE("\xc2\x85|\xc2\x80|\xc2\x9f|\xc2\xa0", true,
	     "\\x85|\\x80|\\x9f|\xc2\xa0");
	SAFE("del\x7f", true, "del\\x7f");
	SAFE("a\0b", true, "a\\x00b");
	SAFE("\x01\x07\x08\x0b\x0c\x1f", true,
	     "\\x01\\x07\\x08\\x0b\\x0c\\x1f");
	SAFE("tab\there\nnext", true, "tab\there\nnext");
	SAFE("tab\there\nnext", false, "tab\there\\x0anext");
	SAFE("a\r\nb", true, "a\nb");
	SAFE("a\r\nb", false, "a\\x0d\\x0ab");
	SAFE("a\rb\r", true, "a\\x0db\\x0d");
	SAFE("a\r\r\n", true, "a\\x0d\n");
}

/* "Trojan Source": the controls that reorder text on screen are shown. */
static void test_bidi_controls(void)
{
	SAFE("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x80\xae",
	     true, "<U+202A><U+202B><U+202C><U+202D><U+202E>");
	SAFE("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", false,
	     "<U+2066><U+2067><U+2068><U+2069>");
	SAFE("if admin \xe2\x80\xae"
	     "} \xe2\x81\xa6 begin",
	     false, "if admin <U+202E>} <U+2066> begin");
	/* their neighbours, and the marks, pass: no scope, ordinary RTL text */
	SAFE("\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa", true,
	     "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa");
	SAFE("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", true,
	     "\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c");
	/* "<U+202E>" as text is text: shown as it is, so it stays readable */
	SAFE("<U+202E>", true, "<U+202E>");
	CHECK(render_is_bidi_control(0x202e) && render_is_bidi_control(0x2069));
	CHECK(!render_is_bidi_control(0x200f) &&
	      !render_is_bidi_control(0x061c));
}

static void test_valid_unchanged(void)
{
	static const char *const ok[] = {
		"Titouan Prioux: \xf0\x9f\x98\x83", /* 😃 */
		"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"
		"\xf0\x9f\x91\xa7", /* ZWJ family */
		"Al\xc3\xa9s Pr\xc3\xa9w \xc3\xa7"
		"a va \xc3\xbc\xc3\x9f",
		"\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c", /* CJK */
		"\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d "
		"\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7",
		"\xed\x9f\xbf \xee\x80\x80 \xf4\x8f\xbf\xbf \xef\xbf\xbd",
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *got = safe(ok[i], strlen(ok[i]), false);

		CHECK_STR(got, ok[i]);
		free(got);
	}
}

static void test_invalid_utf8(void)
{
	SAFE("\xc0\xaf", true, FFFD FFFD);		     /* overlong '/' */
	SAFE("\xc1\xbf", true, FFFD FFFD);		     /* overlong */
	SAFE("\xe0\x80\xaf", true, FFFD FFFD FFFD);	     /* overlong */
	SAFE("\xf0\x80\x80\xaf", true, FFFD FFFD FFFD FFFD); /* overlong */
	SAFE("\xed\xa0\x80", true, FFFD FFFD FFFD);	     /* surrogate */
	SAFE("\xf4\x90\x80\x80", true, FFFD FFFD FFFD FFFD); /* > U+10FFFF */
	SAFE("\xf5|\xfe|\xff", true, FFFD "|" FFFD "|" FFFD);
	SAFE("a\xe2\x82", true, "a" FFFD);	     /* truncated at end */
	SAFE("\xf0\x9f\x98", true, FFFD);	     /* truncated 4-byte */
	SAFE("\xe2\x82x", true, FFFD "x");	     /* cut by ASCII */
	SAFE("\x80x\xbf", true, FFFD "x" FFFD);	     /* stray continuation */
	SAFE("\xc3\xc3\xa9", true, FFFD "\xc3\xa9"); /* lead then valid */
	SAFE("\xe2\x82\n", true, FFFD "\n");	     /* cut by newline */
	/* the example of Unicode 15 section 3.9, Table 3-8 */
	SAFE("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64", true,
	     "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d");
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random bytes biased towards the ones that make UTF-8 and controls hard. */
static unsigned char rng_byte(void)
{
	static const unsigned char tricky[] = {
		0x00, 0x09, 0x0a, 0x0d, 0x1b, 0x7f, 0x80, 0x85,
		0x9b, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf,
		0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 'a',
	};
	uint64_t r = rng();

	if (r & 1)
		return (unsigned char)(r >> 8);
	return tricky[(r >> 8) % sizeof(tricky)];
}

static void test_property_random(void)
{
	unsigned char in[64];
	size_t i, k, len, bad = 0, not_idem = 0;

	for (i = 0; i < 100000; i++) {
		bool keep = i & 1;
		char *out, *again;

		len = rng() % sizeof(in);
		for (k = 0; k < len; k++)
			in[k] = rng_byte();
		out = safe((const char *)in, len, keep);
		if (!clean_utf8((unsigned char *)out, strlen(out), keep))
			bad++;
		again = safe(out, strlen(out), keep);
		if (strcmp(out, again) != 0)
			not_idem++;
		free(out);
		free(again);
	}
	CHECK(bad == 0);
	CHECK(not_idem == 0);
}

/* Valid UTF-8 without controls comes out byte for byte. */
static void test_property_valid(void)
{
	char in[128];
	size_t i, k, len, changed = 0;

	for (i = 0; i < 20000; i++) {
		len = 0;
		for (k = 0; k < 20; k++) {
			uint32_t cp = (uint32_t)(rng() % 0x110000);

			if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
			    (cp >= 0xd800 && cp <= 0xdfff) ||
			    (cp >= 0x202a && cp <= 0x202e) ||
			    (cp >= 0x2066 && cp <= 0x2069))
				cp = 'z';
			if (cp < 0x80) {
				in[len++] = (char)cp;
			} else if (cp < 0x800) {
				in[len++] = (char)(0xc0 | cp >> 6);
				in[len++] = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				in[len++] = (char)(0xe0 | cp >> 12);
				in[len++] = (char)(0x80 | (cp >> 6 & 0x3f));
				in[len++] = (char)(0x80 | (cp & 0x3f));
			} else {
				in[len++] = (char)(0xf0 | cp >> 18);
				in[len++] = (char)(0x80 | (cp >> 12 & 0x3f));
				in[len++] = (char)(0x80 | (cp >> 6 & 0x3f));
				in[len++] = (char)(0x80 | (cp & 0x3f));
			}
		}
		in[len] = '\0';
		char *out = safe(in, len, false);

		if (strcmp(out, in) != 0)
			changed++;
		free(out);
	}
	CHECK(changed == 0);
}

static void test_time(void)
{
	char t[32];

	setenv("TZ", "UTC", 1);
	tzset();
	render_time(1745270025000LL, t);
	CHECK_STR(t, "2025-04-21 21:13:45");
	render_time(1745270025999LL, t);
	CHECK_STR(t, "2025-04-21 21:13:45");
	render_time(0, t);
	CHECK_STR(t, "1970-01-01 00:00:00");
	render_time(-1, t);
	CHECK_STR(t, "1969-12-31 23:59:59");
	render_time(-1500, t);
	CHECK_STR(t, "1969-12-31 23:59:58");
	render_time(INT64_MAX, t);
	CHECK_STR(t, "9999-12-29 23:59:59");
	render_time(INT64_MIN, t);
	CHECK_STR(t, "0001-01-03 00:00:00");

	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	render_time(1745270025000LL, t);
	CHECK_STR(t, "2025-04-22 06:13:45");
	render_time(INT64_MAX, t);
	CHECK(strlen(t) == 19 && strncmp(t, "9999-12-30", 10) == 0);

	setenv("TZ", "UTC", 1);
	tzset();
}

/* The message rendered; text is text_len bytes, NULs included. */
static char *render_n(const char *sender, const char *type, const char *text,
		      size_t text_len, size_t *n)
{
	struct api_message m = {(char *)text,
				text_len,
				1745270025000LL,
				(char *)sender,
				(char *)type,
				(char *)"",
				NULL,
				0};
	struct buf b = BUF_INIT;

	render_message(&b, &m);
	return buf_steal(&b, n);
}

static char *render_one(const char *sender, const char *type, const char *text)
{
	size_t n;

	return render_n(sender, type, text, text ? strlen(text) : 0, &n);
}

static void check_msg(const char *sender, const char *type, const char *text,
		      const char *want, int line)
{
	char *got = render_one(sender, type, text);

	check_str(got, want, "render_message", line);
	free(got);
}

#define MSG(sender, type, text, want)                                          \
	check_msg(sender, type, text, want, __LINE__)
#define T "[2025-04-21 21:13:45] "

static void test_messages(void)
{
	MSG("Titouan Prioux", "TEXT", "\xf0\x9f\x98\x83",
	    T "Titouan Prioux: \xf0\x9f\x98\x83\n");
	MSG("A", "TEXT", "one\n\nthree", T "A: one\n  \n  three\n");
	MSG("A", "TEXT", "one\n\nthree\n\n\n", T "A: one\n  \n  three\n");
	MSG("A", "TEXT", "one\r\ntwo\r\n\r\n", T "A: one\n  two\n");
	MSG("A", "TEXT", "", T "A:\n");
	MSG("A", "TEXT", "\r\n\n", T "A:\n");
	MSG("Al\xc3\xa9s Pr\xc3\xa9w", "SYSTEM", "",
	    T "Al\xc3\xa9s Pr\xc3\xa9w (SYSTEM)\n");
	MSG("Al\xc3\xa9s Pr\xc3\xa9w", "SYSTEM", "\n",
	    T "Al\xc3\xa9s Pr\xc3\xa9w (SYSTEM)\n");
	MSG("A", "SYSTEM", "joined\nthe chat",
	    T "A (SYSTEM): joined\n  the chat\n");
	/* one-line fields: newlines and escapes shown, not obeyed */
	MSG("Evil\nName\x1b[2J\r", "TEXT", "hi",
	    T "Evil\\x0aName\\x1b[2J\\x0d: hi\n");
	MSG("A", "SYS\nTEM\xc2\x9b", "x", T "A (SYS\\x0aTEM\\x9b): x\n");
	MSG("Bad\xff", "TEXT", "x\xc0\xafy\n\x1b]0;pwn\x07",
	    T "Bad" FFFD ": x" FFFD FFFD "y\n  \\x1b]0;pwn\\x07\n");
	MSG("A", "TEXT", "lone\rcr", T "A: lone\\x0dcr\n");
}

/* The text is text_len bytes: a NUL shows as "\x00" and hides nothing
 * after it; every field is made safe, the sender too. */
static void test_message_nul_and_bidi(void)
{
	static const char nul_first[] = "\0nul at start";
	static const char nul_lines[] = "a\0\nb\0";
	size_t n;
	char *s;

	s = render_n("A", "TEXT", nul_first, sizeof(nul_first) - 1, &n);
	CHECK_STR(s, T "A: \\x00nul at start\n");
	CHECK(s && n == strlen(s));
	free(s);
	s = render_n("A", "TEXT", nul_lines, sizeof(nul_lines) - 1, &n);
	CHECK_STR(s, T "A: a\\x00\n  b\\x00\n");
	free(s);
	s = render_n("A", "TEXT", "abc", 2, &n); /* text_len, not strlen */
	CHECK_STR(s, T "A: ab\n");
	free(s);
	s = render_n("A", "TEXT", NULL, 5, &n);
	CHECK_STR(s, T "A:\n");
	free(s);
	MSG("Eve\xe2\x80\xae"
	    "lin",
	    "SYS\xe2\x81\xa7",
	    "x\xe2\x80\xae"
	    "y\nz\xe2\x80\xac",
	    T "Eve<U+202E>lin (SYS<U+2067>): x<U+202E>y\n  z<U+202C>\n");
}

static void test_messages_order(void)
{
	struct api_message m[3] = {
		{(char *)"newest", 6, 1745270027000LL, (char *)"A",
		 (char *)"TEXT", (char *)"u3", NULL, 0},
		{(char *)"middle", 6, 1745270026000LL, (char *)"B",
		 (char *)"TEXT", (char *)"u2", NULL, 0},
		{(char *)"oldest", 6, 1745270025000LL, (char *)"A",
		 (char *)"TEXT", (char *)"u1", NULL, 0},
	};
	struct buf b = BUF_INIT;
	size_t n;
	char *s;

	render_messages(&b, m, 3);
	s = buf_steal(&b, &n);
	CHECK_STR(s, "[2025-04-21 21:13:45] A: oldest\n"
		     "[2025-04-21 21:13:46] B: middle\n"
		     "[2025-04-21 21:13:47] A: newest\n");
	free(s);
	render_messages(&b, m, 0);
	s = buf_steal(&b, &n);
	CHECK(s == NULL && n == 0);
}

/* A 64 KB message of random bytes: nothing raw gets through, every line
 * after the first is indented, the file ends with one "\n". */
static void test_big_message(void)
{
	size_t len = 64 * 1024, i, bad_indent = 0;
	char *text = malloc(len + 1), *s;

	CHECK(text != NULL);
	if (!text)
		return;
	for (i = 0; i < len; i++) {
		text[i] = (char)rng_byte();
		if (text[i] == '\0')
			text[i] = '\x01';
	}
	text[len] = '\0';
	s = render_one("A", "TEXT", text);
	CHECK(s != NULL);
	if (s) {
		size_t n = strlen(s);

		CHECK(clean_utf8((unsigned char *)s, n, true));
		CHECK(n > len && s[n - 1] == '\n' && s[n - 2] != '\n');
		for (i = 0; i + 1 < n; i++)
			if (s[i] == '\n' && strncmp(s + i + 1, "  ", 2) != 0)
				bad_indent++;
		CHECK(bad_indent == 0);
	}
	free(s);
	free(text);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_buf();
	test_controls();
	test_bidi_controls();
	test_valid_unchanged();
	test_invalid_utf8();
	test_property_random();
	test_property_valid();
	test_time();
	test_messages();
	test_message_nul_and_bidi();
	test_messages_order();
	test_big_message();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
