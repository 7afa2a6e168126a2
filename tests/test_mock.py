"""Checks of the mock LinkupAPI server itself, over real HTTP (urllib)."""

import http.client
import json
import signal
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

import sample_data as sd
from conftest import Mock, wait_for

CONV = "/v1/messages/conversation"
INBOX = "/v1/messages/inbox"


def call(mock, path, body=None, key=None, token=None, timeout=10, raw=False):
    """POST with urllib: (status, headers, decoded JSON or raw bytes)."""
    body = dict(body or {})
    if token is not False:
        body.setdefault("login_token", mock.login_token if token is None else token)
    headers = {"Content-Type": "application/json"}
    if key is not False:
        headers["x-api-key"] = mock.api_key if key is None else key
    req = urllib.request.Request(mock.url + path, data=json.dumps(body).encode(),
                                 headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, hdrs, data = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, data = e.code, e.headers, e.read()
    return status, hdrs, data if raw else json.loads(data)


def conv_page(mock, ref, n, cursor=None, by="conversation_id"):
    body = {by: ref, "total_results": n}
    if cursor is not None:
        body["cursor"] = cursor
    status, _, js = call(mock, CONV, body)
    assert status == 200 and js["status"] == "success", js
    return js["data"]


def walk(mock, ref, n):
    pages, cursor = [], None
    while True:
        d = conv_page(mock, ref, n, cursor)
        pages.append(d)
        if not d["pagination"]["has_next_page"]:
            return pages
        cursor = d["pagination"]["next_cursor"]
        assert len(pages) < 1000


# ------------------------------------------------------------- basics

def test_sample_data_invariants():
    ds = sd.build("sample")
    assert [c.id for c in ds.inbox_order()] == sd.SAMPLE_INBOX_ORDER
    assert [len(c) for c in ds.inbox_order()] == [r[4] for r in sd.SAMPLE_TABLE]
    assert len({c.last_time() for c in ds.conversations}) == len(ds.conversations)
    for c in ds.conversations:
        assert all(a < b for a, b in zip(c.ts, c.ts[1:])), c.key
        for ch in "(),:=":
            assert ch in c.id
    assert "/" in sd.ALES_ID
    assert sd.DUP_A_DIR == "dup-name" and sd.DUP_B_DIR == "dup-name-2"
    assert sd.SAMPLE_INBOX_ORDER.index(sd.DUP_A_ID) < sd.SAMPLE_INBOX_ORDER.index(sd.DUP_B_ID)
    ales = ds.find(sd.ALES_URL)
    texts = [ales.message(i)["text"] for i in range(len(ales))]
    assert "😃" in texts and any("👍🏽" in t for t in texts)
    assert any("\u200d" in t for t in texts) and any("\r\n" in t for t in texts)
    assert any(t.count("\n") == 2 for t in texts)
    assert sum(1 for i in range(len(ales)) if "sender" not in ales.message(i)) == 1
    assert ales.message(35)["message_type"] == "SYSTEM" and ales.message(35)["text"] == ""
    assert ales.ts[-1] == sd.ALES_LAST and ales.ts[-2] == sd.ALES_SYSTEM_TIME


def test_listening_and_sigterm(mock_factory):
    m = mock_factory()
    assert m.stats()["requests"] == 0
    assert m.stop() == 0


def test_bench_dataset_small():
    m = Mock(dataset="bench", extra_args=["--bench-convs", "5", "--bench-messages",
                                          "1000", "--bench-big", "400"])
    try:
        convs = m.conversations()
        assert len(convs) == 5
        assert sum(c["count"] for c in convs) == 1000
        assert max(c["count"] for c in convs) == 400
        pages = walk(m, convs[0]["id"], 100)
        assert sum(len(p["messages"]) for p in pages) == convs[0]["count"]
    finally:
        assert m.stop() == 0


# ------------------------------------------------------------- auth, params

def test_bad_key(mock):
    status, _, js = call(mock, CONV, {"conversation_id": sd.ALES_ID}, key="wrong")
    assert status == 401 and js == {"status": "error", "message": "Invalid API key"}
    status, _, js = call(mock, INBOX, {}, key=False)
    assert status == 401 and js["status"] == "error"


def test_bad_token(mock):
    status, _, js = call(mock, CONV, {"conversation_id": sd.ALES_ID}, token="nope")
    assert status == 401 and "login_token" in js["message"]
    status, _, js = call(mock, INBOX, {}, token=False)
    assert status == 401 and js["status"] == "error"
    log = mock.log()
    assert [e["auth_ok"] for e in log] == [False, False]
    dump = json.dumps(log) + json.dumps(mock.stats())
    assert mock.api_key not in dump and mock.login_token not in dump


def test_bad_params_and_unknown(mock):
    status, _, js = call(mock, CONV, {"conversation_id": sd.ALES_ID, "total_results": "ten"})
    assert status == 400 and js["status"] == "error" and js["message"]
    status, _, js = call(mock, CONV, {"total_results": 10})
    assert status == 400 and "conversation_id" in js["message"]
    status, _, js = call(mock, CONV, {"conversation_id": "urn:li:nothing"})
    assert status == 200 and js == {"status": "error", "message": "Conversation not found"}
    # v1 charges every answered call, errors included: two 400s, one 200
    assert mock.stats()["credits"] == 3
    assert [e["credits"] for e in mock.api_log()] == [1, 1, 1]


def test_errors_are_charged_but_not_5xx_nor_unanswered(mock):
    for code in (400, 401, 403, 404, 429, 500, 502, 503):
        mock.fault("status", status=code, path="conversation")
        status, _, js = call(mock, CONV, {"conversation_id": sd.ALES_ID})
        assert status == code and js["status"] == "error"
    mock.fault("error200", path="conversation")
    call(mock, CONV, {"conversation_id": sd.ALES_ID})
    mock.fault("reset", path="conversation")
    with pytest.raises(Exception):
        call(mock, CONV, {"conversation_id": sd.ALES_ID})
    wait_for(lambda: mock.stats()["active"] == 0, timeout=5)
    assert [e["credits"] for e in mock.api_log()] == [1] * 5 + [0] * 3 + [1, 0]
    st = mock.stats()
    assert st["credits"] == 6 and st["answers_429"] == 1


# ------------------------------------------------------------- conversation

def test_lookup_by_url(mock):
    d = conv_page(mock, sd.ALES_URL, 100, by="linkedin_url")
    assert d["profile_url"] == sd.ALES_URL and d["conversation_id"] == sd.ALES_ID
    assert len(d["messages"]) == sd.ALES_COUNT and d["total_results"] == sd.ALES_COUNT
    assert d["pagination"] == {"count": 37, "has_next_page": False,
                               "next_cursor": str(d["messages"][-1]["timestamp"])}
    assert d["messages"][0]["text"] == "😃"
    assert d["messages"][0]["timestamp"] == sd.ALES_LAST
    d2 = conv_page(mock, sd.ALES_ID, 5)
    assert "profile_url" not in d2 and d2["pagination"]["has_next_page"] is True


def test_long_talker_chain(mock):
    pages = walk(mock, sd.LONG_URL, 100)
    assert len(pages) == 13
    msgs = [m for p in pages for m in p["messages"]]
    assert len(msgs) == sd.LONG_COUNT
    assert len({m["entity_urn"] for m in msgs}) == sd.LONG_COUNT
    ts = [m["timestamp"] for m in msgs]
    assert all(a > b for a, b in zip(ts, ts[1:]))
    assert msgs[0]["text"].startswith("message 1234") and msgs[-1]["text"].startswith("message 0001")
    assert [p["pagination"]["has_next_page"] for p in pages] == [True] * 12 + [False]
    for p in pages:
        assert p["pagination"]["next_cursor"] == str(p["messages"][-1]["timestamp"])
    st = mock.stats()
    assert st["requests"] == 13 and st["credits"] == 12 * 10 + 4
    # the mock logs a request's end just after its answer has gone out
    wait_for(lambda: mock.stats()["active"] == 0, timeout=5)
    log = mock.log()
    assert [e["cursor"] for e in log[1:]] == [p["pagination"]["next_cursor"] for p in pages[:-1]]
    assert all(e["status"] == 200 and e["t_end"] >= e["t_start"] for e in log)


def test_inclusive_cursor(mock):
    mock.set(inclusive_cursor=True)
    p1 = conv_page(mock, sd.LONG_ID, 10)
    p2 = conv_page(mock, sd.LONG_ID, 10, p1["pagination"]["next_cursor"])
    assert p2["messages"][0]["entity_urn"] == p1["messages"][-1]["entity_urn"]
    mock.reset()
    p2 = conv_page(mock, sd.LONG_ID, 10, p1["pagination"]["next_cursor"])
    assert p2["messages"][0]["timestamp"] < p1["messages"][-1]["timestamp"]


def test_empty_conversation(mock):
    d = conv_page(mock, sd.EMPTY_URL, 10, by="linkedin_url")
    assert d["messages"] == [] and d["total_results"] == 0
    assert d["pagination"] == {"count": 0, "has_next_page": False, "next_cursor": None}
    assert mock.stats()["credits"] == 1


def test_invalid_utf8_is_raw(mock):
    status, _, body = call(mock, CONV, {"conversation_id": sd.HOSTILE_ID,
                                        "total_results": 100}, raw=True)
    assert status == 200 and sd.INVALID_UTF8_BYTES in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    js = json.loads(body.decode("utf-8", "replace"))
    texts = [m["text"] for m in js["data"]["messages"]]
    assert "\x1b[2J\x1b[31mred" in texts
    assert max(len(t) for t in texts) == sd.HOSTILE_BIG_LEN


def test_add_message(mock):
    m = mock.add_message(sd.ALES_ID, "nouveau message")
    d = conv_page(mock, sd.ALES_ID, 2)
    assert d["messages"][0]["text"] == "nouveau message"
    assert d["messages"][0]["timestamp"] == m["timestamp"] > sd.ALES_LAST


# ------------------------------------------------------------- inbox

def test_inbox_paging(mock):
    seen, cursor, pages = [], None, 0
    while True:
        body = {"total_results": 7}
        if cursor:
            body["next_cursor"] = cursor
        status, _, js = call(mock, INBOX, body)
        assert status == 200 and js["status"] == "success"
        pages += 1
        seen += [c["conversation_id"] for c in js["data"]["conversations"]]
        cursor = js["data"].get("next_cursor")
        if not cursor:
            break
    assert pages == 4 and seen == sd.SAMPLE_INBOX_ORDER
    assert mock.stats()["credits"] == 4
    status, _, js = call(mock, INBOX, {})
    first = js["data"]["conversations"]
    assert len(first) == 10
    times = [c["last_message"]["time"] for c in first]
    assert times == sorted(times, reverse=True)
    assert first[0]["participant"]["profile_url"] == sd.ALES_URL
    noprof = [c for c in call(mock, INBOX, {"total_results": 100})[2]["data"]["conversations"]
              if c["conversation_id"] == sd.NOPROFILE_ID][0]
    assert "profile_url" not in noprof["participant"]


# ------------------------------------------------------------- faults

def test_fault_429_retry_after(mock):
    mock.fault("status", status=429, retry_after=2, path="conversation")
    status, hdrs, js = call(mock, CONV, {"conversation_id": sd.ALES_ID})
    assert status == 429 and hdrs["Retry-After"] == "2" and js["status"] == "error"
    status, _, js = call(mock, CONV, {"conversation_id": sd.ALES_ID})
    assert status == 200 and js["status"] == "success"
    assert [e["fault"] for e in mock.log()] == ["status", None]
    assert mock.stats()["credits"] == 2     # the 429 too, as v1 charges it


def test_fault_matching_fifo(mock):
    mock.fault("error200", match="long-talker", message="first")
    mock.fault("error200", count=2, message="second")
    status, _, js = call(mock, INBOX, {})
    assert js["message"] == "second"
    status, _, js = call(mock, CONV, {"linkedin_url": sd.LONG_URL})
    assert status == 200 and js["message"] == "first"
    status, _, js = call(mock, CONV, {"linkedin_url": sd.LONG_URL})
    assert js["message"] == "second"
    assert call(mock, CONV, {"linkedin_url": sd.LONG_URL})[2]["status"] == "success"


def test_fault_not_json_and_truncated(mock):
    mock.fault("not_json")
    mock.fault("truncated")
    status, _, body = call(mock, CONV, {"conversation_id": sd.ALES_ID}, raw=True)
    assert status == 200 and body == b"this is not json"
    status, _, body = call(mock, CONV, {"conversation_id": sd.ALES_ID, "total_results": 20},
                           raw=True)
    assert status == 200 and body.startswith(b'{"status"')
    with pytest.raises(ValueError):
        json.loads(body)


def test_fault_shapes(mock):
    mock.fault("wrong_shape", variant="numbers_as_strings")
    d = conv_page(mock, sd.LONG_ID, 10)
    assert isinstance(d["messages"][0]["timestamp"], str)
    assert d["pagination"]["count"] == "10"
    mock.fault("cursor_stuck")
    d = conv_page(mock, sd.LONG_ID, 10, cursor="1745000000000")
    assert d["pagination"]["next_cursor"] == "1745000000000"
    mock.fault("empty_has_next")
    d = conv_page(mock, sd.ALES_ID, 10)
    assert d["messages"] == [] and d["pagination"]["has_next_page"] is True
    mock.fault("html", status=502)
    status, hdrs, body = call(mock, CONV, {"conversation_id": sd.ALES_ID}, raw=True)
    assert status == 502 and b"<html>" in body and "text/html" in hdrs["Content-Type"]


def test_fault_huge(mock):
    mock.fault("huge", mb=3)
    status, _, body = call(mock, CONV, {"conversation_id": sd.ALES_ID}, raw=True)
    assert status == 200 and abs(len(body) - 3 * 1024 * 1024) < 100
    assert json.loads(body)["status"] == "success"


def test_fault_hang_released(mock):
    mock.fault("hang", seconds=120)
    result = {}

    def client():
        t0 = time.monotonic()
        try:
            call(mock, CONV, {"conversation_id": sd.ALES_ID}, timeout=30)
            result["outcome"] = "answered"
        except (http.client.HTTPException, urllib.error.URLError, OSError) as e:
            result["outcome"] = type(e).__name__
        result["elapsed"] = time.monotonic() - t0

    t = threading.Thread(target=client)
    t.start()
    wait_for(lambda: mock.stats()["active"] == 1, timeout=5)
    # other requests are still served meanwhile
    assert conv_page(mock, sd.LONG_ID, 10)["messages"]
    assert mock.stats()["max_active"] >= 1
    mock.clear_faults()
    t.join(5)
    assert not t.is_alive()
    assert result["outcome"] != "answered" and result["elapsed"] < 5
    entry = mock.log()[0]
    assert entry["fault"] == "hang" and entry["status"] is None


def test_fault_reset(mock):
    mock.fault("reset")
    with pytest.raises((ConnectionResetError, http.client.IncompleteRead,
                        http.client.RemoteDisconnected, urllib.error.URLError)):
        call(mock, CONV, {"conversation_id": sd.LONG_ID, "total_results": 100}, raw=True)


def test_fault_drip(mock):
    mock.fault("drip", seconds=60)
    sock = socket.create_connection(("127.0.0.1", mock.port), timeout=5)
    body = json.dumps({"conversation_id": sd.ALES_ID,
                       "login_token": mock.login_token}).encode()
    sock.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nx-api-key: %s\r\n"
                 b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                 % (CONV.encode(), mock.api_key.encode(), len(body)) + body)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, rest = data.split(b"\r\n\r\n", 1)
    assert b" 200 " in head and b"Content-Length: 10000000" in head
    t0 = time.monotonic()
    while len(rest) < 2:
        rest += sock.recv(4096)
    assert time.monotonic() - t0 > 0.5          # one byte per second
    mock.clear_faults()
    sock.settimeout(5)
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            break
    sock.close()


def test_slow_and_parallel(mock):
    mock.set(latency_ms=300)
    threads = [threading.Thread(target=conv_page, args=(mock, ref, 10))
               for ref in (sd.ALES_ID, sd.LONG_ID)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - t0 < 0.55
    assert mock.stats()["max_active"] == 2
    wait_for(lambda: mock.stats()["active"] == 0, timeout=5)
    a, b = mock.log()
    assert a["t_start"] < b["t_end"] and b["t_start"] < a["t_end"]
    mock.reset()
    assert mock.stats()["max_active"] == 0
    mock.fault("slow", ms=200)
    t0 = time.monotonic()
    conv_page(mock, sd.ALES_ID, 10)
    assert 0.2 <= time.monotonic() - t0 < 1


# ------------------------------------------------------------- connections

def test_keepalive_counts_one_connection(mock):
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=5)
    body = json.dumps({"conversation_id": sd.ALES_ID, "total_results": 10,
                       "login_token": mock.login_token})
    for _ in range(3):
        conn.request("POST", CONV, body, {"x-api-key": mock.api_key,
                                          "Content-Type": "application/json"})
        r = conn.getresponse()
        assert r.status == 200 and json.loads(r.read())["status"] == "success"
    conn.close()
    st = mock.stats()
    assert st["connections"] == 1 and st["requests"] == 3
    assert {e["conn"] for e in mock.log()} == {1}


def test_stop_with_hanging_request(mock_factory):
    m = mock_factory()
    m.fault("hang", seconds=120)
    sock = socket.create_connection(("127.0.0.1", m.port), timeout=5)
    body = json.dumps({"conversation_id": sd.ALES_ID, "login_token": m.login_token}).encode()
    sock.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nx-api-key: %s\r\nContent-Length: %d\r\n\r\n"
                 % (CONV.encode(), m.api_key.encode(), len(body)) + body)
    wait_for(lambda: m.stats()["active"] == 1, timeout=5)
    t0 = time.monotonic()
    m.proc.send_signal(signal.SIGINT)
    assert m.proc.wait(5) == 0 and time.monotonic() - t0 < 2
    sock.close()


# ------------------------------------------------------------- rate limit

def test_rate_limit_answers_429_past_n_in_the_window_and_charges_it(mock):
    assert mock.stats()["rate_limit"] is None       # off unless asked
    mock.set(rate_limit=[3, 60])
    got = [call(mock, INBOX, {})[0] for _ in range(5)]
    assert got == [200, 200, 200, 429, 429]
    status, _, js = call(mock, INBOX, {})
    assert status == 429
    assert js == {"status": "error", "message": "API Rate limit exceeded"}
    st = mock.stats()
    assert st["answers_429"] == 3 and st["credits"] == 3 + 3
    assert st["rate_limit"] == [3, 60]
    mock.set(rate_limit=None)
    assert call(mock, INBOX, {})[0] == 200


def test_rate_limit_window_slides(mock_factory):
    m = mock_factory(extra_args=("--rate-limit", "2/1"))
    assert m.stats()["rate_limit"] == [2, 1]
    t0 = time.monotonic()
    assert [call(m, INBOX, {})[0] for _ in range(3)] == [200, 200, 429]
    # the first request leaves the window one second after it came
    wait_for(lambda: time.monotonic() - t0 > 1.05, timeout=5)
    assert call(m, INBOX, {})[0] == 200
    m.reset()
    assert m.stats()["rate_limit"] == [2, 1]    # reset keeps the start value


def test_inbox_is_sorted_by_most_recent_activity(mock):
    def inbox():
        js = call(mock, INBOX, {"total_results": 100})[2]
        return js["data"]["conversations"]
    first = inbox()
    times = [int(c["last_message"]["time"]) for c in first]
    assert times == sorted(times, reverse=True) and len(set(times)) == len(times)
    # a message in the least recent conversation brings it to the head
    last = first[-1]["conversation_id"]
    newest = int(first[0]["last_message"]["time"])
    mock.add_message(last, "back from holidays", timestamp=newest + 1000)
    again = inbox()
    assert again[0]["conversation_id"] == last
    assert again[0]["last_message"]["text"] == "back from holidays"
    assert [c["conversation_id"] for c in again[1:]] == \
        [c["conversation_id"] for c in first[:-1]]
    times = [int(c["last_message"]["time"]) for c in again]
    assert times == sorted(times, reverse=True)
