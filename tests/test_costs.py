"""What reads cost, counted in requests and connections, never timed: the
regression checks of the benchmark targets 1, 4 and 5 (issue 5) on the
sample data set. bench/run.py measures the same things with timings at
scale."""

import collections
import math
import os
import re
import subprocess
import threading

import pytest

import sample_data as sd
from lib import statfile
from lib.fsread import read

# every test here runs once per LinkupAPI version (tests/conftest.py)
API_VERSIONS = (1, 2)

PAGE = 100
UTC = {"TZ": "UTC"}


def pages(count):
    """Requests of a cold walk: the chain ends on the page that says there
    is nothing older, so an empty conversation still costs one."""
    return max(1, math.ceil(count / PAGE))


def test_cold_transcript_costs_exactly_one_request_per_page(mock, mount_factory):
    m = mount_factory(mock, "page_size=%d" % PAGE, env=UTC)
    os.listdir(m.path)
    text = read(os.path.join(m.path, sd.LONG_DIR, "transcript.txt"))
    assert text.count(b"] ") >= sd.LONG_COUNT
    log = mock.api_log("conversation")
    assert len(log) == math.ceil(sd.LONG_COUNT / PAGE) == 13
    assert {e["conversation"] for e in log} == {sd.LONG_ID}
    assert len({e["cursor"] for e in log}) == 13     # no page fetched twice
    assert all(e["total_results"] == PAGE for e in log)
    # one reader, one keep-alive connection for the inbox and every page
    assert mock.stats()["connections"] == 1
    # cached: reading it again, or its pages, costs nothing
    read(os.path.join(m.path, sd.LONG_DIR, "transcript.txt"))
    read(os.path.join(m.path, sd.LONG_DIR, "page-0013.txt"))
    assert len(mock.api_log("conversation")) == 13


def test_sixteen_readers_reuse_connections_and_fetch_each_page_once(
        mock_factory, mount_factory):
    mock = mock_factory(latency_ms=50)
    m = mount_factory(mock, "page_size=%d" % PAGE, env=UTC)
    os.listdir(m.path)
    rows = [r for r in sd.SAMPLE_TABLE if r[3] is not None][:16]
    assert len(rows) == 16
    barrier = threading.Barrier(len(rows))
    errors, sizes = [], {}

    def reader(row):
        try:
            barrier.wait(10)
            sizes[row[3]] = len(read(os.path.join(m.path, row[3], "transcript.txt")))
        except Exception as e:     # noqa: BLE001 - asserted below
            errors.append("%s: %r" % (row[3], e))
    threads = [threading.Thread(target=reader, args=(r,)) for r in rows]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(sizes) == 16
    # connections stay at the number of concurrent workers, not requests
    stats = mock.stats()
    assert stats["connections"] <= len(rows)
    assert stats["requests"] > stats["connections"]
    # every conversation cost its pages, no more (no duplicate fetches)
    per_conv = collections.Counter(e["conversation"] for e in mock.api_log("conversation"))
    assert per_conv == {r[1]: pages(r[4]) for r in rows}


def test_the_mount_is_ready_within_one_request_which_the_first_ls_reuses(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=%d" % PAGE, env=UTC)
    # the inbox's first page, read before the mount appears: it checks
    # the credentials, and the first listing takes it as it is
    assert [e["path"] for e in mock.api_log()] == ["inbox"]
    assert e_cursor_none(mock.api_log("inbox")[0])
    assert len(os.listdir(m.path)) == sd.SAMPLE_CONVERSATION_COUNT + 1
    assert [e["path"] for e in mock.api_log()] == ["inbox"]


def e_cursor_none(entry):
    return entry.get("cursor") is None


def test_ls_l_and_stat_of_every_conversation_cost_one_inbox_request(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=%d" % PAGE, env=UTC)
    subprocess.run(["ls", "-l", m.path], check=True, capture_output=True)
    dirs = [os.path.join(m.path, n) for n in os.listdir(m.path) if n != ".stats"]
    assert len(dirs) == sd.SAMPLE_CONVERSATION_COUNT
    subprocess.run(["stat"] + dirs, check=True, capture_output=True)
    for d in dirs:
        assert os.stat(d).st_mtime > 0
    # the inbox page size is 100 (fs/root.c): 28 conversations, one request
    assert len(mock.api_log("inbox")) == math.ceil(sd.SAMPLE_CONVERSATION_COUNT / 100) == 1
    assert mock.api_log("conversation") == []


def fuse_ops(m):
    """The FUSE requests the kernel sent so far, by opcode and node, from
    the -d log ("unique: 12, opcode: READ (15), nodeid: 3, ...")."""
    return collections.Counter(
        (op, int(node)) for op, node in
        re.findall(r"opcode: (\w+) \(\d+\), nodeid: (\d+)",
                                 m.log()))


# Not in the valgrind run: there, one run of its selection in two (CI on a
# clean clone, 2026-12-07) saw one READDIR of the root in the third grep,
# never seen in the release, ASan or TSan runs nor alone under valgrind;
# the root's listing was dropped from the kernel's cache between the
# greps by something not yet found (closing note of that day).
def test_warm_grep_is_served_by_the_kernel(mock, mount_factory):
    """Target 3's mechanism: once read and listed, files that never change
    again (full pages) and listings stay in the kernel's caches; linkupfs is
    asked for none of their bytes. Files that may still grow are read through
    linkupfs (direct_io, README "Limitations"), from its cache: no request."""
    m = mount_factory(mock, "page_size=%d" % PAGE, extra_args=["-d"], env=UTC)
    grep = ["grep", "-r", "-c", "zzz-not-there", m.path]
    for _ in range(2):      # the second pass settles atimes and .stats
        subprocess.run(grep, capture_output=True)
    full, growing = set(), set()
    for d in os.listdir(m.path):
        if d == ".stats":
            continue
        names = os.listdir(os.path.join(m.path, d))
        for kind in (".txt", ".jsonl"):
            pages = sorted(n for n in names if n.startswith("page-") and n.endswith(kind))
            for n in pages:
                st = os.stat(os.path.join(m.path, d, n))
                lines = read(os.path.join(m.path, d, n)).count(b"\n") if kind == ".jsonl" else None
                if n != pages[-1] or lines == PAGE:
                    full.add(st.st_ino)
        growing.add(os.stat(os.path.join(m.path, d, "transcript.txt")).st_ino)
    before = fuse_ops(m)
    requests = len(mock.log())
    out = subprocess.run(grep, capture_output=True, text=True).stdout
    assert out.count(":0\n") >= 4 * len(sd.SAMPLE_KNOWN_DIRS)  # every file seen
    after = fuse_ops(m)
    new = after - before
    assert len(mock.log()) == requests
    assert len(full) > 10
    # no READ or LOOKUP of a full page (an open is answered from memory:
    # it only says how to cache), no listing read again
    assert not [k for k in new if k[1] in full and k[0] not in ("OPEN", "RELEASE")]
    assert not [k for k in new if k[0] in ("OPENDIR", "READDIR", "READDIRPLUS",
                                           "RELEASEDIR")]
    # the files that may grow are read through linkupfs
    assert growing <= {k[1] for k in new if k[0] == "READ"}


def test_every_file_of_a_conversation_comes_from_one_fetch_of_each_chunk(
        mock, mount_factory):
    """The text and the JSON Lines of a message live in the same chunk
    body: with a budget that just holds a conversation's chunks, reading
    every page file of both kinds, messages.jsonl and the transcript
    fetches each page of the chain once."""
    first = mount_factory(mock, "page_size=%d" % PAGE, env=UTC)
    read(os.path.join(first.path, sd.LONG_DIR, "transcript.txt"))
    chunks = statfile.cache_bytes(first.path)
    first.unmount()
    m = mount_factory(mock, "page_size=%d" % PAGE,
                      "cache_size=%d" % (chunks * 5 // 4), env=UTC)
    before = len(mock.api_log("conversation"))
    d = os.path.join(m.path, sd.LONG_DIR)
    names = sorted(n for n in os.listdir(d) if n.startswith("page-"))
    assert len(names) == 2 * 13
    for n in names + ["messages.jsonl", "transcript.txt"]:
        read(os.path.join(d, n))
    assert len(mock.api_log("conversation")) - before == 13
