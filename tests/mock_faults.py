"""Fault injection of the mock LinkupAPI (tests/mock_api.py).

/_control/fault queues a fault; State.take_fault (tests/mock_state.py)
hands it to the next matching API request once its key, token,
total_results and conversation have passed, and FaultAnswers (the part of
mock_api.Handler defined here) applies it.  Kinds and their params
(defaults in brackets):

  status          HTTP `status` [500], a JSON error body with `message` [a
                  stock one per status], `retry_after` -> Retry-After
  error200        200 {"status": "error", "message": `message` [Something
                  went wrong, please try again]}
  not_json        200 "this is not json"
  html            `status` [502], an nginx error page as text/html
  hang            no answer for `seconds` [120] (clear_faults or reset end
                  it sooner), then a plain close
  slow            waits `ms` [1000] (clear_faults or reset end it sooner),
                  then the normal answer
  truncated       the first half of the normal body, Content-Length saying
                  so: a complete HTTP answer that is not JSON
  reset           Content-Length of the whole body, half of it sent, then a
                  connection reset (SO_LINGER 0)
  drip            Content-Length max(10 000 000, body), the body one byte a
                  second for `seconds` [60] (clear_faults or reset end it
                  sooner), then a plain close short of the length
  huge            a valid JSON body of about `mb` MiB [40], streamed
  wrong_shape     `variant` [no_data]: no_data, null_data,
                  messages_not_array, numbers_as_strings, null_pagination
  cursor_stuck    has_next_page true, next cursor = the one sent [or
                  9999999999999; inbox: offset 0]
  no_cursor       has_next_page true, no next_cursor (conversation only)
  empty_has_next  no messages (inbox: no conversations), has_next_page
                  true, the next cursor as cursor_stuck's

wrong_shape and the three chain faults change success answers only (an
unknown conversation's error stays as it is).  What each costs: the
docstring of tests/mock_state.py.

On /v2/messages the same faults, in v2's shape: status and error200 send
a v2 error envelope ({"success": false, "error": {"code", "message"}});
its code is `code` [by status: 400 INVALID_PARAMS, 401/403
INVALID_API_KEY, 402 INSUFFICIENT_CREDITS, 404 INVALID_ACCOUNT, 429
RATE_LIMITED, 5xx INTERNAL_ERROR; error200: INVALID_PARAMS]; the chain
faults and null_pagination act on data.next_cursor (v2 has no pagination
object, so no_cursor there is the chain's normal end).  path names the
action: "conversation" (get_conversation), "inbox" (list_inbox).
"""

import io
import socket
import struct
import time

from mock_answers import (MSG_BAD_TOKEN, MSG_V2_RATE_LIMIT, encode, inbox_cursor,
                          v2_code, v2_error)
from mock_state import credits_for

STUCK_CURSOR = "9999999999999"
DRIP_LENGTH = 10_000_000

STATUS_MESSAGES = {
    400: "Bad request",
    401: MSG_BAD_TOKEN,
    403: "LinkedIn token expired, please reconnect your account",
    429: "Too many requests: rate limit exceeded",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service temporarily unavailable",
}
STATUS_MESSAGES_V2 = {
    400: "Missing or invalid params",
    401: "Invalid API key",
    402: "Insufficient credits, please top up your account",
    403: "API key missing, invalid or expired",
    404: "Account not found or not yours",
    429: MSG_V2_RATE_LIMIT,
    500: "Internal server error",
}
HTML_PAGE = ("<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
             "<center><h1>{code} {reason}</h1></center>\r\n"
             "<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n")



def numbers_as_strings(payload):
    d = payload.get("data")
    if not isinstance(d, dict):
        return payload
    for k in ("total_results", "total_other_member_message_count",
              "total_message_count", "unread_count", "last_seen_at"):
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
    v2 = "success" in payload
    if variant in ("no_data", "null_data"):
        out = {"success": True, "metadata": payload["metadata"]} if v2 else {
            "status": "success"}
        if variant == "null_data":
            out["data"] = None
        return out
    if not isinstance(d, dict):
        return payload
    if variant == "messages_not_array":
        key = "conversations" if "conversations" in d else "messages"
        d[key] = {"0": "not an array"}
    elif variant == "numbers_as_strings":
        numbers_as_strings(payload)
    elif variant == "null_pagination":
        if "conversations" in d or v2:
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
    if "success" in payload:     # v2: the cursor is in data, its absence the end
        if kind == "cursor_stuck":
            d["next_cursor"] = str(stuck)
        elif kind == "no_cursor":
            d.pop("next_cursor", None)
        elif kind == "empty_has_next":
            d["messages"] = []
            d["next_cursor"] = str(stuck)
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


class FaultAnswers:
    """The fault side of mock_api.Handler: a mixin over its state,
    send_raw and send_json."""

    def early_fault(self, f, entry):
        """Faults that need no normal answer; True when the request is done."""
        kind = f["kind"]
        v2 = entry.get("version") == 2
        if kind == "status":
            code = int(f.get("status", 500))
            hdr = {}
            if f.get("retry_after") is not None:
                hdr["Retry-After"] = str(f["retry_after"])
            self.state.answered(entry, code)
            if v2:
                self.send_json(code, v2_error(
                    f.get("code") or v2_code(code),
                    f.get("message") or STATUS_MESSAGES_V2.get(code, "Error")), hdr)
            else:
                self.send_json(code, {"status": "error", "message": f.get(
                    "message") or STATUS_MESSAGES.get(code, "Error")}, hdr)
        elif kind == "error200":
            self.state.answered(entry, 200)
            msg = f.get("message") or "Something went wrong, please try again"
            if v2:
                self.send_json(200, v2_error(f.get("code") or "INVALID_PARAMS", msg))
            else:
                self.send_json(200, {"status": "error", "message": msg})
        elif kind == "not_json":
            self.state.answered(entry, 200)
            self.send_raw(200, b"this is not json")
        elif kind == "html":
            code = int(f.get("status", 502))
            reason = self.responses.get(code, ("Error",))[0]
            self.state.answered(entry, code)
            self.send_raw(code, HTML_PAGE.format(code=code, reason=reason).encode(),
                          "text/html")
        elif kind == "hang":
            with self.state.lock:
                ev = self.state.release
            ev.wait(float(f.get("seconds", 120)))
            self.close_connection = True    # then a plain close, no answer
        elif kind == "slow":
            with self.state.lock:
                ev = self.state.release
            ev.wait(float(f.get("ms", 1000)) / 1000.0)
            return False
        else:
            return False
        return True

    def finish_answer(self, payload, n, f, entry):
        kind = f["kind"] if f else None
        v2 = entry.get("version") == 2
        ok = payload.get("success") is True if v2 else payload.get("status") == "success"
        sent_cursor = entry["cursor"]
        is_inbox = entry["path"] == "inbox"
        if ok and kind in ("cursor_stuck", "no_cursor", "empty_has_next"):
            chain_fault(payload, kind, sent_cursor, is_inbox)
            if kind == "empty_has_next":
                n = 0
        elif ok and kind == "wrong_shape":
            payload = wrong_shape(payload, f.get("variant", "no_data"))
        entry["status"] = 200
        if v2 and ok:
            payload["metadata"]["credits_consumed"] = credits_for(n)
        if kind == "truncated":
            b = encode(payload)
            if not v2:
                self.state.charge(entry, 1)  # a complete HTTP answer, bad JSON
            return self.send_raw(200, b[:len(b) // 2])
        if kind == "reset":
            b = encode(payload)
            self.send_raw(200, b[:len(b) // 2], length=len(b))
            return self.abort()
        if kind == "drip":
            return self.drip(encode(payload), float(f.get("seconds", 60)))
        if kind == "huge":
            return self.huge(payload, float(f.get("mb", 40)))
        if v2:
            self.state.consumed(entry, credits_for(n) if ok else 0)
        else:
            self.state.charge(entry, credits_for(n) if ok else 1)
        self.send_json(200, payload)

    def drip(self, body, seconds):
        with self.state.lock:
            ev = self.state.release
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
