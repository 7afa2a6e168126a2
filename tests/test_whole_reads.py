"""Reads never lie (issue 8): a read returns every byte asked for up to the
end of the file, or fails with an errno, and bytes once read at an offset
are the same on every later read. On a real mount of the mock API, through
read(), pread() with O_DIRECT and mmap, while faults strike part-way
through a file and messages arrive."""

import errno
import mmap
import os
import subprocess
import sys
import threading

import pytest

import expected
import sample_data as sd
from conftest import wait_for
from lib import statfile
from lib.fsread import read

# every test here runs once per LinkupAPI version (tests/conftest.py)
API_VERSIONS = (1, 2)

UTC = {"TZ": "UTC"}
PAGE = 100
TIMEOUT = 3


def read_plain(path, size):
    with open(path, "rb") as f:
        return f.read()


def read_direct(path, size):
    """pread() with O_DIRECT into a page-aligned buffer: no page cache."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    try:
        buf = mmap.mmap(-1, max(4096, (size + 4095) // 4096 * 4096))
        n = os.preadv(fd, [buf], 0)
        return bytes(buf[:n])
    finally:
        os.close(fd)


# mmap in a child: a page the filesystem cannot give is SIGBUS, which
# would kill pytest itself
MMAP_CHILD = r"""
import mmap, sys
with open(sys.argv[1], "rb") as f:
    # MAP_PRIVATE: a file that may grow is direct_io (README, Limitations)
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    sys.stdout.buffer.write(m[:])
"""


def read_mmap(path, size):
    r = subprocess.run([sys.executable, "-c", MMAP_CHILD, path],
                       capture_output=True, timeout=60)
    if r.returncode < 0:
        raise OSError(errno.EIO, "mmap reader killed by signal %d" % -r.returncode)
    assert r.returncode == 0, r.stderr
    return r.stdout


READERS = {"read": read_plain, "pread-O_DIRECT": read_direct, "mmap": read_mmap}


@pytest.mark.parametrize("how", sorted(READERS))
def test_a_read_that_meets_a_failure_part_way_fails_whole_and_leaves_nothing(
        mock, mount_factory, data, how):
    """The start of the transcript is cached, the chunks after it fail
    (503, until cleared): the read must fail, never return the start as if
    it were the whole file; once the API is back the file reads whole."""
    first = mount_factory(mock, "page_size=%d" % PAGE, env=UTC)
    read(os.path.join(first.path, sd.LONG_DIR, "transcript.txt"))
    per_chunk = statfile.cache_bytes(first.path) // 13
    first.unmount()
    # room for 4 of the 13 chunks: the walk of the listing leaves the last
    # ones it fetched, the oldest messages, the start of the transcript
    # (no store: it would give the others back without the API)
    m = mount_factory(mock, "page_size=%d" % PAGE, "timeout=%d" % TIMEOUT,
                      "cache_size=%d" % (per_chunk * 4), "nostore", env=UTC)
    d = os.path.join(m.path, sd.LONG_DIR)
    assert len(os.listdir(d)) == 3 + 2 * 13
    path = os.path.join(d, "transcript.txt")
    want = "".join(expected.render(x) for x in
                   expected.messages(data.find(sd.LONG_ID))).encode()
    assert os.stat(path).st_size == len(want)
    before = len(mock.api_log("conversation"))
    mock.fault("status", count=-1, path="conversation", match=sd.LONG_ID,
               status=503)
    with pytest.raises(OSError) as e:
        got = READERS[how](path, len(want))
        pytest.fail("%s returned %d of %d bytes with no error"
                    % (how, len(got), len(want)))
    assert e.value.errno == errno.EIO
    assert len(mock.api_log("conversation")) > before    # it did try
    mock.clear_faults()
    wait_for(lambda: statfile.api_lets_go(m.path))   # the 503s' back-off
    # nothing of the failure stayed in the kernel: every way reads it whole
    for again in sorted(READERS):
        assert READERS[again](path, len(want)) == want, again
    assert os.stat(path).st_size == len(want)


@pytest.mark.valgrind(2)
def test_a_read_across_many_chunks_returns_every_byte_asked_for(
        mock, mount_factory):
    """One pread of the whole transcript spans 13 chunks, several of them
    fetched again (a cache of 2 chunks): all the bytes come back, never a
    short count before the end."""
    first = mount_factory(mock, "page_size=%d" % PAGE, env=UTC)
    path = os.path.join(first.path, sd.LONG_DIR, "transcript.txt")
    want = read(path)
    per_chunk = statfile.cache_bytes(first.path) // 13
    first.unmount()
    m = mount_factory(mock, "page_size=%d" % PAGE,
                      "cache_size=%d" % (per_chunk * 2), env=UTC)
    path = os.path.join(m.path, sd.LONG_DIR, "transcript.txt")
    for size in (len(want), 1 << 20):
        assert read_direct(path, size) == want


def pieces(path, size=512, direct=False):
    """Read path the way a pager does: pread in small pieces from the
    start, a fresh open each time; [(offset, bytes)] up to the end."""
    out, off = [], 0
    while True:
        flags = os.O_RDONLY | (os.O_DIRECT if direct else 0)
        fd = os.open(path, flags)
        try:
            if direct:
                buf = mmap.mmap(-1, 4096)
                n = os.preadv(fd, [buf], off - off % 4096)
                got = bytes(buf[off % 4096:n])[:size]
            else:
                got = os.pread(fd, size, off)
        finally:
            os.close(fd)
        if not got:
            return out
        out.append((off, got))
        off += len(got)


@pytest.mark.valgrind(1)
def test_files_read_in_pieces_while_messages_arrive_never_change_what_was_read(
        mock, mount_factory):
    """Readers go through every file in 512-byte pieces (plain and
    O_DIRECT) while messages arrive and refreshes run: every piece is what
    the file holds at that offset at the end (files only grow at their
    end), whatever state it was read in."""
    m = mount_factory(mock, "page_size=10,ttl=3600", env=UTC)
    d = os.path.join(m.path, sd.ALES_DIR)
    os.listdir(d)
    stop = threading.Event()
    seen, errors = [], []

    def reader(direct):
        try:
            while not stop.is_set():
                for name in sorted(os.listdir(d)):
                    if name == "conversation.json":
                        continue    # metadata: replaced whole, see README
                    p = os.path.join(d, name)
                    seen.append((name, pieces(p, direct=direct)))
        except Exception as e:      # reported below, with the test's asserts
            errors.append(e)

    threads = [threading.Thread(target=reader, args=(k % 2 == 1,))
               for k in range(4)]
    for t in threads:
        t.start()
    added = []
    try:
        for i in range(40):
            added.append(mock.add_message(sd.ALES_ID, "arriving %02d" % i))
            os.getxattr(d, "user.linkup.check")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    final = {n: read(os.path.join(d, n)) for n in os.listdir(d)}
    assert final["transcript.txt"].endswith(
        "".join(expected.render(x) for x in added).encode())
    # 37 + 40 messages in pages of 10: 8 pages, the last one 7
    assert sorted(n for n in final if n.endswith(".txt") and n[:5] == "page-") == \
        ["page-%04d.txt" % i for i in range(1, 9)]
    changed = [(name, off, got) for name, reads in seen for off, got in reads
               if final[name][off:off + len(got)] != got]
    assert len(seen) > 40 and changed == [], \
        [(name, off, len(got)) for name, off, got in changed[:5]]


def test_an_empty_conversation_has_the_same_time_on_every_mount(
        mock, mount_factory):
    times = []
    for _ in range(2):
        m = mount_factory(mock, env=UTC)
        d = os.path.join(m.path, sd.EMPTY_DIR)
        times.append([int(os.stat(os.path.join(d, n)).st_mtime)
                      for n in ["."] + sorted(os.listdir(d))])
        m.unmount()
    assert times[0] == times[1]
    # the time the inbox gives it, not the mount's
    inbox = [c for c in mock.conversations() if c["id"] == sd.EMPTY_ID]
    assert times[0][0] == inbox[0]["last_time"] // 1000 > 0
