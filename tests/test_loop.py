"""The threads that serve requests (fs/loop.h): one reads and serves at a
time, and while one is held up by the network, the others go on: a reader
waiting for an answer that does not come holds up no other reader."""

import os
import signal
import subprocess
import time

import pytest

import sample_data as sd
from conftest import wait_for
from lib.fsread import read

UTC = {"TZ": "UTC"}


@pytest.mark.timing     # a bound in seconds: not under valgrind
def test_readers_waiting_for_the_network_hold_up_no_other_reader(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100", "timeout=30", env=UTC)
    cached = os.path.join(m.path, sd.ALES_DIR, "transcript.txt")
    want = read(cached)     # the transcript may still grow: read through us
    hung = [sd.LONG_DIR, sd.HOSTILE_DIR, "person-01"]
    mock.fault("hang", count=-1, path="conversation", seconds=60)
    cats = [subprocess.Popen(["cat", os.path.join(m.path, d, "transcript.txt")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for d in hung]
    try:
        # each of them holds a thread of linkupfs in a request
        wait_for(lambda: mock.stats()["active"] >= len(hung))
        t0 = time.monotonic()
        for _ in range(50):
            assert read(cached) == want
            os.stat(os.path.join(m.path, sd.ALES_DIR, "page-0001.txt"))
        assert time.monotonic() - t0 < 5
        assert all(c.poll() is None for c in cats)     # still waiting
    finally:
        for c in cats:
            c.send_signal(signal.SIGINT)
        for c in cats:
            c.wait(timeout=10)
        mock.clear_faults()
