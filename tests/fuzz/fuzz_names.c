/*
 * tests/fuzz/fuzz_names.c - libFuzzer harness for name_for_conversation()
 * and name_with_suffix() (names.h).
 *
 * Input: one byte for the suffix number, then the profile URL, a NUL, the
 * conversation id (no NUL in the input: the URL is NULL). Whatever the
 * network sends, the directory name must be one safe path component: not
 * empty, under 256 bytes, no '/' or control character, not starting with
 * '.' (so never "." or ".."), valid UTF-8.
 */
#include <stdlib.h>

#include "../../fs/text/names.h"
#include "fuzz_util.h"

static void check_name(const char *out)
{
	const char *end = memchr(out, '\0', NAME_SIZE);
	size_t n;

	FUZZ_ASSERT(end);
	n = (size_t)(end - out);
	FUZZ_ASSERT(n > 0 && n < 256);
	FUZZ_ASSERT(!memchr(out, '/', n));
	FUZZ_ASSERT(strcmp(out, ".") != 0 && strcmp(out, "..") != 0);
	FUZZ_ASSERT(out[0] != '.');
	FUZZ_ASSERT(fuzz_text_safe(out, n, false));
	FUZZ_ASSERT(!strchr(out, '\t'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *url = NULL, *id;
	char *in, *out, *again;
	int suffix;

	if (size < 1)
		return 0;
	suffix = 2 + data[0] * 8388607; /* 2 up to about INT_MAX */
	in = fuzz_strndup(data + 1, size - 1);
	/* exact sizes: ASan catches a write one byte past NAME_SIZE */
	out = malloc(NAME_SIZE);
	again = malloc(NAME_SIZE);
	if (!in || !out || !again)
		goto out;
	id = in;
	if (memchr(in, '\0', size - 1)) {
		url = in;
		id = in + strlen(in) + 1;
	}
	name_for_conversation(url, id, out);
	check_name(out);
	/* stable: the same input always gives the same name */
	name_for_conversation(url, id, again);
	FUZZ_ASSERT(strcmp(out, again) == 0);
	name_with_suffix(out, suffix, again);
	check_name(again);
	FUZZ_ASSERT(strcmp(out, again) != 0);
out:
	free(in);
	free(out);
	free(again);
	return 0;
}
