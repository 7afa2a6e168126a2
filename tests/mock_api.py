#!/usr/bin/python3
"""Mock LinkupAPI (v1 and v2) server for the linkupfs tests and demo.

    /usr/bin/python3 tests/mock_api.py --port 0 [--latency-ms N]
        [--dataset sample|bench] [--scale F] [--api-key K --login-token T]
        [--account-id A] [--rate-limit N/SECONDS]

Prints exactly one line "LISTENING <port>" on stdout once ready; stops on
SIGTERM/SIGINT.  Listens on 127.0.0.1 only, HTTP/1.1 keep-alive, every
response has a Content-Length.

API (SPEC.md section 6): POST /v1/messages/conversation, POST
/v1/messages/inbox.  v2 (section 7), from the same data, with the same
faults, log and rate limit: POST /v2/messages {"account_id", "action":
"get_conversation"|"list_inbox", "params": {conversation_id|profile_url,
count, cursor}} (logged with path "conversation"/"inbox" and version 2),
POST /v2/login {"platform": "linkedin", "login_token", "country"} ->
data.account_id (path "login", free).  v2 answers 403 INVALID_API_KEY to
a wrong key, 404 INVALID_ACCOUNT to a wrong account_id, 403
ACCOUNT_INACTIVE while /_control/set {"account_inactive": true}, 400
INVALID_ACTION, 429 RATE_LIMITED past the rate limit.  Control (no auth, JSON in and out, GET or POST):

    /_control/log           the request log (list of dicts)
    /_control/stats         {requests, credits, connections, tcp_connections,
                            active, max_active, answers_429, rate_limit,
                            ...}; connections counts the
                            TCP connections that carried an API request (so
                            control calls do not count), tcp_connections all
    /_control/reset         clear log, counters, faults; start latency and
                            rate limit; inclusive_cursor off; {"data": true}
                            also reloads the data set
    /_control/fault         {"kind", "count" (1; -1 = until cleared), "path"
                            ("conversation"|"inbox"|null), "match" (substring
                            of the conversation id/url sent, or null), "skip"
                            (0: the first N matching requests pass
                            untouched, e.g. to hit page 3 of a chain), params}
    /_control/faults        the faults still pending
    /_control/clear_faults  also releases hanging and dripping connections
    /_control/set           {"latency_ms", "inclusive_cursor", "inbox_null_cursor",
                            "rate_limit": [N, SECONDS] or null,
                            "account_inactive"}
    /_control/add_message   {"conversation": id|url|key, "text", "sender",
                            "timestamp"} -> the message added (the newest)
    /_control/add_conversation {"key", "name", "profile_url", "conversation_id",
                            "messages": N}
    /_control/conversations [{key, id, profile_url, name, count, last_time}]
                            in inbox order

Fault kinds: status, error200, not_json, truncated, wrong_shape, huge, html,
hang, drip, reset, slow, cursor_stuck, no_cursor, empty_has_next (what each
does and its params: tests/mock_faults.py).  Credits (charged as v1
charges them) and the rate limit: tests/mock_state.py.

Modules beside this one (it puts its own directory on sys.path):
mock_state.py the state the handlers share (data set, log, counters,
credits, rate limit, faults pending), mock_answers.py the answers to valid
requests, mock_faults.py fault injection.

The API key, login token and account id are never logged or printed: the
log keeps "auth_ok" only.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sample_data  # noqa: E402
from mock_answers import (MSG_BAD_KEY, MSG_BAD_TOKEN, MSG_NO_TOKEN,  # noqa: E402
                          MSG_RATE_LIMIT, MSG_V2_RATE_LIMIT, ApiError,
                          conversation_answer, encode, inbox_answer, parse_total,
                          v2_conversation, v2_error, v2_inbox, v2_metadata,
                          v2_success)
from mock_faults import FaultAnswers  # noqa: E402
from mock_state import State, parse_rate  # noqa: E402

DEFAULT_API_KEY = "test-api-key-0123456789"
DEFAULT_LOGIN_TOKEN = "test-login-token-AQEDAR0xyz"
DEFAULT_ACCOUNT_ID = "test-account-id-b3f1c2d4e5"
MAX_BODY = 1 << 20
PATH_CONV = "/v1/messages/conversation"
PATH_INBOX = "/v1/messages/inbox"
PATH_V2_MESSAGES = "/v2/messages"
PATH_V2_LOGIN = "/v2/login"
V2_ACTIONS = {"get_conversation": "conversation", "list_inbox": "inbox"}


# ------------------------------------------------------------------ handler

class Handler(FaultAnswers, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MockLinkupAPI/1.0"
    sys_version = ""
    # TCP_NODELAY: headers and body go out in two writes; with Nagle the
    # body waits for the client's delayed ACK, adding ~40 ms per request
    disable_nagle_algorithm = True

    def version_string(self):
        return self.server_version

    @property
    def state(self):
        return self.server.state

    def setup(self):
        super().setup()
        self.state.new_connection()
        self.conn_no = None     # numbered at its first API request

    def log_message(self, fmt, *args):
        if self.state.args.verbose:
            sys.stderr.write("mock_api: %s\n" % (fmt % args))

    # -- plumbing

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
                if len(out) > MAX_BODY:
                    raise ApiError(413, "Request body too large")
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, "Request body too large")
        return self.rfile.read(n) if n > 0 else b""

    def send_raw(self, status, body, ctype="application/json; charset=utf-8",
                 headers=None, length=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status, payload, headers=None):
        self.send_raw(status, encode(payload), headers=headers)

    # -- verbs

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def dispatch(self):
        path = self.path.split("?", 1)[0]
        try:
            if path.startswith("/_control/"):
                return self.control(path[len("/_control/"):])
            if path in (PATH_CONV, PATH_INBOX):
                if self.command != "POST":
                    self.read_body()
                    return self.send_json(405, {"status": "error",
                                                "message": "Method not allowed"})
                return self.api("conversation" if path == PATH_CONV else "inbox")
            if path in (PATH_V2_MESSAGES, PATH_V2_LOGIN):
                if self.command != "POST":
                    self.read_body()
                    return self.send_json(405, v2_error("INVALID_ACTION",
                                                        "Method not allowed"))
                return self.api_v2(path == PATH_V2_LOGIN)
            self.read_body()
            self.send_json(404, {"status": "error", "message": "Not found"})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except ApiError as e:
            self.send_json(e.status, {"status": "error", "message": e.message})

    # -- control

    def control(self, name):
        raw = self.read_body()
        try:
            arg = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise ApiError(400, "control body is not JSON")
        fn = getattr(self, "ctl_" + name, None)
        if fn is None:
            raise ApiError(404, "unknown control " + name)
        self.send_json(200, fn(arg))

    def ctl_log(self, arg):
        with self.state.lock:
            return [dict(e) for e in self.state.log]

    def ctl_stats(self, arg):
        return self.state.stats()

    def ctl_reset(self, arg):
        self.state.reset(data=bool(arg.get("data")))
        return {"ok": True}

    def ctl_fault(self, arg):
        f = dict(arg)
        f.setdefault("count", 1)
        f.setdefault("path", None)
        f.setdefault("match", None)
        if "kind" not in f:
            raise ApiError(400, "fault needs a kind")
        if f["count"] == 0:
            return {"ok": True}
        with self.state.lock:
            self.state.faults.append(f)
        return {"ok": True}

    def ctl_faults(self, arg):
        with self.state.lock:
            return [dict(f) for f in self.state.faults]

    def ctl_clear_faults(self, arg):
        with self.state.lock:
            self.state.faults = []
        self.state.release_all()
        return {"ok": True}

    def ctl_set(self, arg):
        state = self.state
        with state.lock:
            if "latency_ms" in arg:
                state.latency_ms = int(arg["latency_ms"])
            if "inclusive_cursor" in arg:
                state.inclusive_cursor = bool(arg["inclusive_cursor"])
            if "inbox_null_cursor" in arg:
                state.inbox_null_cursor = bool(arg["inbox_null_cursor"])
            if "account_inactive" in arg:
                state.account_inactive = bool(arg["account_inactive"])
            if "rate_limit" in arg:
                r = arg["rate_limit"]
                state.rate_limit = (parse_rate("%s/%s" % tuple(r)) if r
                                    else None)
                state.admitted.clear()
        return state.stats()

    def ctl_add_message(self, arg):
        with self.state.lock:
            conv = self.state.dataset.find(arg.get("conversation"))
            if conv is None:
                raise ApiError(404, "no such conversation")
            return conv.add_text(arg.get("text", ""), arg.get("sender"),
                                 arg.get("timestamp"))

    def ctl_add_conversation(self, arg):
        key = arg.get("key") or "added-%d" % int(time.time() * 1000)
        cid = arg.get("conversation_id") or sample_data.conversation_id(key)
        with self.state.lock:
            conv = sample_data.Conversation(
                key, cid, arg.get("name", "Added Person"), arg.get("profile_url"),
                headline=arg.get("headline", ""), unread=int(arg.get("unread", 0)),
                created=int(arg.get("created", sample_data.ms("2025-06-01 00:00:00"))))
            t = int(arg.get("last_time", sample_data.ms("2025-06-01 12:00:00")))
            n = int(arg.get("messages", 0))
            for i in range(n):
                conv.add_text("%s: message %d of %d" % (key, i + 1, n),
                              None if i % 2 == 0 else sample_data.OWNER_NAME,
                              t - (n - 1 - i) * 60000)
            self.state.dataset.add(conv)
        return {"key": key, "conversation_id": cid, "count": n}

    def ctl_conversations(self, arg):
        with self.state.lock:
            return [{"key": c.key, "id": c.id, "profile_url": c.profile_url,
                     "name": c.name, "count": len(c), "last_time": c.last_time()}
                    for c in self.state.dataset.inbox_order()]

    # -- API

    def api(self, which):
        if self.conn_no is None:
            self.conn_no = self.state.api_connection()
        entry = self.state.begin(which, self.conn_no)
        try:
            self.api_request(which, entry)
        except ApiError as e:
            self.state.answered(entry, e.status)
            self.send_json(e.status, {"status": "error", "message": e.message})
        finally:
            self.state.end(entry)

    def api_request(self, which, entry):
        state = self.state
        raw = self.read_body()
        if not state.admit():
            raise ApiError(429, MSG_RATE_LIMIT)
        with state.lock:
            latency, want_key, want_token = (state.latency_ms, state.api_key,
                                             state.login_token)
        if latency > 0:
            time.sleep(latency / 1000.0)
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        if isinstance(body, dict):
            ref = body.get("conversation_id") or body.get("linkedin_url")
            entry["conversation"] = ref if isinstance(ref, str) else None
            cur = body.get("cursor" if which == "conversation" else "next_cursor")
            entry["cursor"] = cur
            entry["total_results"] = body.get("total_results")
        if self.headers.get("x-api-key") != want_key:
            raise ApiError(401, MSG_BAD_KEY)
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object")
        token = body.get("login_token")
        if not token:
            raise ApiError(401, MSG_NO_TOKEN)
        if token != want_token:
            raise ApiError(401, MSG_BAD_TOKEN)
        entry["auth_ok"] = True
        total = parse_total(body)
        if which == "conversation" and not entry["conversation"]:
            raise ApiError(400, "linkedin_url or conversation_id is required")
        fault = state.take_fault(which, entry["conversation"])
        entry["fault"] = fault["kind"] if fault else None
        if fault and self.early_fault(fault, entry):
            return
        if which == "conversation":
            payload, n = conversation_answer(state, body, entry["conversation"],
                                             total)
        else:
            payload, n = inbox_answer(state, body, total)
        self.finish_answer(payload, n, fault, entry)


    # -- API v2

    def api_v2(self, login):
        if self.conn_no is None:
            self.conn_no = self.state.api_connection()
        entry = self.state.begin("login" if login else "messages", self.conn_no, 2)
        try:
            self.api_v2_request(login, entry)
        except ApiError as e:
            self.state.answered(entry, e.status)
            self.send_json(e.status, v2_error(e.code, e.message))
        finally:
            self.state.end(entry)

    def v2_body(self, entry):
        """The request, logged as v1's is; (body, action, params)."""
        raw = self.read_body()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return None, None, {}
        action = body.get("action")
        params = body.get("params")
        params = params if isinstance(params, dict) else {}
        if entry["path"] == "messages":
            entry["path"] = V2_ACTIONS.get(action, "messages")
            ref = params.get("conversation_id") or params.get("profile_url")
            entry["conversation"] = ref if isinstance(ref, str) else None
            entry["cursor"] = params.get("cursor")
            entry["total_results"] = params.get("count")
        return body, action, params

    def api_v2_request(self, login, entry):
        state = self.state
        body, action, params = self.v2_body(entry)
        if not state.admit():
            raise ApiError(429, MSG_V2_RATE_LIMIT, "RATE_LIMITED")
        with state.lock:
            latency, want_key, want_token, want_account, inactive = (
                state.latency_ms, state.api_key, state.login_token,
                state.account_id, state.account_inactive)
        if latency > 0:
            time.sleep(latency / 1000.0)
        if self.headers.get("x-api-key") != want_key:
            raise ApiError(403, "API key missing, invalid or expired", "INVALID_API_KEY")
        if body is None:
            raise ApiError(400, "Request body must be a JSON object", "INVALID_PARAMS")
        if login:
            return self.v2_login(body, want_token, want_account, entry)
        if body.get("account_id") != want_account:
            raise ApiError(404, "Account not found or not yours", "INVALID_ACCOUNT")
        if inactive:
            raise ApiError(403, "Account suspended or inactive", "ACCOUNT_INACTIVE")
        if action not in V2_ACTIONS:
            raise ApiError(400, "Action not supported on messages", "INVALID_ACTION")
        entry["auth_ok"] = True
        total = parse_total({"total_results": params.get("count", 10)})
        which, ref = entry["path"], entry["conversation"]
        if which == "conversation" and not ref:
            raise ApiError(400, "conversation_id or profile_url is required")
        fault = state.take_fault(which, ref)
        entry["fault"] = fault["kind"] if fault else None
        if fault and self.early_fault(fault, entry):
            return
        if which == "conversation":
            v1, n = conversation_answer(state, {"cursor": params.get("cursor"),
                                                "linkedin_url": params.get("profile_url")},
                                        ref, total)
            if v1.get("status") != "success":
                raise ApiError(400, "Conversation not found", "INVALID_PARAMS")
            data = v2_conversation(state, v1, ref)
        else:
            v1, n = inbox_answer(state, {"next_cursor": params.get("cursor")}, total)
            data = v2_inbox(v1)
        self.finish_answer(v2_success(data, action, want_account), n, fault, entry)

    def v2_login(self, body, want_token, want_account, entry):
        if body.get("platform") != "linkedin":
            raise ApiError(400, "platform must be linkedin", "INVALID_PARAMS")
        if not body.get("login_token") or body.get("login_token") != want_token:
            raise ApiError(400, "login_token is invalid or expired", "INVALID_PARAMS")
        entry["auth_ok"] = True
        entry["status"] = 200
        self.state.consumed(entry, 0)
        self.send_json(200, {"success": True, "data": {"account_id": want_account},
                             "metadata": v2_metadata("login", want_account, 0)})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    state = None        # the State the handlers share, set by main()

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return      # clients that hang up, sockets we aborted on purpose
        super().handle_error(request, client_address)


def parse_args(argv):
    p = argparse.ArgumentParser(description="mock LinkupAPI server")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--dataset", default="sample", choices=("sample", "bench"))
    p.add_argument("--scale", type=float, default=None,
                   help="bench: multiply conversations/messages/big (env LINKUP_BENCH_SCALE)")
    p.add_argument("--bench-convs", type=int, default=None)
    p.add_argument("--bench-messages", type=int, default=None)
    p.add_argument("--bench-big", type=int, default=None)
    p.add_argument("--api-key", default=DEFAULT_API_KEY)
    p.add_argument("--login-token", default=DEFAULT_LOGIN_TOKEN)
    p.add_argument("--account-id", default=DEFAULT_ACCOUNT_ID)
    p.add_argument("--rate-limit", default=None, metavar="N/SECONDS",
                   help="answer 429 past N requests in any SECONDS (default: none)")
    p.add_argument("--verbose", action="store_true", help="log requests to stderr")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    state = State(args)
    server = Server(("127.0.0.1", args.port), Handler)
    server.state = state

    def stop(signum, frame):
        state.release_all()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write("LISTENING %d\n" % server.server_address[1])
    sys.stdout.flush()
    server.serve_forever(poll_interval=0.05)
    server.server_close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)     # daemon threads may still hold sockets: do not wait


if __name__ == "__main__":
    main()
