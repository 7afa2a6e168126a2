#!/usr/bin/python3
"""Mock LinkupAPI v1 server for the linkupfs tests and demo.

    /usr/bin/python3 tests/mock_api.py --port 0 [--latency-ms N]
        [--dataset sample|bench] [--scale F] [--api-key K --login-token T]
        [--rate-limit N/SECONDS]

Prints exactly one line "LISTENING <port>" on stdout once ready; stops on
SIGTERM/SIGINT.  Listens on 127.0.0.1 only, HTTP/1.1 keep-alive, every
response has a Content-Length.

API (SPEC.md section 6): POST /v1/messages/conversation, POST
/v1/messages/inbox.  Control (no auth, JSON in and out, GET or POST):

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
                            "rate_limit": [N, SECONDS] or null}
    /_control/add_message   {"conversation": id|url|key, "text", "sender",
                            "timestamp"} -> the message added (the newest)
    /_control/add_conversation {"key", "name", "profile_url", "conversation_id",
                            "messages": N}
    /_control/conversations [{key, id, profile_url, name, count, last_time}]
                            in inbox order

Fault kinds: status, error200, not_json, truncated, wrong_shape, huge, html,
hang, drip, reset, slow, cursor_stuck, no_cursor, empty_has_next (see
apply_fault).  Credits are charged as v1 charges them: every API request
given a complete answer below 500 costs credits, errors included (400, 401,
403, 404, 429, an error answered with 200, a body that is not JSON or is
truncated); a success 1 per 10 results or fraction (at least 1: normal,
slow, cursor_stuck, no_cursor, empty_has_next, wrong_shape), anything else 1.
A 5xx, a hang, a drip, a reset or a huge body (no complete answer a client
keeps) costs nothing.

Rate limit (off unless --rate-limit or /_control/set asks): at most N
requests admitted in any SECONDS (a sliding window over the requests
admitted; refused ones do not count).  Past it: HTTP 429
{"status":"error","message":"API Rate limit exceeded"}, charged 1 credit,
counted in stats as answers_429 (as every 429 answer, faults included).

The API key and login token are never logged or printed: the log keeps
"auth_ok" only.
"""

import argparse
import base64
import collections
import bisect
import io
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sample_data  # noqa: E402

DEFAULT_API_KEY = "test-api-key-0123456789"
DEFAULT_LOGIN_TOKEN = "test-login-token-AQEDAR0xyz"
MAX_BODY = 1 << 20
PATH_CONV = "/v1/messages/conversation"
PATH_INBOX = "/v1/messages/inbox"
INBOX_CURSOR_PREFIX = b"inbox-offset:"
STUCK_CURSOR = "9999999999999"
DRIP_LENGTH = 10_000_000

MSG_BAD_KEY = "Invalid API key"
MSG_NO_TOKEN = "login_token is required"
MSG_BAD_TOKEN = "LinkedIn session expired, login_token invalid"
MSG_RATE_LIMIT = "API Rate limit exceeded"
STATUS_MESSAGES = {
    400: "Bad request",
    401: MSG_BAD_TOKEN,
    403: "LinkedIn token expired, please reconnect your account",
    429: "Too many requests: rate limit exceeded",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service temporarily unavailable",
}
HTML_PAGE = ("<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
             "<center><h1>{code} {reason}</h1></center>\r\n"
             "<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n")


def credits_for(n):
    return max(1, (n + 9) // 10)


def parse_rate(text):
    """"N/SECONDS" -> (N, SECONDS); "0" or None -> None."""
    if text in (None, "", "0"):
        return None
    n, _, sec = str(text).partition("/")
    n, sec = int(n), float(sec)
    if n < 1 or sec <= 0:
        raise ValueError("rate limit must be N/SECONDS with N, SECONDS > 0")
    return n, sec


def encode(payload):
    """JSON bytes as a real server sends them (UTF-8, not ASCII-escaped), with
    the invalid-UTF-8 placeholder replaced by raw invalid bytes."""
    b = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    ph = sample_data.INVALID_UTF8_PLACEHOLDER.encode()
    if ph in b:
        b = b.replace(ph, sample_data.INVALID_UTF8_BYTES)
    return b


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class State:
    """Everything the handlers share; self.lock guards all mutable fields
    (dataset contents included: add_message mutates conversations)."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.api_key = args.api_key
        self.login_token = args.login_token
        self.start_latency = args.latency_ms
        self.start_rate = parse_rate(args.rate_limit)
        self.dataset = self.load_dataset()
        self.release = threading.Event()
        self.reset(data=False)

    def load_dataset(self):
        a = self.args
        if a.dataset == "bench":
            return sample_data.build("bench", scale=a.scale, convs=a.bench_convs,
                                     messages=a.bench_messages, big=a.bench_big)
        return sample_data.build(a.dataset)

    def reset(self, data=False):
        with self.lock:
            self.log = []
            self.seq = 0
            self.requests = 0
            self.credits = 0
            self.answers_429 = 0
            self.rate_limit = self.start_rate   # (N, seconds) or None
            self.admitted = collections.deque()  # times of admitted requests
            self.connections = 0        # that carried an API request
            self.tcp_connections = 0    # all accepted, control ones too
            self.max_active = getattr(self, "active", 0)
            self.active = getattr(self, "active", 0)
            self.faults = []
            self.latency_ms = self.start_latency
            self.inclusive_cursor = False
            self.inbox_null_cursor = False
            if data:
                self.dataset = self.load_dataset()
        self.release_all()

    def release_all(self):
        """Wake every hanging/dripping connection."""
        with self.lock:
            old, self.release = self.release, threading.Event()
        old.set()

    def new_connection(self):
        with self.lock:
            self.tcp_connections += 1

    def api_connection(self):
        with self.lock:
            self.connections += 1
            return self.connections

    def begin(self, path, conn):
        with self.lock:
            self.seq += 1
            self.requests += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            entry = {"seq": self.seq, "path": path, "conversation": None,
                     "cursor": None, "total_results": None, "status": None,
                     "fault": None, "auth_ok": False, "credits": 0,
                     "t_start": time.monotonic(), "t_end": None, "conn": conn}
            self.log.append(entry)
            return entry

    def end(self, entry):
        with self.lock:
            self.active -= 1
            entry["t_end"] = time.monotonic()

    def charge(self, entry, credits):
        """Count a request's credits before its answer goes out, so a client
        that reads /_control/stats right after the answer sees them."""
        with self.lock:
            entry["credits"] = credits
            self.credits += credits

    def answered(self, entry, status, credits=1):
        """An error answer about to go out: v1 charges it below 500."""
        entry["status"] = status
        with self.lock:
            if status == 429:
                self.answers_429 += 1
        if status < 500:
            self.charge(entry, credits)

    def admit(self):
        """False when the rate limit refuses this request now."""
        with self.lock:
            if self.rate_limit is None:
                return True
            n, sec = self.rate_limit
            now = time.monotonic()
            while self.admitted and self.admitted[0] <= now - sec:
                self.admitted.popleft()
            if len(self.admitted) >= n:
                return False
            self.admitted.append(now)
            return True

    def take_fault(self, path, ref):
        with self.lock:
            for f in self.faults:
                if f["path"] not in (None, path):
                    continue
                if f["match"] is not None and (ref is None or f["match"] not in ref):
                    continue
                if f.get("skip", 0) > 0:    # let the first N through
                    f["skip"] -= 1
                    continue
                if f["count"] > 0:
                    f["count"] -= 1
                    if f["count"] == 0:
                        self.faults.remove(f)
                return dict(f)
        return None

    def stats(self):
        with self.lock:
            return {"requests": self.requests, "credits": self.credits,
                    "connections": self.connections,
                    "tcp_connections": self.tcp_connections,
                    "active": self.active,
                    "max_active": self.max_active,
                    "latency_ms": self.latency_ms,
                    "inclusive_cursor": self.inclusive_cursor,
                    "answers_429": self.answers_429,
                    "rate_limit": list(self.rate_limit) if self.rate_limit else None,
                    "faults_pending": len(self.faults)}


STATE = None


# ------------------------------------------------------------------ answers

def parse_total(body, default=10):
    v = body.get("total_results", default)
    if isinstance(v, bool):
        raise ApiError(400, "total_results must be an integer")
    if isinstance(v, str) and v.strip().isdigit():
        v = int(v)
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if not isinstance(v, int):
        raise ApiError(400, "total_results must be an integer")
    if v < 1:
        raise ApiError(400, "total_results must be at least 1")
    return v


def conversation_answer(body, ref, total):
    """(payload, number of messages) for a valid conversation request."""
    cursor = body.get("cursor")
    if cursor is not None and cursor != "":
        if not isinstance(cursor, (str, int)) or not str(cursor).isdigit():
            raise ApiError(400, "Invalid cursor")
        cursor = int(cursor)
    else:
        cursor = None
    with STATE.lock:
        conv = STATE.dataset.find(ref)
        if conv is None:
            return {"status": "error", "message": "Conversation not found"}, 0
        ts = conv.ts
        if cursor is None:
            hi = len(ts)
        elif STATE.inclusive_cursor:
            hi = bisect.bisect_right(ts, cursor)
        else:
            hi = bisect.bisect_left(ts, cursor)
        lo = max(0, hi - total)
        msgs = [conv.message(i) for i in range(hi - 1, lo - 1, -1)]
        data = {"conversation_id": conv.id}
        if body.get("linkedin_url"):
            data["profile_url"] = conv.profile_url
        seen = max(0, len(ts) - 1 - conv.unread)
        data.update({
            "total_results": len(msgs),
            "total_other_member_message_count": conv.other_count,
            "unread_count": conv.unread,
            "last_seen_message": conv.entity_urn(seen) if ts else None,
            "last_seen_at": ts[seen] if ts else None,
            "messages": msgs,
            "pagination": {
                "count": len(msgs),
                "has_next_page": lo > 0 and bool(msgs),
                "next_cursor": str(msgs[-1]["timestamp"]) if msgs else None,
            },
        })
    return {"status": "success", "data": data}, len(msgs)


def inbox_cursor(offset):
    return base64.b64encode(INBOX_CURSOR_PREFIX + str(offset).encode()).decode()


def parse_inbox_cursor(c):
    if c is None or c == "":
        return 0
    try:
        raw = base64.b64decode(str(c), validate=True)
        if raw.startswith(INBOX_CURSOR_PREFIX):
            return int(raw[len(INBOX_CURSOR_PREFIX):])
    except ValueError:
        pass
    raise ApiError(400, "Invalid next_cursor")


def inbox_answer(body, total):
    offset = parse_inbox_cursor(body.get("next_cursor"))
    with STATE.lock:
        order = STATE.dataset.inbox_order()
        page = [c.inbox_entry() for c in order[offset:offset + total]]
        data = {"conversations": page, "total_results": len(page)}
        if offset + total < len(order):
            data["next_cursor"] = inbox_cursor(offset + total)
        elif STATE.inbox_null_cursor:
            data["next_cursor"] = None
    return {"status": "success", "data": data}, len(page)


def numbers_as_strings(payload):
    d = payload.get("data")
    if not isinstance(d, dict):
        return payload
    for k in ("total_results", "total_other_member_message_count",
              "unread_count", "last_seen_at"):
        if isinstance(d.get(k), int):
            d[k] = str(d[k])
    for m in d.get("messages", []):
        m["timestamp"] = str(m["timestamp"])
    p = d.get("pagination")
    if isinstance(p, dict):
        p["count"] = str(p["count"])
    for c in d.get("conversations", []):
        c["unread"] = str(c["unread"])
        if isinstance(c["last_message"].get("time"), int):
            c["last_message"]["time"] = str(c["last_message"]["time"])
    return payload


def wrong_shape(payload, variant):
    d = payload.get("data")
    if variant == "no_data":
        return {"status": "success"}
    if variant == "null_data":
        return {"status": "success", "data": None}
    if not isinstance(d, dict):
        return payload
    if variant == "messages_not_array":
        key = "conversations" if "conversations" in d else "messages"
        d[key] = {"0": "not an array"}
    elif variant == "numbers_as_strings":
        numbers_as_strings(payload)
    elif variant == "null_pagination":
        if "conversations" in d:
            d["next_cursor"] = None
        else:
            d["pagination"] = None
    return payload


def chain_fault(payload, kind, sent_cursor, is_inbox):
    """cursor_stuck / no_cursor / empty_has_next on a success payload."""
    d = payload.get("data")
    if not isinstance(d, dict):
        return payload
    stuck = sent_cursor if sent_cursor not in (None, "") else STUCK_CURSOR
    if is_inbox:
        if kind == "cursor_stuck":
            d["next_cursor"] = sent_cursor or inbox_cursor(0)
        elif kind == "empty_has_next":
            d["conversations"], d["total_results"] = [], 0
            d["next_cursor"] = sent_cursor or inbox_cursor(0)
        return payload
    p = d.setdefault("pagination", {})
    p["has_next_page"] = True
    if kind == "cursor_stuck":
        p["next_cursor"] = str(stuck)
    elif kind == "no_cursor":
        p.pop("next_cursor", None)
    elif kind == "empty_has_next":
        d["messages"], d["total_results"], p["count"] = [], 0, 0
        p["next_cursor"] = str(stuck)
    return payload


# ------------------------------------------------------------------ handler

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MockLinkupAPI/1.0"
    sys_version = ""
    # TCP_NODELAY: headers and body go out in two writes; with Nagle the
    # body waits for the client's delayed ACK, adding ~40 ms per request
    disable_nagle_algorithm = True

    def version_string(self):
        return self.server_version

    def setup(self):
        super().setup()
        STATE.new_connection()
        self.conn_no = None     # numbered at its first API request

    def log_message(self, fmt, *args):
        if STATE.args.verbose:
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

    def abort(self):
        """Close with SO_LINGER 0: the peer sees a connection reset."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.rfile.close()
        self.wfile.close()
        self.connection.close()   # last reference: the real close, an RST
        # the base class flushes and closes these after us: harmless sinks
        self.rfile, self.wfile = io.BytesIO(), io.BytesIO()

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
        with STATE.lock:
            return [dict(e) for e in STATE.log]

    def ctl_stats(self, arg):
        return STATE.stats()

    def ctl_reset(self, arg):
        STATE.reset(data=bool(arg.get("data")))
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
        with STATE.lock:
            STATE.faults.append(f)
        return {"ok": True}

    def ctl_faults(self, arg):
        with STATE.lock:
            return [dict(f) for f in STATE.faults]

    def ctl_clear_faults(self, arg):
        with STATE.lock:
            STATE.faults = []
        STATE.release_all()
        return {"ok": True}

    def ctl_set(self, arg):
        with STATE.lock:
            if "latency_ms" in arg:
                STATE.latency_ms = int(arg["latency_ms"])
            if "inclusive_cursor" in arg:
                STATE.inclusive_cursor = bool(arg["inclusive_cursor"])
            if "inbox_null_cursor" in arg:
                STATE.inbox_null_cursor = bool(arg["inbox_null_cursor"])
            if "rate_limit" in arg:
                r = arg["rate_limit"]
                STATE.rate_limit = (parse_rate("%s/%s" % tuple(r)) if r
                                    else None)
                STATE.admitted.clear()
        return STATE.stats()

    def ctl_add_message(self, arg):
        with STATE.lock:
            conv = STATE.dataset.find(arg.get("conversation"))
            if conv is None:
                raise ApiError(404, "no such conversation")
            return conv.add_text(arg.get("text", ""), arg.get("sender"),
                                 arg.get("timestamp"))

    def ctl_add_conversation(self, arg):
        key = arg.get("key") or "added-%d" % int(time.time() * 1000)
        cid = arg.get("conversation_id") or sample_data.conversation_id(key)
        with STATE.lock:
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
            STATE.dataset.add(conv)
        return {"key": key, "conversation_id": cid, "count": n}

    def ctl_conversations(self, arg):
        with STATE.lock:
            return [{"key": c.key, "id": c.id, "profile_url": c.profile_url,
                     "name": c.name, "count": len(c), "last_time": c.last_time()}
                    for c in STATE.dataset.inbox_order()]

    # -- API

    def api(self, which):
        if self.conn_no is None:
            self.conn_no = STATE.api_connection()
        entry = STATE.begin(which, self.conn_no)
        try:
            self.api_request(which, entry)
        except ApiError as e:
            STATE.answered(entry, e.status)
            self.send_json(e.status, {"status": "error", "message": e.message})
        finally:
            STATE.end(entry)

    def api_request(self, which, entry):
        raw = self.read_body()
        if not STATE.admit():
            raise ApiError(429, MSG_RATE_LIMIT)
        with STATE.lock:
            latency, want_key, want_token = (STATE.latency_ms, STATE.api_key,
                                             STATE.login_token)
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
        fault = STATE.take_fault(which, entry["conversation"])
        entry["fault"] = fault["kind"] if fault else None
        if fault and self.early_fault(fault, entry):
            return
        if which == "conversation":
            payload, n = conversation_answer(body, entry["conversation"], total)
        else:
            payload, n = inbox_answer(body, total)
        self.finish_answer(payload, n, fault, entry)

    def early_fault(self, f, entry):
        """Faults that need no normal answer; True when the request is done."""
        kind = f["kind"]
        if kind == "status":
            code = int(f.get("status", 500))
            hdr = {}
            if f.get("retry_after") is not None:
                hdr["Retry-After"] = str(f["retry_after"])
            STATE.answered(entry, code)
            self.send_json(code, {"status": "error", "message": f.get(
                "message") or STATUS_MESSAGES.get(code, "Error")}, hdr)
        elif kind == "error200":
            STATE.answered(entry, 200)
            self.send_json(200, {"status": "error", "message": f.get(
                "message") or "Something went wrong, please try again"})
        elif kind == "not_json":
            STATE.answered(entry, 200)
            self.send_raw(200, b"this is not json")
        elif kind == "html":
            code = int(f.get("status", 502))
            reason = self.responses.get(code, ("Error",))[0]
            STATE.answered(entry, code)
            self.send_raw(code, HTML_PAGE.format(code=code, reason=reason).encode(),
                          "text/html")
        elif kind == "hang":
            with STATE.lock:
                ev = STATE.release
            ev.wait(float(f.get("seconds", 120)))
            self.close_connection = True    # then a plain close, no answer
        elif kind == "slow":
            with STATE.lock:
                ev = STATE.release
            ev.wait(float(f.get("ms", 1000)) / 1000.0)
            return False
        else:
            return False
        return True

    def finish_answer(self, payload, n, f, entry):
        kind = f["kind"] if f else None
        ok = payload.get("status") == "success"
        sent_cursor = entry["cursor"]
        is_inbox = entry["path"] == "inbox"
        if ok and kind in ("cursor_stuck", "no_cursor", "empty_has_next"):
            chain_fault(payload, kind, sent_cursor, is_inbox)
            if kind == "empty_has_next":
                n = 0
        elif ok and kind == "wrong_shape":
            payload = wrong_shape(payload, f.get("variant", "no_data"))
        entry["status"] = 200
        if kind == "truncated":
            b = encode(payload)
            STATE.charge(entry, 1)      # a complete HTTP answer, bad JSON
            return self.send_raw(200, b[:len(b) // 2])
        if kind == "reset":
            b = encode(payload)
            self.send_raw(200, b[:len(b) // 2], length=len(b))
            return self.abort()
        if kind == "drip":
            return self.drip(encode(payload), float(f.get("seconds", 60)))
        if kind == "huge":
            return self.huge(payload, float(f.get("mb", 40)))
        STATE.charge(entry, credits_for(n) if ok else 1)
        self.send_json(200, payload)

    def drip(self, body, seconds):
        with STATE.lock:
            ev = STATE.release
        self.send_raw(200, b"", length=max(DRIP_LENGTH, len(body)))
        body = body + b" " * 64
        deadline = time.monotonic() + seconds
        i = 0
        while time.monotonic() < deadline and i < len(body):
            self.wfile.write(body[i:i + 1])
            self.wfile.flush()
            i += 1
            if ev.wait(1.0):
                break
        self.close_connection = True    # a plain close, short of the length

    def huge(self, payload, mb):
        """A syntactically valid JSON body of about mb MiB, streamed."""
        size = int(mb * 1024 * 1024)
        marker = "@@PADDING@@"
        if isinstance(payload.get("data"), dict):
            payload["data"]["padding"] = marker
        else:
            payload["padding"] = marker
        head, tail = encode(payload).split(marker.encode(), 1)
        pad = max(0, size - len(head) - len(tail))
        self.send_raw(200, b"", length=len(head) + pad + len(tail))
        self.wfile.write(head)
        chunk = b"x" * 65536
        left = pad
        while left > 0:
            self.wfile.write(chunk[:min(left, len(chunk))])
            left -= min(left, len(chunk))
        self.wfile.write(tail)
        self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

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
    p.add_argument("--rate-limit", default=None, metavar="N/SECONDS",
                   help="answer 429 past N requests in any SECONDS (default: none)")
    p.add_argument("--verbose", action="store_true", help="log requests to stderr")
    return p.parse_args(argv)


def main(argv=None):
    global STATE
    args = parse_args(argv)
    STATE = State(args)
    server = Server(("127.0.0.1", args.port), Handler)

    def stop(signum, frame):
        STATE.release_all()
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
