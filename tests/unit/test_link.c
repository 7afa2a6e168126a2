/*
 * tests/unit/test_link.c - the one link state (fs/model/link.h): what each
 * outcome of a real request says of the link (the classifier), and the
 * state it drives: down on the first failure, one probe at a time after a
 * back-off that doubles while probes fail, up on the first answer, offline
 * for good.
 *
 * The outcomes come from the API client itself (api_get_conversation, no
 * retries, 1 s timeout) against a server on 127.0.0.1 that answers each
 * connection with one scripted reply: nothing of the classifier's input is
 * made up here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../fs/model/link.h"

#include "check.h"

/* The scripted server: one reply per connection, then it closes. */
static struct {
	int fd, port;
	pthread_t thread;
	pthread_mutex_t lock; /* guards reply (the socket orders nothing for
				 TSan) */
	char reply[512];      /* "": answer nothing, wait for the client */
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Read the request up to its blank line and its body (small, so one
 * buffer holds it): then the client is not sending when we close. */
static void read_request(int fd)
{
	char buf[8192];
	size_t len = 0;
	const char *end = NULL, *cl;

	while (len < sizeof(buf) - 1) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);

		if (n <= 0)
			return;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		cl = end ? strcasestr(buf, "content-length:") : NULL;
		if (end && (!cl || len >= (size_t)(end + 4 - buf) +
						   strtoul(cl + 15, NULL, 10)))
			return;
	}
}

static void *serve(void *arg)
{
	int c;

	(void)arg;
	while ((c = accept(srv.fd, NULL, NULL)) >= 0) {
		char reply[sizeof(srv.reply)];

		read_request(c);
		pthread_mutex_lock(&srv.lock);
		memcpy(reply, srv.reply, sizeof(reply));
		pthread_mutex_unlock(&srv.lock);
		if (reply[0])
			send(c, reply, strlen(reply), MSG_NOSIGNAL);
		else /* silent: until the client gives up */
			while (recv(c, (char[64]){0}, 64, 0) > 0)
				;
		close(c);
	}
	return NULL;
}

static int serve_start(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (srv.fd < 0 || bind(srv.fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(srv.fd, 8) ||
	    getsockname(srv.fd, (struct sockaddr *)&a, &len))
		return -1;
	srv.port = ntohs(a.sin_port);
	return pthread_create(&srv.thread, NULL, serve, NULL);
}

static void serve_stop(void)
{
	shutdown(srv.fd, SHUT_RDWR);
	close(srv.fd);
	pthread_join(srv.thread, NULL);
}

/* The outcome of one conversation request (of API version v) to port,
 * answered with reply. */
static int ask(int v, int port, const char *reply, struct api_error *err)
{
	char url[64];
	struct api_config cfg = {.base_url = url,
				 .api_key = "k",
				 .login_token = "t",
				 .version = v,
				 .account_id = "a",
				 .timeout_s = 1};
	struct api_conv_ref ref = {.conversation_id = "c1"};
	struct api_page *page = NULL;
	struct api *api;
	int r;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	pthread_mutex_lock(&srv.lock);
	snprintf(srv.reply, sizeof(srv.reply), "%s", reply ? reply : "");
	pthread_mutex_unlock(&srv.lock);
	api = api_new(&cfg);
	r = api_get_conversation(api, &ref, 10, NULL, &page, err);
	api_page_free(page);
	api_free(api);
	return r;
}

#define OK_BODY                                                                \
	"{\"status\":\"success\",\"data\":{\"conversation_id\":\"c1\","        \
	"\"messages\":[],\"pagination\":{\"has_next_page\":false}}}"

/* Each kind of outcome: the reply's status line and headers, its body,
 * and how many bytes of the body never come (the connection closes). */
static const struct {
	const char *what;
	const char *head; /* NULL: a closed port; "": no answer at all */
	const char *body;
	size_t missing;
	enum link_verdict want;
	int version; /* of the API asked */
} outcomes[] = {
	{"success", "200 OK", OK_BODY, 0, LINK_ANSWERED, 1},
	{"refused (transport)", NULL, "", 0, LINK_UNREACHABLE, 1},
	{"no answer (timeout)", "", "", 0, LINK_UNREACHABLE, 1},
	{"503", "503 Service Unavailable",
	 "{\"status\":\"error\",\"message\":\"overloaded\"}", 0,
	 LINK_UNREACHABLE, 1},
	{"500 from a proxy", "500 Oops", "<html><h1>500</h1></html>", 0,
	 LINK_UNREACHABLE, 1},
	{"302 (a portal's redirect)", "302 Found\r\nLocation: http://portal/",
	 "", 0, LINK_UNREACHABLE, 1},
	{"429", "429 Too Many Requests",
	 "{\"status\":\"error\",\"message\":\"API Rate limit exceeded\"}", 0,
	 LINK_ANSWERED, 1},
	{"401", "401 Unauthorized",
	 "{\"status\":\"error\",\"message\":\"Invalid API key\"}", 0,
	 LINK_ANSWERED, 1},
	{"403", "403 Forbidden",
	 "{\"status\":\"error\",\"message\":\"LinkedIn token expired\"}", 0,
	 LINK_ANSWERED, 1},
	{"404", "404 Not Found",
	 "{\"status\":\"error\",\"message\":\"Conversation not found\"}", 0,
	 LINK_ANSWERED, 1},
	{"an error in a 200", "200 OK",
	 "{\"status\":\"error\",\"message\":\"Bad request\"}", 0, LINK_ANSWERED,
	 1},
	{"garbage 200", "200 OK", "this is not json", 0, LINK_SILENT, 1},
	{"HTML 200 (a captive portal)", "200 OK\r\nContent-Type: text/html",
	 "<html><body>Sign in first</body></html>", 0, LINK_UNREACHABLE, 1},
	{"JSON cut short in a whole answer", "200 OK",
	 "{\"status\":\"success\",\"data\":{\"conversati", 0, LINK_SILENT, 1},
	{"body cut short by the connection", "200 OK",
	 "{\"status\":\"success\",\"data\":{", 60, LINK_UNREACHABLE, 1},
	{"v2 402 (credits)", "402 Payment Required",
	 "{\"success\":false,\"error\":{\"code\":\"INSUFFICIENT_CREDITS\","
	 "\"message\":\"top up\"}}",
	 0, LINK_ANSWERED, 2},
	{"v2 500", "500 Internal Server Error",
	 "{\"success\":false,\"error\":{\"code\":\"INTERNAL_ERROR\","
	 "\"message\":\"oops\"}}",
	 0, LINK_UNREACHABLE, 2},
};

static void test_classifier(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), closed;

	/* a port nobody listens on: bound, never listened */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &len);
	closed = ntohs(a.sin_port);
	for (size_t i = 0; i < sizeof(outcomes) / sizeof(*outcomes); i++) {
		struct api_error err = {0};
		char reply[512] = "";
		int r, port = outcomes[i].head ? srv.port : closed;

		if (outcomes[i].head && outcomes[i].head[0])
			snprintf(reply, sizeof(reply),
				 "HTTP/1.1 %s\r\nContent-Length: %zu\r\n\r\n%s",
				 outcomes[i].head,
				 strlen(outcomes[i].body) + outcomes[i].missing,
				 outcomes[i].body);
		r = ask(outcomes[i].version, port, reply[0] ? reply : NULL,
			&err);
		if (link_classify(r, &err) != outcomes[i].want)
			fprintf(stderr, "%s: r %d, kind %d, status %ld: %s\n",
				outcomes[i].what, r, (int)err.kind,
				err.http_status, err.message);
		CHECK(link_classify(r, &err) == outcomes[i].want);
	}
	close(s);
	/* not sent, or cancelled: nothing learnt */
	CHECK(link_classify(-EDQUOT,
			    &(struct api_error){.kind = API_ERR_BUDGET}) ==
	      LINK_SILENT);
	CHECK(link_classify(-EINTR,
			    &(struct api_error){.kind = API_ERR_CANCELLED}) ==
	      LINK_SILENT);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll until the link lets a request go; how long after since (ms) that
 * was. */
static long long open_after(struct link *l, long long since)
{
	struct timespec tick = {0, 1000000L};

	while (link_open(l, NULL) < 0 && now_ms() - since < 5000)
		nanosleep(&tick, NULL);
	return now_ms() - since;
}

static const struct api_error refused = {.kind = API_ERR_TRANSPORT,
					 .message = "connection refused"};
static const struct api_error garbage = {.kind = API_ERR_PARSE,
					 .http_status = 200,
					 .message = "response is not JSON"};

static void test_states(void)
{
	struct link *l = link_new(false, 40, 120);
	struct link_stats st;
	struct api_error why;
	long long t;
	bool probe;

	CHECK(link_ask(l, &probe, &why) == 0 && !probe && link_up(l));
	link_note(l, false, -EIO, &garbage); /* a bad answer: still up */
	link_get_stats(l, &st);
	CHECK(link_up(l) && st.state == LINK_ONLINE &&
	      strcmp(st.last_error, "response is not JSON") == 0 &&
	      st.last_error_at > 0);
	t = now_ms();
	link_note(l, false, -EIO, &refused); /* down at once */
	link_get_stats(l, &st);
	CHECK(!link_up(l) && st.state == LINK_DOWN && st.down_since > 0 &&
	      st.next_try_ms > 0 && st.next_try_ms <= 40);
	CHECK(link_ask(l, &probe, &why) == -ENETDOWN &&
	      strstr(why.message, "connection refused") &&
	      strstr(why.message, "next try in"));
	/* the back-off, then one probe at a time */
	CHECK(open_after(l, t) >= 39);
	CHECK(link_ask(l, &probe, &why) == 0 && probe);
	CHECK(link_ask(l, &probe, &why) == -ENETDOWN &&
	      strstr(why.message, "under way"));
	t = now_ms();
	link_note(l, true, -EIO, &refused); /* failures go on: doubles */
	CHECK(open_after(l, t) >= 79);
	CHECK(link_ask(l, &probe, &why) == 0 && probe);
	t = now_ms();
	link_note(l, true, -EIO, &refused); /* 160, capped at 120 */
	link_get_stats(l, &st);
	CHECK(st.next_try_ms <= 120);
	CHECK(open_after(l, t) >= 119);
	CHECK(link_ask(l, &probe, &why) == 0 && probe);
	link_note(l, true, -EIO, &refused); /* stays at 120 */
	link_get_stats(l, &st);
	CHECK(st.next_try_ms > 0 && st.next_try_ms <= 120);
	open_after(l, now_ms());
	/* a bad answer to the probe frees the slot, nothing more */
	CHECK(link_ask(l, &probe, &why) == 0 && probe);
	link_note(l, true, -EIO, &garbage);
	CHECK(!link_up(l) && link_open(l, NULL) == 0);
	/* a late failure of a request sent while up does not grow it */
	link_note(l, false, -EIO, &refused);
	CHECK(link_open(l, NULL) == 0);
	/* the first answer ends it */
	CHECK(link_ask(l, &probe, &why) == 0 && probe);
	link_note(l, true, 0, NULL);
	link_get_stats(l, &st);
	CHECK(link_up(l) && st.state == LINK_ONLINE && st.down_since == 0);
	CHECK(link_ask(l, &probe, &why) == 0 && !probe);
	/* going down again starts short again */
	link_note(l, false, -EIO, &refused);
	link_get_stats(l, &st);
	CHECK(st.next_try_ms <= 40);
	link_free(l);
}

/* -o offline: nothing is ever sent, whatever is noted */
static void test_offline(void)
{
	struct link *l = link_new(true, 40, 120);
	struct link_stats st;
	struct api_error why;
	bool probe;

	link_note(l, false, 0, NULL);
	link_get_stats(l, &st);
	CHECK(st.state == LINK_OFFLINE && !link_up(l));
	CHECK(link_ask(l, &probe, &why) == -ENETDOWN &&
	      strstr(why.message, "offline"));
	link_free(l);
	link_free(NULL);
}

int main(void)
{
	if (api_global_init() != 0 || serve_start() != 0) {
		fprintf(stderr, "cannot set up the test\n");
		return 1;
	}
	test_classifier();
	test_states();
	test_offline();
	serve_stop();
	api_global_cleanup();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
