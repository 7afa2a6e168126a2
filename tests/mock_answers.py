"""The answers of the mock LinkupAPI (tests/mock_api.py) to valid API
requests, read from the data set under the state's lock: a conversation
page (newest first, the cursor an exclusive timestamp unless
inclusive_cursor), an inbox page (its cursor an opaque base64 offset); the
JSON encoding a real server sends; ApiError, an error answer.

v2 (SPEC section 7): the same pages from the same data, in v2's shape
(v2_conversation, v2_inbox) and envelope (v2_success, v2_error).  What
the docs leave open is chosen here, and said so: data carries neither
conversation_id nor profile_url; a message's sender_info gains
profile_url (the owner's OWNER_PROFILE_URL, else the participant's, when
known); last_message.sender becomes {"name", "is_me"}; an unknown
conversation is 400 INVALID_PARAMS "Conversation not found"; the
/v2/login answer is data.account_id.
"""

import base64
import bisect
import copy
import json
import time

import sample_data

INBOX_CURSOR_PREFIX = b"inbox-offset:"

MSG_BAD_KEY = "Invalid API key"
MSG_NO_TOKEN = "login_token is required"
MSG_BAD_TOKEN = "LinkedIn session expired, login_token invalid"
MSG_RATE_LIMIT = "API Rate limit exceeded"
MSG_V2_RATE_LIMIT = "Too many requests, slow down and retry after a short delay"
OWNER_PROFILE_URL = "https://www.linkedin.com/in/titouan-prioux/"

# v2 error code per HTTP status, for the status faults and ApiError.
V2_CODES = {400: "INVALID_PARAMS", 401: "INVALID_API_KEY", 402: "INSUFFICIENT_CREDITS",
            403: "INVALID_API_KEY", 404: "INVALID_ACCOUNT", 429: "RATE_LIMITED"}


def encode(payload):
    """JSON bytes as a real server sends them (UTF-8, not ASCII-escaped), with
    the invalid-UTF-8 placeholder replaced by raw invalid bytes."""
    b = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    ph = sample_data.INVALID_UTF8_PLACEHOLDER.encode()
    if ph in b:
        b = b.replace(ph, sample_data.INVALID_UTF8_BYTES)
    return b


class ApiError(Exception):
    def __init__(self, status, message, code=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or v2_code(status)


def v2_code(status):
    return V2_CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "INVALID_PARAMS")


def v2_metadata(action, account_id, credits):
    return {"action": action, "account_id": account_id,
            "credits_consumed": credits,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def v2_error(code, message, action=None, account_id=None):
    """A v2 error envelope: errors never consume credits."""
    return {"success": False, "error": {"code": code, "message": message},
            "metadata": v2_metadata(action, account_id, 0)}


def v2_success(data, action, account_id):
    """A v2 success envelope; credits_consumed is set when it is sent."""
    return {"success": True, "data": data,
            "metadata": v2_metadata(action, account_id, None)}


def v2_message(conv, m):
    m = copy.deepcopy(m)
    si = m.get("sender_info")
    if isinstance(si, dict):
        own = (si.get("first_name"), si.get("last_name")) == (
            sample_data.OWNER_FIRST, sample_data.OWNER_LAST)
        url = OWNER_PROFILE_URL if own else conv.profile_url
        if url:
            si["profile_url"] = url
    return m


def v2_conversation(state, payload, ref):
    """A v1 conversation payload (conversation_answer) in v2's shape."""
    d = payload["data"]
    with state.lock:
        conv = state.dataset.find(ref)
        out = {"total_message_count": len(conv) if conv else 0,
               "unread_count": d.get("unread_count"),
               "last_seen_message": d.get("last_seen_message"),
               "last_seen_at": d.get("last_seen_at"),
               "messages": [v2_message(conv, m) for m in d["messages"]]}
    p = d.get("pagination") or {}
    if p.get("has_next_page") and p.get("next_cursor"):
        out["next_cursor"] = p["next_cursor"]
    return out


def v2_inbox(payload):
    """A v1 inbox payload (inbox_answer) in v2's shape."""
    d = copy.deepcopy(payload["data"])
    for c in d["conversations"]:
        last = c["last_message"]
        name = last.get("sender") or ""
        last["sender"] = {"name": name, "is_me": name == sample_data.OWNER_NAME}
    return d


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


def conversation_answer(state, body, ref, total):
    """(payload, number of messages) for a valid conversation request."""
    cursor = body.get("cursor")
    if cursor is not None and cursor != "":
        if not isinstance(cursor, (str, int)) or not str(cursor).isdigit():
            raise ApiError(400, "Invalid cursor")
        cursor = int(cursor)
    else:
        cursor = None
    with state.lock:
        conv = state.dataset.find(ref)
        if conv is None:
            return {"status": "error", "message": "Conversation not found"}, 0
        ts = conv.ts
        if cursor is None:
            hi = len(ts)
        elif state.inclusive_cursor:
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
            # a boolean, as in the API's own example (SPEC section 6)
            "last_seen_message": conv.unread == 0 if ts else None,
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


def inbox_answer(state, body, total):
    offset = parse_inbox_cursor(body.get("next_cursor"))
    with state.lock:
        order = state.dataset.inbox_order()
        page = [c.inbox_entry() for c in order[offset:offset + total]]
        data = {"conversations": page, "total_results": len(page)}
        if offset + total < len(order):
            data["next_cursor"] = inbox_cursor(offset + total)
        elif state.inbox_null_cursor:
            data["next_cursor"] = None
    return {"status": "success", "data": data}, len(page)
