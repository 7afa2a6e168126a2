/*
 * tests/fuzz/fuzz_error.c - libFuzzer harness for api_parse_error().
 *
 * Input: two bytes of HTTP status (big-endian, taken modulo 1000 as libcurl
 * only reports three digits), then the body. The error line must always be
 * one line of printable ASCII, the kind must be one an answer can give
 * (HTTP, AUTH for every 401 and 403, NOT_FOUND for a 404), and the errno
 * must match the kind.
 */
#include <errno.h>

#include "../../api/api.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_error err;
	long status;
	int rc;

	if (size < 2)
		return 0;
	status = ((long)data[0] << 8 | data[1]) % 1000;
	memset(&err, 0xa5, sizeof(err)); /* the parser must clear it */
	rc = api_parse_error((const char *)data + 2, size - 2, status, &err);
	FUZZ_ASSERT(err.kind == API_ERR_HTTP || err.kind == API_ERR_AUTH ||
		    err.kind == API_ERR_NOT_FOUND);
	FUZZ_ASSERT((status != 401 && status != 403) ||
		    err.kind == API_ERR_AUTH);
	FUZZ_ASSERT(status != 404 || err.kind == API_ERR_NOT_FOUND);
	FUZZ_ASSERT(rc == api_error_errno(&err));
	FUZZ_ASSERT(rc == -EIO || rc == -EACCES || rc == -ENOENT);
	FUZZ_ASSERT(err.http_status == status && err.retries == 0);
	FUZZ_ASSERT(fuzz_message_printable(err.message, sizeof(err.message)));
	FUZZ_ASSERT(err.message[0]);
	/* without an error struct: must not crash either */
	FUZZ_ASSERT(api_parse_error((const char *)data + 2, size - 2, status,
				    NULL) == rc);
	return 0;
}
