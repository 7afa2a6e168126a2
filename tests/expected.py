"""A reference rendering of the text format (SPEC section 4), written
independently of the C renderer, for messages with plain text: the tests
compare the mounted files with it byte for byte. Times in UTC (the tests
mount with TZ=UTC)."""

import math
import time


def sender_of(m):
    s = m.get("sender")
    if s is None:
        si = m.get("sender_info") or {}
        s = ("%s %s" % (si.get("first_name", ""), si.get("last_name", ""))).strip()
    return s


def render(m):
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(m["timestamp"] // 1000))
    head = "[%s] %s" % (when, sender_of(m))
    if m.get("message_type", "TEXT") != "TEXT":
        head += " (%s)" % m["message_type"]
    text = m["text"].replace("\r\n", "\n").rstrip("\n")
    if m.get("message_type", "TEXT") != "TEXT" and not text:
        return head + "\n"
    lines = text.split("\n")
    out = head + ":" + (" " + lines[0] if lines[0] else "") + "\n"
    for line in lines[1:]:
        out += "  " + line + "\n"
    return out


def messages(conv):
    """The conversation's messages, oldest first."""
    return [conv.message(i) for i in range(len(conv))]


def page_slices(n_messages, page_size):
    """(start, end) of each page over messages oldest first: page 1 holds
    the first page_size messages, the last page the newest (may be short)."""
    return [(i, min(i + page_size, n_messages))
            for i in range(0, n_messages, page_size)]


def pages(conv, page_size):
    """Expected page texts, page 1 = the oldest page_size messages."""
    msgs = messages(conv)
    return ["".join(render(m) for m in msgs[a:b])
            for a, b in page_slices(len(msgs), page_size)]


def page_count(n_messages, page_size):
    return math.ceil(n_messages / page_size)
