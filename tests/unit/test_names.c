/*
 * tests/unit/test_names.c - conversation directory names (SPEC section 3):
 * decoded profile slugs, hostile slugs refused, stable id-derived fallback,
 * 255-byte limit kept at a character boundary.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../../fs/text/names.h"

#include "check.h"

static void check_slug(const char *url, const char *want, int line)
{
	char out[NAME_SIZE];
	int rc = name_slug_from_url(url, out);

	if (want ? (rc == 0 && strcmp(out, want) == 0)
		 : (rc == -1 && out[0] == '\0')) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "%s:%d: slug of \"%s\": rc %d, \"%s\", want %s%s%s\n",
		__FILE__, line, url ? url : "(null)", rc, out, want ? "\"" : "",
		want ? want : "rejection", want ? "\"" : "");
}

#define SLUG(url, want) check_slug((url), (want), __LINE__)
#define IN "https://www.linkedin.com/in/"

/* Well-formed UTF-8 (continuation bytes where they belong), enough to check
 * a cut did not split a character. */
static bool utf8_whole(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, need, k;

	while (u[i]) {
		need = u[i] < 0x80	       ? 0
		       : (u[i] & 0xe0) == 0xc0 ? 1
		       : (u[i] & 0xf0) == 0xe0 ? 2
		       : (u[i] & 0xf8) == 0xf0 ? 3
					       : 9;
		if (need == 9)
			return false;
		for (k = 1; k <= need; k++)
			if ((u[i + k] & 0xc0) != 0x80)
				return false;
		i += need + 1;
	}
	return true;
}

static void test_slugs(void)
{
	SLUG(IN "al%C3%A9s-pr%C3%A9w-aa0262324/",
	     "al\xc3\xa9s-pr\xc3\xa9w-aa0262324");
	SLUG(IN "al%c3%a9s-pr%c3%a9w-aa0262324",
	     "al\xc3\xa9s-pr\xc3\xa9w-aa0262324");
	SLUG(IN "john-doe-42?trk=public_profile&x=%2F", "john-doe-42");
	SLUG(IN "john-doe-42#about", "john-doe-42");
	SLUG(IN "john-doe-42", "john-doe-42");
	/* the neighbours of the bidi controls are ordinary characters */
	SLUG(IN "a%E2%80%A9b%E2%80%AFc%E2%81%A5d%E2%81%AA", "a\xe2\x80\xa9"
							    "b"
							    "\xe2\x80\xaf"
							    "c\xe2\x81\xa5"
							    "d\xe2\x81\xaa");
	SLUG(IN "john-doe-42/details/experience/", "john-doe-42");
	SLUG("http://linkedin.com/in/%E5%BC%A0%E4%BC%9F",
	     "\xe5\xbc\xa0\xe4\xbc\x9f");
	SLUG(IN "x%C2%A0y", "x\xc2\xa0y"); /* NBSP is not a control */
}

static void test_hostile_slugs(void)
{
	SLUG(IN "..%2F..%2Fetc", NULL); /* traversal */
	SLUG(IN "%2e%2e", NULL);	/* ".." */
	SLUG(IN "%2E", NULL);		/* "." */
	SLUG(IN ".hidden", NULL);
	SLUG(IN "a%2Fb", NULL); /* '/' */
	SLUG(IN "a%00b", NULL); /* NUL */
	SLUG(IN "%00", NULL);
	SLUG(IN "%C0%AF", NULL);       /* overlong '/' */
	SLUG(IN "%E0%80%AF", NULL);    /* overlong '/' */
	SLUG(IN "%ED%A0%80", NULL);    /* surrogate */
	SLUG(IN "%F4%90%80%80", NULL); /* > U+10FFFF */
	SLUG(IN "ab%C3", NULL);	       /* truncated */
	SLUG(IN "ab%FF", NULL);
	SLUG(IN "%1B%5B31m", NULL); /* ESC */
	SLUG(IN "a%0Ab", NULL);	    /* newline */
	SLUG(IN "a%7Fb", NULL);	    /* DEL */
	SLUG(IN "a%C2%85b", NULL);  /* C1 NEL */
	SLUG(IN "evil%E2%80%AEgnp.exe",
	     NULL);		      /* RLO: "evilexe.png" on screen */
	SLUG(IN "a%E2%80%AAb", NULL); /* LRE */
	SLUG(IN "a%E2%80%ACb", NULL); /* PDF */
	SLUG(IN "a%E2%81%A6b", NULL); /* LRI */
	SLUG(IN "a%E2%81%A9b", NULL); /* PDI */
	SLUG(IN "%E2%80%AE", NULL);
	SLUG(IN "a%2", NULL); /* malformed % */
	SLUG(IN "a%zzb", NULL);
	SLUG(IN "a%", NULL);
	SLUG(IN "", NULL);
	SLUG(IN "/", NULL);
	SLUG(IN "?x=1", NULL);
	SLUG("https://www.linkedin.com/company/acme", NULL);
	SLUG("", NULL);
	SLUG(NULL, NULL);
}

static void test_long_slug(void)
{
	char url[2048], out[NAME_SIZE];
	size_t i;
	int rc;

	/* "a" + 150 x "é": 301 bytes, 240 falls inside an "é" */
	strcpy(url, IN "a");
	for (i = 0; i < 150; i++)
		strcat(url, "%C3%A9");
	rc = name_slug_from_url(url, out);
	CHECK(rc == 0 && strlen(out) == 239 && utf8_whole(out));
	CHECK(out[0] == 'a' && memcmp(out + 237, "\xc3\xa9", 2) == 0);

	/* "ab" + 100 x "€" (3 bytes): 302 bytes, cut to 239 */
	strcpy(url, IN "ab");
	for (i = 0; i < 100; i++)
		strcat(url, "\xe2\x82\xac");
	strcat(url, "/");
	rc = name_slug_from_url(url, out);
	CHECK(rc == 0 && strlen(out) == 239 && utf8_whole(out));

	/* exactly NAME_MAX_BASE ASCII bytes stay whole */
	strcpy(url, IN);
	for (i = 0; i < NAME_MAX_BASE; i++)
		strcat(url, "x");
	rc = name_slug_from_url(url, out);
	CHECK(rc == 0 && strlen(out) == NAME_MAX_BASE);

	/* invalid UTF-8 beyond the cut still refuses the slug */
	strcpy(url, IN);
	for (i = 0; i < 300; i++)
		strcat(url, "x");
	strcat(url, "%C0%AF");
	CHECK(name_slug_from_url(url, out) == -1 && out[0] == '\0');
}

static void test_conversation_names(void)
{
	static const char id[] =
		"2-ZjA5YjU4NzAtMjA2Yi00NjUxLWI1ZTgtYjM4NDI3YTkwNzc5XzAxMA==";
	char a[NAME_SIZE], b[NAME_SIZE];
	size_t i;

	name_for_conversation(IN "al%C3%A9s-pr%C3%A9w-aa0262324/", id, a);
	CHECK(strcmp(a, "al\xc3\xa9s-pr\xc3\xa9w-aa0262324") == 0);

	/* no profile URL: a stable name from the id, the same on every mount */
	name_for_conversation(NULL, id, a);
	name_for_conversation(NULL, id, b);
	CHECK(strcmp(a, b) == 0);
	CHECK(strlen(a) == 17 && strncmp(a, "conv-", 5) == 0);
	for (i = 5; i < 17; i++)
		CHECK((a[i] >= '0' && a[i] <= '9') ||
		      (a[i] >= 'a' && a[i] <= 'f'));
	CHECK(strcmp(a, "conv-cda8acc1dade") == 0); /* pinned: names persist */

	name_for_conversation(IN "..%2F..%2Fetc", id, b);
	CHECK(strcmp(a, b) == 0);
	/* a slug with a bidi control falls back to the id-derived name too */
	name_for_conversation(IN "evil%E2%80%AEgnp.exe/", id, b);
	CHECK(strcmp(a, b) == 0);
	name_for_conversation(NULL, "2-other", b);
	CHECK(strcmp(a, b) != 0 && strlen(b) == 17);
	name_for_conversation(NULL, NULL, b);
	CHECK(strcmp(b, "conv-cbf29ce48422") == 0);
	name_for_conversation(NULL, "", a);
	CHECK(strcmp(a, b) == 0);
}

static void test_suffix(void)
{
	char base[NAME_SIZE], out[NAME_SIZE];
	size_t i, n;

	name_with_suffix("john-doe", 2, out);
	CHECK(strcmp(out, "john-doe-2") == 0);
	name_with_suffix("conv-cbf29ce48422", 17, out);
	CHECK(strcmp(out, "conv-cbf29ce48422-17") == 0);

	/* 254 bytes: "x" + 71 x "€" + ... cut at a boundary to fit 255 */
	strcpy(base, "x");
	for (i = 0; i < 84; i++)
		strcat(base, "\xe2\x82\xac");
	CHECK(strlen(base) == 253);
	name_with_suffix(base, 12, out);
	n = strlen(out);
	CHECK(n <= 255 && utf8_whole(out));
	CHECK(n >= 3 && strcmp(out + n - 3, "-12") == 0);
	CHECK(n == 1 + 3 * 83 + 3 && memcmp(out, base, n - 3) == 0);

	name_with_suffix(base, INT_MAX, out);
	n = strlen(out);
	CHECK(n <= 255 && utf8_whole(out) &&
	      strcmp(out + n - 11, "-2147483647") == 0);

	memset(base, 'a', 255);
	base[255] = '\0';
	name_with_suffix(base, 3, out);
	CHECK(strlen(out) == 255 && strcmp(out + 253, "-3") == 0);
}

int main(void)
{
	test_slugs();
	test_hostile_slugs();
	test_long_slug();
	test_conversation_names();
	test_suffix();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
