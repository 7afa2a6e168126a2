"""A reference rendering of the text format (SPEC section 4), written
independently of the C renderer: the tests compare the mounted files with it
byte for byte. Untrusted text is shown as render.h says: C0 controls but tab
and newline (NUL too), DEL and C1 as \\xHH, the bidirectional controls as
<U+XXXX>, invalid UTF-8 as U+FFFD. Times in UTC (the tests mount with
TZ=UTC)."""

import math
import time

import sample_data as sd

BIDI_CONTROLS = set(range(0x202a, 0x202f)) | set(range(0x2066, 0x206a))


def safe(s, keep_newlines=False):
    out = []
    for ch in s:
        o = ord(ch)
        if ch == "\t" or (ch == "\n" and keep_newlines):
            out.append(ch)
        elif o < 0x20 or 0x7f <= o <= 0x9f:
            out.append("\\x%02x" % o)
        elif o in BIDI_CONTROLS:
            out.append("<U+%04X>" % o)
        else:
            out.append(ch)
    return "".join(out)


def text_of(m):
    """The text as linkupfs receives it (the mock sends the placeholder as
    raw invalid bytes, which the renderer repairs one U+FFFD per maximal
    subpart, as Python's "replace" does)."""
    bad = sd.INVALID_UTF8_BYTES.decode("utf-8", "replace")
    return m["text"].replace(sd.INVALID_UTF8_PLACEHOLDER, bad)


def sender_of(m):
    s = m.get("sender")
    if s is None:
        si = m.get("sender_info") or {}
        s = ("%s %s" % (si.get("first_name", ""), si.get("last_name", ""))).strip()
    return s


def render(m):
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(m["timestamp"] // 1000))
    head = "[%s] %s" % (when, safe(sender_of(m)))
    if m.get("message_type", "TEXT") != "TEXT":
        head += " (%s)" % safe(m["message_type"])
    text = text_of(m).replace("\r\n", "\n").rstrip("\n")
    if m.get("message_type", "TEXT") != "TEXT" and not text:
        return head + "\n"
    lines = [safe(line) for line in text.split("\n")]
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
