#!/usr/bin/python3
"""Write the seed corpora of the libFuzzer harnesses (tests/fuzz/fuzz_*.c).

    /usr/bin/python3 tests/fuzz/make_corpus.py build/fuzz/corpus

Starts the mock LinkupAPI (tests/mock_api.py) on a free port, asks it real
questions (normal pages, the empty and the hostile conversation, the inbox,
every wrong-shape and error fault it can inject), stops it, and writes what
it answered as seed files under OUT/<harness>/seed-*:

    conversation  bodies of /v1/messages/conversation
    inbox         bodies of /v1/messages/inbox
    error         2 bytes of HTTP status (big-endian) + error body
    render        8 bytes of timestamp (ms, little-endian) + 1 flag byte +
                  sender NUL type NUL text, from the messages answered
    names         1 suffix byte + profile URL NUL conversation id
    v2            1 selector byte (0 conversation, 1 inbox, 2 error, 3
                  login) + a /v2/messages or /v2/login answer (an error:
                  2 bytes of HTTP status first, as for error)

Standard library only. The files are rewritten on each run; what libFuzzer
added to the same directories is left alone. Nothing here is committed.
"""

import json
import os
import struct
import subprocess
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, TESTS)
import mock_api  # noqa: E402
import sample_data as sd  # noqa: E402

# No proxy from the environment may stand between us and 127.0.0.1.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Mock:
    """The mock API as a child process, stopped by stop()."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(TESTS, "mock_api.py"), "--port", "0"],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("LISTENING "):
            self.stop()
            raise RuntimeError("mock did not start: %r" % line)
        self.base = "http://127.0.0.1:%d" % int(line.split()[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def post(self, path, payload, key=mock_api.DEFAULT_API_KEY):
        """(HTTP status, raw body bytes) of a POST, errors included."""
        data = json.dumps(payload).encode()
        req = urllib.request.Request(self.base + path, data=data, method="POST")
        req.add_header("Content-Type", "application/json")
        if key is not None:
            req.add_header("x-api-key", key)
        try:
            with OPENER.open(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def control(self, name, arg=None):
        return self.post("/_control/" + name, arg or {}, key=None)

    def fault(self, kind, path, **params):
        self.control("fault", dict(kind=kind, count=1, path=path, **params))

    def conversation(self, ref, total=10, cursor=None, by_url=False, **kw):
        body = {"login_token": mock_api.DEFAULT_LOGIN_TOKEN,
                "total_results": total}
        body["linkedin_url" if by_url else "conversation_id"] = ref
        if cursor is not None:
            body["cursor"] = cursor
        body.update(kw)
        return self.post(mock_api.PATH_CONV, body)

    def inbox(self, total=10, cursor=None, **kw):
        body = {"login_token": mock_api.DEFAULT_LOGIN_TOKEN,
                "total_results": total}
        if cursor is not None:
            body["next_cursor"] = cursor
        body.update(kw)
        return self.post(mock_api.PATH_INBOX, body)


    def v2(self, action, key=mock_api.DEFAULT_API_KEY,
           account=mock_api.DEFAULT_ACCOUNT_ID, **params):
        body = {"account_id": account, "action": action, "params": params}
        return self.post(mock_api.PATH_V2_MESSAGES, body, key=key)


def v2_seeds(m):
    """{label: seed} of v2 answers, each behind its selector byte."""
    conv, inbox, err, login = b"\0", b"\1", b"\2", b"\3"
    out = {}
    s, b = m.v2("get_conversation", conversation_id=sd.ALES_ID, count=5)
    out["conv-p1"] = conv + b
    cur = loads(b)["data"]["next_cursor"]
    out["conv-p2"] = conv + m.v2("get_conversation", conversation_id=sd.ALES_ID,
                                 count=5, cursor=cur)[1]
    out["conv-end"] = conv + m.v2("get_conversation", conversation_id=sd.ALES_ID,
                                  count=100)[1]
    out["conv-hostile"] = conv + m.v2("get_conversation",
                                      conversation_id=sd.HOSTILE_ID, count=3)[1]
    out["inbox-p1"] = inbox + m.v2("list_inbox", count=10)[1]
    out["inbox-all"] = inbox + m.v2("list_inbox", count=50)[1]
    for kind in ("cursor_stuck", "empty_has_next", "no_cursor"):
        m.fault(kind, "conversation")
        out["conv-" + kind] = conv + m.v2("get_conversation",
                                          conversation_id=sd.DUP_A_ID, count=3)[1]
    for shape in SHAPES:
        m.fault("wrong_shape", "conversation", variant=shape)
        out["conv-shape-" + shape] = conv + m.v2(
            "get_conversation", conversation_id=sd.DUP_B_ID, count=3)[1]
    errors = {"bad-key": m.v2("list_inbox", key="wrong"),
              "bad-account": m.v2("list_inbox", account="nope"),
              "bad-action": m.v2("send_message"),
              "not-found": m.v2("get_conversation", conversation_id="urn:nope")}
    for code in (400, 402, 403, 429, 500):
        m.fault("status", "inbox", status=code)
        errors["status-%d" % code] = m.v2("list_inbox")
    for label, (s, b) in errors.items():
        out["error-" + label] = err + struct.pack(">H", s) + b
    out["error200"] = inbox + m.v2("list_inbox", account="nope")[1]
    s, b = m.post(mock_api.PATH_V2_LOGIN, {"platform": "linkedin",
                                           "login_token": mock_api.DEFAULT_LOGIN_TOKEN})
    out["login"] = login + b
    out["login-bad"] = login + m.post(mock_api.PATH_V2_LOGIN, {"platform": "linkedin",
                                                               "login_token": "x"})[1]
    return out


def loads(body):
    """JSON with invalid UTF-8 kept as surrogate escapes (the hostile
    conversation sends raw invalid bytes)."""
    return json.loads(body.decode("utf-8", "surrogateescape"))


def raw(s):
    return s.encode("utf-8", "surrogateescape")


def next_cursor(body):
    return loads(body)["data"]["pagination"]["next_cursor"]


CONV_FAULTS = [("error200", {}), ("not_json", {}), ("truncated", {}),
               ("cursor_stuck", {}), ("no_cursor", {}), ("empty_has_next", {})]
SHAPES = ["no_data", "null_data", "messages_not_array", "numbers_as_strings",
          "null_pagination"]


def conversation_seeds(m):
    """{label: (status, body)} of conversation answers."""
    out = {}
    out["ales-p1"] = m.conversation(sd.ALES_ID)
    out["ales-p2"] = m.conversation(sd.ALES_ID, cursor=next_cursor(out["ales-p1"][1]))
    out["ales-all"] = m.conversation(sd.ALES_ID, total=40)
    out["ales-by-url"] = m.conversation(sd.ALES_URL, total=3, by_url=True)
    out["long-p1"] = m.conversation(sd.LONG_ID, total=5)
    out["empty"] = m.conversation(sd.EMPTY_ID)
    out["not-found"] = m.conversation("urn:li:msg_conversation:nope")
    out["noprofile"] = m.conversation(sd.NOPROFILE_ID)
    # hostile, newest first: goodbye, invalid UTF-8, evil sender, then the
    # 64 KiB message alone, then the controls and escapes
    out["hostile-p1"] = m.conversation(sd.HOSTILE_ID, total=3)
    cur = next_cursor(out["hostile-p1"][1])
    out["hostile-big"] = m.conversation(sd.HOSTILE_ID, total=1, cursor=cur)
    cur = next_cursor(out["hostile-big"][1])
    out["hostile-p3"] = m.conversation(sd.HOSTILE_ID, total=10, cursor=cur)
    for kind, params in CONV_FAULTS:
        m.fault(kind, "conversation", **params)
        out["fault-" + kind] = m.conversation(sd.DUP_A_ID, total=3)
    for shape in SHAPES:
        m.fault("wrong_shape", "conversation", variant=shape)
        out["shape-" + shape] = m.conversation(sd.DUP_B_ID, total=3)
    return out


def inbox_seeds(m):
    out = {}
    out["p1"] = m.inbox()
    out["p2"] = m.inbox(cursor=loads(out["p1"][1])["data"]["next_cursor"])
    out["all"] = m.inbox(total=50)
    m.control("set", {"inbox_null_cursor": True})
    out["null-cursor"] = m.inbox(total=50)
    m.control("set", {"inbox_null_cursor": False})
    for kind in ("error200", "not_json", "truncated", "cursor_stuck",
                 "empty_has_next"):
        m.fault(kind, "inbox")
        out["fault-" + kind] = m.inbox(total=3)
    for shape in SHAPES:
        m.fault("wrong_shape", "inbox", variant=shape)
        out["shape-" + shape] = m.inbox(total=3)
    return out


def error_seeds(m):
    out = {}
    out["bad-key"] = m.post(mock_api.PATH_INBOX, {}, key="wrong")
    out["no-token"] = m.inbox(login_token="")
    out["bad-token"] = m.inbox(login_token="expired")
    out["bad-total"] = m.inbox(total=0)
    out["bad-cursor"] = m.conversation(sd.ALES_ID, cursor="abc")
    out["not-found-path"] = m.post("/v1/nope", {})
    out["not-found-conv"] = m.conversation("urn:li:msg_conversation:nope")
    for code in (400, 401, 403, 429, 500, 502, 503):
        m.fault("status", "inbox", status=code)
        out["status-%d" % code] = m.inbox()
    for code in (502, 504):
        m.fault("html", "inbox", status=code)
        out["html-%d" % code] = m.inbox()
    m.fault("error200", "inbox", message="LinkedIn session expired, please reconnect")
    out["error200-auth"] = m.inbox()
    m.fault("not_json", "inbox")
    out["not-json"] = m.inbox()
    out["empty-500"] = (500, b"")
    return out


def render_seeds(pages):
    """Messages of the conversation pages, with varied times and flags."""
    out = {}
    times = [0, -1, 2**63 - 1, -2**63, 253402300799999 + 1]
    n = 0
    for label, (status, body) in sorted(pages.items()):
        if status != 200:
            continue
        try:
            msgs = loads(body)["data"]["messages"]
        except (ValueError, KeyError, TypeError):
            continue
        for msg in msgs:
            if not isinstance(msg, dict):
                continue
            t = msg.get("timestamp", 0)
            t = int(t) if str(t).isdigit() else 0
            if n % 4 == 3:
                t = times[n // 4 % len(times)]
            fields = [msg.get("sender") or "", msg.get("message_type") or "",
                      msg.get("text") or ""]
            seed = struct.pack("<qB", t, n % 16)
            seed += b"\0".join(raw(f) for f in fields)
            out["%s-%d" % (label, n)] = seed
            n += 1
    return out


def names_seeds(inbox_body):
    out = {}
    for i, e in enumerate(loads(inbox_body)["data"]["conversations"]):
        url = (e.get("participant") or {}).get("profile_url")
        seed = bytes([i]) + (raw(url) + b"\0" if url else b"") + raw(e["conversation_id"])
        out["inbox-%d" % i] = seed
    return out


def write(outdir, name, seeds):
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    for label, data in seeds.items():
        with open(os.path.join(d, "seed-" + label), "wb") as f:
            f.write(data)
    return len(seeds)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: make_corpus.py OUTDIR\n")
        return 2
    outdir = argv[1]
    m = Mock()
    try:
        conv = conversation_seeds(m)
        inbox = inbox_seeds(m)
        errors = error_seeds(m)
        v2 = v2_seeds(m)
    finally:
        m.stop()
    counts = {
        "conversation": write(outdir, "conversation",
                              {k: b for k, (s, b) in conv.items()}),
        "inbox": write(outdir, "inbox", {k: b for k, (s, b) in inbox.items()}),
        "error": write(outdir, "error",
                       {k: struct.pack(">H", s) + b for k, (s, b) in errors.items()}),
        "render": write(outdir, "render", render_seeds(conv)),
        "names": write(outdir, "names", names_seeds(inbox["all"][1])),
        "v2": write(outdir, "v2", v2),
    }
    print("make_corpus: " + ", ".join("%s %d" % kv for kv in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
