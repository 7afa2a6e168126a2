/*
 * tests/unit/test_http.c - the request path of the LinkupAPI client against
 * a tiny in-process HTTP server: request body and headers, retries with
 * Retry-After, no retry of 401, credit limit, connection reuse, body cap,
 * timeout, cancellation.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../../api/api.h"

#include "api_check.h"

/*
 * A tiny HTTP/1.1 server on 127.0.0.1 for the request path: it answers each
 * request with the next scripted reply and records the last request. One
 * thread per connection, so a silent reply blocks no other connection.
 */
#define MOCK_SILENT "silent" /* never answer */
#define MOCK_HUGE "huge"     /* a body larger than API_MAX_BODY */
#define MOCK_MAX_CONNS 64
#define MOCK_MAX_REPLIES 8

struct mock {
	int lfd, port;
	pthread_t acceptor;
	pthread_mutex_t lock; /* guards everything below */
	pthread_t conn_threads[MOCK_MAX_CONNS];
	int conn_fds[MOCK_MAX_CONNS];
	int n_conns;
	char *replies[MOCK_MAX_REPLIES]; /* owned; the last one repeats */
	int n_replies, next;
	char last[8192]; /* last request, headers and body */
};

static struct mock mock;

/* Read one request into buf (NUL-terminated); its length, 0 at EOF. */
static size_t mock_read_request(int fd, char *buf, size_t size)
{
	size_t len = 0, head, body = 0;
	const char *end, *cl;
	ssize_t n;

	buf[0] = '\0';
	while (!(end = strstr(buf, "\r\n\r\n"))) {
		n = recv(fd, buf + len, size - 1 - len, 0);
		if (n <= 0)
			return 0;
		len += (size_t)n;
		buf[len] = '\0';
	}
	head = (size_t)(end + 4 - buf);
	cl = strcasestr(buf, "content-length:");
	if (cl && cl < end)
		body = strtoul(cl + 15, NULL, 10);
	while (len < head + body && len < size - 1) {
		n = recv(fd, buf + len, size - 1 - len, 0);
		if (n <= 0)
			return 0;
		len += (size_t)n;
		buf[len] = '\0';
	}
	return len;
}

static void mock_send_huge(int fd)
{
	static char chunk[65536];
	char head[128];
	size_t total = API_MAX_BODY + 65536u, sent = 0;

	memset(chunk, ' ', sizeof(chunk));
	snprintf(head, sizeof(head),
		 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", total);
	send(fd, head, strlen(head), MSG_NOSIGNAL);
	while (sent < total && send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) > 0)
		sent += sizeof(chunk);
}

static void *mock_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[8192];
	char *reply;

	while (mock_read_request(fd, buf, sizeof(buf))) {
		/* a copy: the test may replace the script once it has the
		 * answer */
		pthread_mutex_lock(&mock.lock);
		snprintf(mock.last, sizeof(mock.last), "%s", buf);
		reply = strdup(mock.n_replies ? mock.replies[mock.next]
					      : MOCK_SILENT);
		if (mock.next + 1 < mock.n_replies)
			mock.next++;
		pthread_mutex_unlock(&mock.lock);
		if (!reply)
			break;
		if (strcmp(reply, MOCK_HUGE) == 0)
			mock_send_huge(fd);
		else if (strcmp(reply, MOCK_SILENT) != 0)
			send(fd, reply, strlen(reply), MSG_NOSIGNAL);
		free(reply);
	}
	return NULL;
}

static void *mock_accept(void *arg)
{
	int fd;

	(void)arg;
	while ((fd = accept(mock.lfd, NULL, NULL)) >= 0) {
		pthread_mutex_lock(&mock.lock);
		if (mock.n_conns < MOCK_MAX_CONNS &&
		    pthread_create(&mock.conn_threads[mock.n_conns], NULL,
				   mock_conn, (void *)(intptr_t)fd) == 0)
			mock.conn_fds[mock.n_conns++] = fd;
		else
			close(fd);
		pthread_mutex_unlock(&mock.lock);
	}
	return NULL;
}

static int mock_start(void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t alen = sizeof(addr);

	pthread_mutex_init(&mock.lock, NULL);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	mock.lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (mock.lfd < 0 ||
	    bind(mock.lfd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(mock.lfd, 16) ||
	    getsockname(mock.lfd, (struct sockaddr *)&addr, &alen))
		return -1;
	mock.port = ntohs(addr.sin_port);
	return pthread_create(&mock.acceptor, NULL, mock_accept, NULL) ? -1 : 0;
}

static void mock_script_clear(void)
{
	int i;

	pthread_mutex_lock(&mock.lock);
	for (i = 0; i < mock.n_replies; i++)
		free(mock.replies[i]);
	mock.n_replies = mock.next = 0;
	mock.last[0] = '\0';
	pthread_mutex_unlock(&mock.lock);
}

/* Queue a reply: status line, extra header lines ("" or "X: y\r\n"), body;
 * body MOCK_SILENT or MOCK_HUGE for those behaviours. */
static void mock_reply(const char *status, const char *headers,
		       const char *body)
{
	char *r = NULL;

	if (strcmp(body, MOCK_SILENT) == 0 || strcmp(body, MOCK_HUGE) == 0)
		r = strdup(body);
	else if (asprintf(&r,
			  "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
			  "Content-Length: %zu\r\n%s\r\n%s",
			  status, strlen(body), headers, body) < 0)
		r = NULL;
	pthread_mutex_lock(&mock.lock);
	if (r && mock.n_replies < MOCK_MAX_REPLIES)
		mock.replies[mock.n_replies++] = r;
	else
		free(r);
	pthread_mutex_unlock(&mock.lock);
}

/* A copy of the last request, headers and body. */
static const char *mock_last(void)
{
	static char copy[sizeof(mock.last)];

	pthread_mutex_lock(&mock.lock);
	memcpy(copy, mock.last, sizeof(copy));
	pthread_mutex_unlock(&mock.lock);
	return copy;
}

/* The last request's JSON body, parsed. */
static cJSON *mock_last_body(void)
{
	const char *body = strstr(mock_last(), "\r\n\r\n");

	return body ? cJSON_Parse(body + 4) : NULL;
}

static void mock_stop(void)
{
	int i;

	shutdown(mock.lfd, SHUT_RDWR);
	close(mock.lfd);
	pthread_join(mock.acceptor, NULL);
	for (i = 0; i < mock.n_conns; i++)
		shutdown(mock.conn_fds[i], SHUT_RDWR);
	for (i = 0; i < mock.n_conns; i++) {
		pthread_join(mock.conn_threads[i], NULL);
		close(mock.conn_fds[i]);
	}
	mock_script_clear();
	pthread_mutex_destroy(&mock.lock);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char ok_page[] =
	"{\"status\":\"success\",\"data\":{\"conversation_id\":\"c1\","
	"\"messages\":["
	"{\"text\":\"a\",\"timestamp\":2,\"sender\":\"A\"},"
	"{\"text\":\"b\",\"timestamp\":1,\"sender\":\"B\"}],"
	"\"pagination\":{\"has_next_page\":false}}}";

static struct api *http_api(long timeout_s, int max_retries, long credit_limit)
{
	char url[64];
	struct api_config cfg = {
		.base_url = url,
		.api_key = "KEY-123456",
		.login_token = "TOKEN-abcdef",
		.country = "FR",
		.timeout_s = timeout_s,
		.max_retries = max_retries,
		.credit_limit = credit_limit,
	};

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", mock.port);
	return api_new(&cfg);
}

static int get_conv(struct api *api, const char *id, const char *url,
		    const char *cursor, struct api_error *err)
{
	struct api_conv_ref ref = {.conversation_id = id, .linkedin_url = url};
	struct api_page *page = NULL;
	int rc = api_get_conversation(api, &ref, 20, cursor, &page, err);

	CHECK(rc == 0 ? page != NULL : page == NULL);
	api_page_free(page);
	return rc;
}

/* The inbox's request: its path, its cursor and size, no message cursor. */
static void check_inbox_request(struct api *api)
{
	struct api_inbox_page *inbox = NULL;
	struct api_error err;
	cJSON *body;

	mock_script_clear();
	mock_reply("200 OK", "",
		   "{\"data\":{\"conversations\":[{\"conversation_id\":\"x\"}],"
		   "\"next_cursor\":\"n2\"}}");
	CHECK(api_get_inbox(api, 10, "n1", &inbox, &err) == 0);
	CHECK(inbox && inbox->n_entries == 1 &&
	      strcmp(inbox->next_cursor, "n2") == 0);
	api_inbox_page_free(inbox);
	CHECK(strncmp(mock_last(), "POST /v1/messages/inbox HTTP/1.1\r\n",
		      34) == 0);
	body = mock_last_body();
	CHECK_STR(
		cJSON_GetStringValue(cJSON_GetObjectItem(body, "next_cursor")),
		"n1");
	CHECK(cJSON_GetNumberValue(
		      cJSON_GetObjectItem(body, "total_results")) == 10);
	CHECK(!cJSON_GetObjectItem(body, "cursor"));
	cJSON_Delete(body);
}

static void test_http_requests(void)
{
	struct api *api = http_api(5, 2, 0);
	struct api_stats st;
	struct api_error err;
	cJSON *body;

	mock_script_clear();
	mock_reply("200 OK", "", ok_page);
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == 0);
	CHECK(err.kind == API_OK && err.retries == 0);
	CHECK(strncmp(mock_last(),
		      "POST /v1/messages/conversation HTTP/1.1\r\n", 41) == 0);
	CHECK(strstr(mock_last(), "\r\nx-api-key: KEY-123456\r\n") != NULL);
	CHECK(strstr(mock_last(), "\r\nContent-Type: application/json\r\n") !=
	      NULL);
	body = mock_last_body();
	CHECK_STR(cJSON_GetStringValue(
			  cJSON_GetObjectItem(body, "conversation_id")),
		  "c1");
	CHECK(cJSON_GetNumberValue(
		      cJSON_GetObjectItem(body, "total_results")) == 20);
	CHECK_STR(
		cJSON_GetStringValue(cJSON_GetObjectItem(body, "login_token")),
		"TOKEN-abcdef");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(body, "country")),
		  "FR");
	CHECK(!cJSON_GetObjectItem(body, "cursor") &&
	      !cJSON_GetObjectItem(body, "linkedin_url"));
	cJSON_Delete(body);

	CHECK(get_conv(api, NULL, "https://www.linkedin.com/in/x/", "1700",
		       &err) == 0);
	body = mock_last_body();
	CHECK_STR(
		cJSON_GetStringValue(cJSON_GetObjectItem(body, "linkedin_url")),
		"https://www.linkedin.com/in/x/");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(body, "cursor")),
		  "1700");
	CHECK(!cJSON_GetObjectItem(body, "conversation_id"));
	cJSON_Delete(body);

	check_inbox_request(api);

	api_get_stats(api, &st);
	CHECK(st.requests == 3 && st.retries == 0 && st.errors == 0);
	CHECK(st.credits == 3);	    /* 2 messages, 2 messages, 1 conversation */
	CHECK(st.connections == 1); /* kept alive and reused */
	CHECK(get_conv(api, "c1", "u", NULL, &err) == -EINVAL);
	api_free(api);
}

static void test_http_retries(void)
{
	struct api *api = http_api(5, 2, 0);
	struct api_stats st;
	struct api_error err;
	double t0;

	mock_script_clear();
	mock_reply("429 Too Many Requests", "Retry-After: 0\r\n", "{}");
	mock_reply("503 Service Unavailable", "Retry-After: 0\r\n",
		   "<html></html>");
	mock_reply("200 OK", "", ok_page);
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == 0);
	CHECK(err.retries == 2);

	mock_script_clear();
	mock_reply("429 Too Many Requests", "Retry-After: 0\r\n", "{}");
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EIO);
	CHECK(err.kind == API_ERR_HTTP && err.http_status == 429 &&
	      err.retries == 2);
	CHECK_STR(err.message,
		  "API answered 429 (rate limited) 3 times; giving up");

	mock_script_clear();
	mock_reply("401 Unauthorized", "", "{\"message\":\"Invalid API key\"}");
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EACCES);
	CHECK(err.kind == API_ERR_AUTH && err.retries == 0);
	CHECK_STR(err.message,
		  "API answered 401 (Invalid API key); check LINKUP_API_KEY");

	mock_script_clear();
	mock_reply("200 OK", "",
		   "{\"status\":\"error\",\"message\":\"bad token "
		   "TOKEN-abcdef!\"}");
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EIO);
	CHECK_STR(err.message, "API reported an error (bad token ***!)");

	/* no Retry-After: our own backoff, 250 ms first */
	mock_script_clear();
	mock_reply("500 Internal Server Error", "", "");
	mock_reply("200 OK", "", ok_page);
	t0 = now_s();
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == 0);
	CHECK(now_s() - t0 >= 0.24);

	api_get_stats(api, &st);
	CHECK(st.requests == 3 + 3 + 1 + 1 + 2);
	CHECK(st.retries == 2 + 2 + 1);
	CHECK(st.errors == 3);
	/* v1 charges every answer below 500: 429, ok; 429 x 3; 401; the
	 * error answered with 200; ok (the 5xx are free) */
	CHECK(st.credits == 2 + 3 + 1 + 1 + 1);
	api_free(api);
}

static void test_http_limits(void)
{
	/* the answer that is not JSON costs 1, the 16 MiB one (abandoned)
	 * and the silent one nothing, the page 1: then the limit of 2 */
	struct api *api = http_api(1, 2, 2);
	struct api_stats st;
	struct api_error err;
	double t0;

	mock_script_clear();
	mock_reply("200 OK", "", "hello");
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EIO);
	CHECK(err.kind == API_ERR_PARSE);
	CHECK_STR(err.message, "response is not JSON");

	mock_script_clear();
	mock_reply("200 OK", "", MOCK_HUGE);
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EIO);
	CHECK(err.kind == API_ERR_PARSE && err.retries == 0);
	CHECK_STR(err.message, "response larger than 16 MiB");

	mock_script_clear();
	mock_reply("200 OK", "", MOCK_SILENT);
	t0 = now_s();
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -ETIMEDOUT);
	CHECK(err.kind == API_ERR_TIMEOUT && err.retries == 0);
	CHECK(now_s() - t0 < 3.0);

	mock_script_clear();
	mock_reply("200 OK", "", ok_page);
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == 0);
	api_get_stats(api, &st);
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EDQUOT);
	CHECK(err.kind == API_ERR_BUDGET);
	CHECK_STR(err.message, "credit limit of 2 reached");
	api_get_stats(api, &st);
	CHECK(st.requests == 4 && st.credits == 2 && st.errors == 4);
	api_free(api);
}

static void *cancel_later(void *arg)
{
	struct timespec ts = {0, 300 * 1000000L};

	nanosleep(&ts, NULL);
	api_cancel(arg);
	return NULL;
}

/* A wait longer than the retry budget is not waited: the call fails now. */
static void test_http_retry_after_past_budget(void)
{
	struct api *api = http_api(5, 3, 0);
	struct api_stats st;
	struct api_error err;
	double t0;

	mock_script_clear();
	mock_reply("429 Too Many Requests", "Retry-After: 30\r\n", "{}");
	t0 = now_s();
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EIO);
	CHECK(err.kind == API_ERR_HTTP && err.http_status == 429);
	CHECK(now_s() - t0 < 2.0);
	api_get_stats(api, &st);
	CHECK(st.requests == 1 && st.retries == 0);
	api_free(api);
}

static void test_http_cancel(void)
{
	struct api *api = http_api(5, 3, 0);
	struct api_stats st;
	struct api_error err;
	pthread_t t;
	double t0;

	mock_script_clear();
	/* 8 s: within the retry budget (2 x timeout), so it would be waited */
	mock_reply("429 Too Many Requests", "Retry-After: 8\r\n", "{}");
	pthread_create(&t, NULL, cancel_later, api);
	t0 = now_s();
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EINTR);
	CHECK(err.kind == API_ERR_CANCELLED);
	CHECK(now_s() - t0 < 2.0);
	pthread_join(t, NULL);
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EINTR);
	api_get_stats(api, &st);
	CHECK(st.requests == 1 && st.errors == 2);
	api_free(api);
}

static void test_http_refused(void)
{
	struct api_config cfg = {
		.base_url = "http://127.0.0.1:1",
		.api_key = "k",
		.login_token = "t",
		.timeout_s = 5,
		.max_retries = 1,
	};
	struct api *api = api_new(&cfg);
	struct api_stats st;
	struct api_error err;

	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EIO);
	CHECK(err.kind == API_ERR_TRANSPORT && err.http_status == 0 &&
	      err.retries == 1);
	CHECK_STR(err.message,
		  "connection refused (127.0.0.1:1); gave up after 2 tries");
	api_get_stats(api, &st);
	CHECK(st.requests == 2 && st.retries == 1 && st.errors == 1 &&
	      st.credits == 0);
	api_free(api);
	api_free(NULL);
}

static void test_http(void)
{
	if (mock_start() != 0) {
		failed++;
		fprintf(stderr, "cannot start the mock server\n");
		return;
	}
	test_http_requests();
	test_http_retries();
	test_http_limits();
	test_http_retry_after_past_budget();
	test_http_cancel();
	test_http_refused();
	mock_stop();
}

int main(void)
{
	if (api_global_init() != 0) {
		fprintf(stderr, "api_global_init failed\n");
		return 1;
	}
	test_http();
	api_global_cleanup();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
