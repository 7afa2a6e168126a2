"""Freshness for one credit and cached data that never waits for the network
(SPEC section 5, issue 10). After the ttl the mount reads the head of the
inbox (sorted by recent activity, 10 entries a request: 1 credit) and
fetches only what it says changed; a check that fails for the network is
remembered, so cached files are served without a request. Counted in the
mock's requests and credits; timings are loose bounds only."""

import os
import subprocess
import time

import pytest

import sample_data as sd
from conftest import wait_for
from lib.fsread import read
from test_everyday import mark as seq_now, since

UTC = {"TZ": "UTC"}
TTL = 2


def stats(mm):
    with open(os.path.join(mm.path, ".stats")) as f:
        return dict(ln.split(": ", 1) for ln in f.read().splitlines())


def grep_all(mm, pattern="no such text anywhere"):
    """grep -r over the whole mount: (stdout lines, seconds it took)."""
    t0 = time.monotonic()
    r = subprocess.run(["grep", "-r", "-l", pattern, mm.path],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode in (0, 1), r.stderr   # 2: a file could not be read
    assert r.stderr == ""
    return r.stdout.splitlines(), time.monotonic() - t0


def let_the_ttl_pass():
    time.sleep(TTL + 0.3)   # nothing to poll: only time makes a check due


def test_a_regrep_after_the_ttl_with_nothing_changed_costs_one_request_and_one_credit(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=%d" % TTL, env=UTC)
    files, _ = grep_all(m, ".")
    assert len(files) > 100
    let_the_ttl_pass()
    seq = seq_now(mock)
    again, took = grep_all(m, ".")
    assert sorted(again) == sorted(files)
    new = since(mock, seq)
    assert all(e["path"] == "inbox" and e["total_results"] == 10 and
               e["cursor"] is None and e["credits"] == 1 for e in new), new
    if took < TTL:      # one check per ttl: a slow machine may need two
        assert len(new) == 1, new
    else:
        assert 1 <= len(new) <= 1 + took / TTL, new


@pytest.mark.timing     # what it pins is a duration: the ttl
def test_no_check_comes_before_the_ttl_has_passed_since_the_last(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=%d" % TTL, env=UTC)
    t = os.path.join(m.path, sd.ALES_DIR, "transcript.txt")
    read(t)
    let_the_ttl_pass()
    # the check half-way into a second of the monotonic clock: a ttl
    # counted in whole seconds would come back half a second early
    time.sleep(1.5 - time.monotonic() % 1)
    seq = seq_now(mock)
    os.listdir(m.path)          # a readdir after the ttl: the head's check
    wait_for(lambda: since(mock, seq, "inbox") and
             since(mock, seq, "inbox")[0]["t_end"] is not None)
    done = since(mock, seq, "inbox")[0]["t_end"]    # the mock's monotonic
    # ask the root for its attribute names (the kernel keeps none: each
    # call reaches linkupfs, which checks when due) until just before the
    # ttl runs out again
    asked = 0
    while time.monotonic() < done + TTL - 0.2:
        os.listxattr(m.path)
        asked += 1
    assert asked > 100
    assert len(since(mock, seq, "inbox")) == 1, since(mock, seq, "inbox")


@pytest.mark.parametrize("k", [3, 10])
@pytest.mark.valgrind
def test_after_the_ttl_k_changed_conversations_cost_the_inbox_head_and_their_news(
        mock, mount_factory, k):
    m = mount_factory(mock, "page_size=100,ttl=%d" % TTL, env=UTC)
    grep_all(m)
    rows = [r for r in sd.SAMPLE_TABLE if r[3] is not None][:k]
    assert len(rows) == k
    texts = {}
    now = int(time.time() * 1000)   # news is newer than every inbox entry
    for i, row in enumerate(rows):
        texts[row[3]] = "fresh news number %d" % i
        mock.add_message(row[1], texts[row[3]], timestamp=now + i)
    let_the_ttl_pass()
    seq = seq_now(mock)
    found, took = grep_all(m, "fresh news number")
    assert took < TTL, "the grep outlived the ttl: counts not exact"
    # the checks run beside the reads; each changed transcript gets its line
    for name, text in texts.items():
        t = os.path.join(m.path, name, "transcript.txt")
        wait_for(lambda: text.encode() in read(t), timeout=10)
    assert {os.path.relpath(f, m.path).split("/")[0] for f in found} <= set(texts)
    # the check this ttl made: a later one (the reads above can outlast
    # another ttl, under valgrind) is the next ttl's, and finds nothing new
    inbox = since(mock, seq, "inbox")
    inbox = [e for e in inbox if e["t_start"] < inbox[0]["t_start"] + TTL]
    conv = since(mock, seq, "conversation")
    # k < 10 fit the head's first page; 10 fill it, so a second says the
    # 11th did not change
    assert len(inbox) == (1 if k < 10 else 2), inbox
    assert all(e["total_results"] == 10 and e["credits"] == 1 for e in inbox)
    assert sorted(e["conversation"] for e in conv) == sorted(r[1] for r in rows)
    assert all(e["cursor"] is None and e["total_results"] == 10 and
               e["credits"] == 1 for e in conv), conv
    assert sum(e["credits"] for e in inbox + conv) == len(inbox) + k


def test_a_conversation_outside_the_inbox_checks_itself_for_one_credit(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=%d,inbox_limit=0" % TTL,
                      "conversation=" + sd.LONG_URL, env=UTC)
    t = os.path.join(m.path, sd.LONG_DIR, "transcript.txt")
    old = read(t)
    msg = mock.add_message(sd.LONG_ID, "news outside the inbox")
    let_the_ttl_pass()
    seq = seq_now(mock)
    wait_for(lambda: msg["text"].encode() in read(t), timeout=10)
    assert read(t).startswith(old)
    conv = since(mock, seq, "conversation")
    assert since(mock, seq, "inbox") == []
    assert [(e["cursor"], e["total_results"], e["credits"]) for e in conv] == \
        [(None, 10, 1)]


def test_more_news_than_ten_messages_is_fetched_by_pages(mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=%d" % TTL, env=UTC)
    t = os.path.join(m.path, sd.LONG_DIR, "transcript.txt")
    old = read(t)
    added = [mock.add_message(sd.LONG_ID, "burst %02d" % i) for i in range(25)]
    let_the_ttl_pass()
    seq = seq_now(mock)
    wait_for(lambda: b"burst 24" in read(t), timeout=10)
    text = read(t)
    assert text.startswith(old)
    assert [ln for ln in text[len(old):].decode().splitlines()] == \
        [ln for m_ in added for ln in [line_text(m_)]]
    conv = since(mock, seq, "conversation")
    # the 10 of the first ask were all new: the news comes again by a page
    assert [e["total_results"] for e in conv] == [10, 100], conv


def line_text(msg):
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(msg["timestamp"] // 1000))
    return "[%s] %s: %s" % (when, msg["sender"], msg["text"])


def next_try(m):
    """Seconds the mount's back-off has left (0 when not down)."""
    return float(stats(m).get("api_next_try_seconds", 0))


@pytest.mark.timing
@pytest.mark.parametrize("fault", ["status", "hang"])
def test_during_an_outage_cached_files_and_listings_answer_without_a_request(
        mock, mount_factory, fault):
    # without the store: with it (the default) a timeout also makes the
    # mount offline, where an uncached read waits for the next probe
    # (fs/model/net.h; tests/test_store.py)
    m = mount_factory(mock, "page_size=100,ttl=1,timeout=2,nostore", env=UTC)
    d = os.path.join(m.path, sd.ALES_DIR)
    t = os.path.join(d, "transcript.txt")
    old = read(t)
    names = sorted(os.listdir(m.path))
    assert stats(m)["api"] == "online"
    if fault == "status":
        mock.fault("status", count=-1, status=503)
    else:
        mock.fault("hang", count=-1, seconds=30)
    time.sleep(1.3)     # the ttl passes: a check is due
    t0 = time.monotonic()
    assert read(t) == old           # the check runs beside it, and fails
    # one wait of at most 1 s for the check (README), not one per lookup
    assert time.monotonic() - t0 < 1.8
    wait_for(lambda: stats(m)["api"] == "down", timeout=30)
    s = stats(m)
    assert s["api_down_since"].endswith("Z")
    assert ("503" if fault == "status" else "timed out") in s["api_last_error"]
    # while the failures go on, the back-off grows: 1 s, 2 s, 4 s
    for longer in (1.5, 3.5):
        wait_for(lambda: next_try(m) == 0, timeout=10)
        os.stat(m.path)             # a check is due: it goes, and fails
        wait_for(lambda: next_try(m) > longer, timeout=30)
    n = len(mock.log())
    time.sleep(1.1)     # due again, but the mount backs off
    t0 = time.monotonic()
    for _ in range(3):
        assert read(t) == old
        assert sorted(os.listdir(m.path)) == names
        os.stat(os.path.join(d, "page-0001.txt"))
    assert time.monotonic() - t0 < 2
    assert next_try(m) > 0          # all of it within the back-off
    assert len(mock.log()) == n     # not one request more
    # the first answer after the back-off ends it: an uncached read
    mock.clear_faults()
    wait_for(lambda: next_try(m) == 0, timeout=10)
    read(os.path.join(m.path, sd.LONG_DIR, "transcript.txt"))
    assert stats(m)["api"] == "online"


@pytest.mark.valgrind
def test_inbox_limit_says_how_many_it_left_out(mock, mount_factory):
    m = mount_factory(mock, "page_size=100,inbox_limit=5", env=UTC)
    names = [n for n in os.listdir(m.path) if n != ".stats"]
    assert len(names) == 5
    left = sd.SAMPLE_CONVERSATION_COUNT - 5
    assert stats(m)["inbox_left_out"] == str(left)
    assert "inbox_limit=5 leaves out %d conversations" % left in m.log()


@pytest.mark.valgrind
def test_the_whole_inbox_is_listed_by_default(mock_factory, mount_factory):
    mock = mock_factory(dataset="bench", extra_args=("--bench-convs", "230",
                                                     "--bench-messages", "3"))
    m = mount_factory(mock, "page_size=100", env=UTC)
    names = [n for n in os.listdir(m.path) if n != ".stats"]
    assert len(names) == len(mock.conversations()) >= 230
    assert stats(m)["inbox_left_out"] == "0"
    assert len(mock.api_log("inbox")) == 3      # 100 a request


# ------------------------------------------------------------ read-ahead

def conv_requests(mock):
    out = {}
    for e in mock.api_log("conversation"):
        out.setdefault(e["conversation"], []).append(e["cursor"])
    return out


def settled(mock):
    """No request in flight, twice in a row 50 ms apart."""
    def idle():
        if mock.stats()["active"]:
            return False
        n = mock.stats()["requests"]
        time.sleep(0.05)
        return mock.stats()["active"] == 0 and mock.stats()["requests"] == n
    wait_for(idle, timeout=20)


def test_a_grep_with_read_ahead_costs_exactly_one_request_per_page(
        mock_factory, mount_factory):
    mock = mock_factory(latency_ms=20)
    m = mount_factory(mock, "page_size=100", env=UTC)
    grep_all(m)
    settled(mock)
    per = conv_requests(mock)
    rows = {r[1]: r[4] for r in sd.SAMPLE_TABLE}
    assert set(per) <= set(rows)
    for cid, cursors in per.items():     # each page once, no more
        assert len(cursors) == len(set(cursors)) == max(1, -(-rows[cid] // 100)), cid
    assert int(stats(m)["readahead_walks"]) > 0
    # the reader went one conversation after the other; the walks beside it
    # made requests overlap
    assert mock.stats()["max_active"] >= 2


@pytest.mark.parametrize("tool", [["ls", "-R"], ["tree", "-a", "-N"]],
                         ids=["ls-R", "tree"])
@pytest.mark.valgrind
def test_a_traversal_in_name_order_reads_ahead_too(
        mock_factory, mount_factory, tool):
    """tree and ls -R visit the directories sorted by name, not in the
    inbox's order (issue 17): the read-ahead follows them as well. Here the
    names sort in the reverse of the inbox's order, where a read-ahead in
    listing order would start nothing."""
    mock = mock_factory(latency_ms=20, dataset="bench", extra_args=(
        "--bench-convs", "1", "--bench-messages", "0"))
    last = sd.ms("2025-06-01 12:00:00")
    for i in range(16):
        slug = "t-%02d" % (15 - i)
        mock.add_conversation(key=slug, name=slug, profile_url=sd.LI + slug + "/",
                              messages=150, last_time=last - i * 3600000)
    env = dict(UTC, LC_ALL="C")
    m = mount_factory(mock, "page_size=100", env=env)
    names = [n for n in os.listdir(m.path) if n.startswith("t-")]
    assert names == sorted(names, reverse=True)
    r = subprocess.run(tool + [m.path], env=dict(os.environ, **env),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert all(n in r.stdout for n in names)
    settled(mock)
    per = conv_requests(mock)
    assert len(per) == 1 + len(names)
    for cid, cursors in per.items():     # each page once, no more
        assert len(cursors) == len(set(cursors)) <= 2, cid
    assert int(stats(m)["readahead_walks"]) >= len(names) // 2
    assert mock.stats()["max_active"] >= 2


def test_a_traversal_that_stops_early_wastes_at_most_two_walks(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100", env=UTC)
    names = [n for n in os.listdir(m.path) if n != ".stats"]
    first = names[:3]
    for n in first:                      # in listing order, then stop
        os.listdir(os.path.join(m.path, n))
    settled(mock)
    walked = set(conv_requests(mock))
    listed = {r[1] for r in sd.SAMPLE_TABLE[:3]}
    assert listed <= walked
    assert len(walked - listed) <= 2, walked    # the waste: two walks
    assert 1 <= int(stats(m)["readahead_walks"]) <= 1 + 2
    # listing out of order starts nothing ahead
    before = len(mock.log())
    os.listdir(os.path.join(m.path, names[10]))
    settled(mock)
    assert set(conv_requests(mock)) - walked <= {sd.SAMPLE_TABLE[10][1]}
    assert len(mock.log()) - before <= 1
