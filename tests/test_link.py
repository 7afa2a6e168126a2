"""The one link state to the API (issue 16): what `.stats` and the log say
when the API is gone or failing, the back-off, the checks for news and
their forced form (`getfattr -n user.linkup.check`), and `.stats` read
whole while other readers run. Counts are the mock's; timings are loose
bounds only."""

import errno
import json
import os
import re
import subprocess
import threading
import time

import pytest

import sample_data as sd
from conftest import wait_for
from lib import statfile
from lib.fsread import read
from test_everyday import mark, since
from test_faults import Nowhere, closed_port

UTC = {"TZ": "UTC"}
TTL = 2
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def stats(m):
    return statfile.strings(m.path)


def getfattr(path):
    """What `getfattr -n user.linkup.check PATH` prints as the value."""
    r = subprocess.run(["getfattr", "--only-values", "-n", "user.linkup.check",
                        path], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def one_link_state(s):
    """The lines of .stats about the API say one thing."""
    assert s["api"] in ("online", "down", "offline"), s
    assert "offline" not in s and "api_reachable" not in s, s
    assert ("api_down_since" in s) == (s["api"] == "down"), s
    assert ("api_next_try_seconds" in s) == (s["api"] == "down"), s
    if s["api"] == "down":
        assert STAMP.match(s["api_down_since"]), s
        assert 0 <= float(s["api_next_try_seconds"]) <= 30, s
    assert (s["api_last_error"] == "none") == ("api_last_error_at" not in s), s
    if "api_last_error_at" in s:
        assert STAMP.match(s["api_last_error_at"]), s


# ------------------------------------------------------------ .stats whole

@pytest.mark.valgrind
def test_stats_read_whole_while_readers_run_matches_its_fstat(
        mock, mount_factory):
    # a small cache: its byte count crosses a power of ten all the time,
    # so the length of .stats keeps changing under the readers
    m = mount_factory(mock, "page_size=20,cache_size=100K,ttl=3600,rate_limit=0", env=UTC)
    dirs = [os.path.join(m.path, d) for d in (sd.LONG_DIR, sd.ALES_DIR)]
    # read through linkupfs every time (direct_io), 62 chunks of 20
    files = [os.path.join(d, n) for d in dirs
             for n in ("transcript.txt", "messages.jsonl")]
    stop = threading.Event()

    def reader(k):
        i = k
        while not stop.is_set():
            read(files[i % len(files)])
            i += 1

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    bad, reads, lengths = [], 0, set()
    path = os.path.join(m.path, ".stats")
    try:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            fd = os.open(path, os.O_RDONLY)
            try:
                data = b""
                while True:
                    got = os.read(fd, 65536)
                    if not got:
                        break
                    data += got
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
            reads += 1
            lengths.add(len(data))
            lines = data.decode().split("\n")
            whole = data.endswith(b"\n") and all(
                re.match(r"^[a-z_0-9]+: \S", ln) for ln in lines[:-1])
            if len(data) != size or not whole:
                bad.append((len(data), size, data[-40:]))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert len(lengths) > 1, "the length never changed: nothing was tested"
    assert bad == [], "%d of %d reads: %r" % (len(bad), reads, bad[:3])


# ------------------------------------------------- one bad answer to a check

@pytest.mark.timing     # a bound in seconds: ttl + 5
def test_one_garbage_answer_to_a_check_never_hides_new_messages_for_long(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=%d" % TTL, env=UTC)
    d = os.path.join(m.path, sd.ALES_DIR)
    t = os.path.join(d, "transcript.txt")
    old = read(t)
    mock.fault("not_json", count=1, path="inbox")
    time.sleep(TTL + 0.3)       # nothing to poll: only time makes it due

    def garbled():
        os.stat(m.path)         # a look at the root: its check goes
        return any(e["fault"] == "not_json" for e in mock.api_log("inbox"))
    wait_for(garbled, timeout=10, interval=0.1)
    msg = mock.add_message(sd.ALES_ID, "after one bad answer")
    t0 = time.monotonic()

    def arrived():
        os.listdir(m.path)
        os.stat(d)
        return read(t) != old
    wait_for(arrived, timeout=TTL + 5, interval=0.1)
    assert msg["text"].encode() in read(t)
    assert time.monotonic() - t0 <= TTL + 5
    s = stats(m)
    one_link_state(s)
    # a bad answer fails what needed it, and says nothing of the link
    assert s["api"] == "online" and "not JSON" in s["api_last_error"]
    log = m.log()
    assert "inbox check: response is not JSON" in log, log
    assert "unreachable" not in log and "cannot be reached" not in log, log


# ---------------------------------------- the API gone: one thing said of it

def fill_store(mock, mount_factory, store):
    m = mount_factory(mock, "page_size=100", "store=%s" % store, env=UTC)
    read(os.path.join(m.path, sd.ALES_DIR, "transcript.txt"))
    assert m.unmount() == 0


def test_stats_say_offline_and_nothing_else_with_the_offline_option(
        mock, mount_factory, tmp_path):
    store = str(tmp_path / "store")
    fill_store(mock, mount_factory, store)
    mock.reset()
    m = mount_factory(mock, "page_size=100", "store=%s" % store, "offline",
                      env=UTC)
    assert read(os.path.join(m.path, sd.ALES_DIR, "transcript.txt"))
    s = stats(m)
    one_link_state(s)
    assert s["api"] == "offline" and s["api_last_error"] == "none"
    assert len(mock.log()) == 0


def test_stats_and_log_say_down_with_a_store_and_the_api_gone(
        mock, mount_factory, tmp_path):
    store = str(tmp_path / "store")
    fill_store(mock, mount_factory, store)
    port = mock.port
    mock.stop()
    m = mount_factory(mock, "page_size=100", "store=%s" % store, env=UTC)
    assert read(os.path.join(m.path, sd.ALES_DIR, "transcript.txt"))
    s = stats(m)
    one_link_state(s)
    assert s["api"] == "down"
    assert "connection refused (127.0.0.1:%d)" % port in s["api_last_error"]
    log = m.log()
    assert "the API cannot be reached (connection refused" in log, log
    assert log.count("the API cannot be reached") == 1, log


@pytest.mark.valgrind
def test_an_inbox_answering_500_is_failing_not_unreachable(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=1,timeout=5", env=UTC)
    names = sorted(os.listdir(m.path))
    mock.fault("status", count=-1, path="inbox", status=500)
    time.sleep(1.2)             # the ttl passes: the inbox's check is due

    def down():
        os.stat(m.path)
        return stats(m)["api"] == "down"
    wait_for(down, timeout=30, interval=0.2)
    assert sorted(os.listdir(m.path)) == names     # what is cached answers
    s = stats(m)
    one_link_state(s)
    assert "API answered 500" in s["api_last_error"], s
    log = m.log()
    assert "the API is failing (API answered 500" in log, log
    assert "unreachable" not in log and "cannot be reached" not in log, log
    mock.clear_faults()
    wait_for(lambda: statfile.api_lets_go(m.path), timeout=40)
    assert getfattr(m.path) == "unchanged"          # the first answer...
    assert stats(m)["api"] == "online"              # ...ends it
    assert "the API answers again" in m.log()


def test_a_mount_that_cannot_reach_the_api_says_why_in_stats(mount_factory):
    port = closed_port()
    where = Nowhere("http://127.0.0.1:%d" % port)
    m = mount_factory(where, "page_size=100,timeout=3", env=UTC)
    with pytest.raises(OSError) as e:
        os.listdir(m.path)
    assert e.value.errno in (errno.ENETDOWN, errno.EIO)
    text = read(os.path.join(m.path, ".stats")).decode()
    s = stats(m)
    one_link_state(s)
    assert s["api"] == "down"
    assert s["api_last_error"].startswith(
        "connection refused (127.0.0.1:%d)" % port), s
    for secret in (where.api_key, where.login_token):
        assert secret not in text


# ---------------------------------------------- user.linkup.check, once

def test_getfattr_check_says_changed_after_a_new_message_for_one_request(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=3600", env=UTC)
    d = os.path.join(m.path, sd.ALES_DIR)
    t = os.path.join(d, "transcript.txt")
    old = read(t)
    msg = mock.add_message(sd.ALES_ID, "a question, one check")
    seq = mark(mock)
    assert getfattr(d) == "changed"
    # the size probe and the value read are one check: its newest 10
    # messages, 1 credit
    new = since(mock, seq)
    assert [(e["path"], e["cursor"], e["total_results"], e["credits"])
            for e in new] == [("conversation", None, 10, 1)], new
    now = read(t)
    assert now.startswith(old) and now.endswith((msg["text"] + "\n").encode())
    seq = mark(mock)
    assert getfattr(os.path.join(d, "transcript.txt")) == "unchanged"
    assert len(since(mock, seq)) == 1


@pytest.mark.valgrind
def test_getfattr_check_on_the_root_counts_any_conversations_news(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=3600", env=UTC)
    os.listdir(m.path)
    # the whole inbox, read again: 100 entries a request
    n = sd.SAMPLE_CONVERSATION_COUNT
    want = [min(100, n - k) for k in range(0, n, 100)]
    seq = mark(mock)
    assert getfattr(m.path) == "unchanged"
    new = since(mock, seq)
    assert [e["path"] for e in new] == ["inbox"] * len(want), new
    assert sum(e["credits"] for e in new) == sum(
        max(1, (k + 9) // 10) for k in want)
    mock.add_message(sd.LONG_ID, "news in a listed conversation")
    seq = mark(mock)
    assert getfattr(m.path) == "changed"
    assert len(since(mock, seq)) == len(want)
    seq = mark(mock)
    assert getfattr(m.path) == "unchanged"
    assert len(since(mock, seq)) == len(want)


# ------------------------------------------------------- conversation.json

def test_conversation_json_keeps_last_seen_message_as_the_api_sends_it(
        mock, mount_factory, data):
    m = mount_factory(mock, "page_size=100", env=UTC)
    for key, cid in ((sd.ALES_DIR, sd.ALES_ID), (sd.LONG_DIR, sd.LONG_ID)):
        read(os.path.join(m.path, key, "transcript.txt"))
        with open(os.path.join(m.path, key, "conversation.json")) as f:
            meta = json.load(f)
        # the API's example sends a boolean (SPEC section 6), as the mock
        assert meta["last_seen_message"] is (data.find(cid).unread == 0)


# --------------------------------------------------------- inbox_left_out

@pytest.mark.valgrind
def test_inbox_left_out_is_the_lower_bound_the_readme_promises(
        mock_factory, mount_factory):
    mock = mock_factory(dataset="bench", extra_args=(
        "--bench-convs", "206", "--bench-messages", "3"))
    m = mount_factory(mock, "page_size=100,inbox_limit=5", env=UTC)
    assert len([n for n in os.listdir(m.path) if n != ".stats"]) == 5
    # the first page of 100 gave 5: 95 left out of it, and more pages
    # follow, which the cap is there not to read
    assert len(mock.api_log("inbox")) == 1
    assert stats(m)["inbox_left_out"] == "more than 95"
    assert "inbox_limit=5 leaves out more than 95 conversations" in m.log()
    readme = open(os.path.join(os.path.dirname(__file__), "..",
                               "README.md")).read()
    said = [ln for ln in readme.splitlines() if "inbox_left_out" in ln]
    assert said and all("more than" in ln for ln in said), said
