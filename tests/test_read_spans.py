"""Reads served from the cache's own bytes (issue 17): a read returns
every byte asked for, equal to the rendering, at any offset and size: reads
larger than the kernel's largest request (1 MiB), reads that cross many
chunk boundaries, and a read across more chunks than one reply can carry
in pieces (writev takes 1024)."""

import json
import os
import random
import subprocess
import sys

import pytest

import expected
import sample_data as sd
from conftest import Mock

UTC = {"TZ": "UTC"}
MIB = 1 << 20
BIG = "bench-big"
# bench-big alone, 20 000 messages: a transcript of 2.1 MiB and a
# messages.jsonl of over 3 MiB, both files that may still grow (read
# through linkupfs on every read, README "Limitations")
BENCH = {"LINKUP_BENCH_CONVS": "1", "LINKUP_BENCH_MESSAGES": "20000",
         "LINKUP_BENCH_BIG": "20000"}


def pread_exact(path, size, off):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, size, off)
    finally:
        os.close(fd)


@pytest.fixture(scope="module")
def bench_data():
    saved = {k: os.environ.get(k) for k in BENCH}
    os.environ.update(BENCH)
    try:
        ds = sd.build("bench")
        mock = Mock(dataset="bench", start_timeout=60)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k)
            else:
                os.environ[k] = v
    try:
        yield mock, ds.find(sd.conversation_id(BIG))
    finally:
        mock.stop()


def conv_dir(m):
    names = [n for n in os.listdir(m.path) if n != ".stats"]
    assert len(names) == 1
    return os.path.join(m.path, names[0])


def check_preads(path, want, offsets, sizes):
    """pread at each offset, sizes in turn: exactly the bytes of want there
    (up to its end), never fewer."""
    for i, off in enumerate(offsets):
        size = sizes[i % len(sizes)]
        got = pread_exact(path, size, off)
        assert got == want[off:off + size], (path, off, size, len(got))


# sizes of one read: a byte, less than a page, grep's 96 KiB, past cat's
# 128 KiB, the kernel's largest request (1 MiB) and past it (split in two
# or more requests by the kernel)
SIZES = (1, 3000, 98304, 131077, MIB, MIB + 4097, 3 * MIB)


def test_reads_of_any_size_at_any_offset_are_the_rendering_byte_for_byte(
        bench_data, mount_factory):
    mock, conv = bench_data
    m = mount_factory(mock, "page_size=100", "rate_limit=0", env=UTC)
    d = conv_dir(m)
    msgs = expected.messages(conv)
    texts = [expected.render(x).encode() for x in msgs]
    want = b"".join(texts)
    path = os.path.join(d, "transcript.txt")
    assert os.stat(path).st_size == len(want) > MIB
    with open(path, "rb", buffering=0) as f:   # one read() of it all
        assert f.read(len(want) + 1) == want
    # chunk boundaries (every 100 messages), the bytes either side, and
    # offsets anywhere
    starts = [0]
    for t in texts:
        starts.append(starts[-1] + len(t))
    rnd = random.Random(17)
    edges = [starts[k] + e for k in range(100, len(msgs), 100) for e in (-1, 0, 1)]
    offsets = rnd.sample(edges, 120) + [rnd.randrange(len(want)) for _ in range(80)]
    check_preads(path, want, offsets, SIZES)
    assert pread_exact(path, 10, len(want)) == b""
    assert pread_exact(path, 10, len(want) - 3) == want[-3:]
    # messages.jsonl: every line the API's message, then reads anywhere
    path = os.path.join(d, "messages.jsonl")
    with open(path, "rb", buffering=0) as f:
        whole = f.read(os.stat(path).st_size + 1)
    assert len(whole) == os.stat(path).st_size > 3 * MIB
    lines = whole.split(b"\n")
    assert lines[-1] == b"" and len(lines) - 1 == len(msgs)
    assert [json.loads(x)["entity_urn"] for x in lines[:-1]] == \
        [x["entity_urn"] for x in msgs]
    offsets = [rnd.randrange(len(whole)) for _ in range(150)]
    check_preads(path, whole, offsets, SIZES)


ONE_READ = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
sys.stdout.buffer.write(os.read(fd, os.fstat(fd).st_size + 1))
"""


@pytest.mark.valgrind
def test_a_read_across_more_chunks_than_a_reply_carries_returns_every_byte(
        mock, mount_factory, data):
    """page_size=1: a chunk per message, so one read of the long
    conversation's transcript crosses its 1 234 chunks, more pieces than
    one reply can carry (writev takes 1 024): still every byte."""
    m = mount_factory(mock, "page_size=1", "rate_limit=0", env=UTC)
    want = "".join(expected.render(x) for x in
                   expected.messages(data.find(sd.LONG_ID))).encode()
    path = os.path.join(m.path, sd.LONG_DIR, "transcript.txt")
    assert os.stat(path).st_size == len(want)
    # in a child: a reply that cannot be written leaves the read waiting
    # for ever (past SIGKILL), until the connection ends
    child = subprocess.Popen([sys.executable, "-c", ONE_READ, path],
                             stdout=subprocess.PIPE)
    try:
        out, _ = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        m.allow_crash = True
        m.proc.kill()
        child.communicate()
        pytest.fail("one read of %d bytes got no answer" % len(want))
    assert child.returncode == 0 and out == want
    rnd = random.Random(5)
    offsets = [rnd.randrange(len(want)) for _ in range(40)]
    check_preads(path, want, offsets, (len(want), 70000, 4096, 1))
