"""Backups and exports for the price of a check (issue 18). The files only
grow at their end, their sizes are exact and their mtime is their newest
message's, so rsync's quick check (size and mtime) is all an incremental
export needs: `rsync -a --exclude=/.stats MOUNT/ backup/` (the README's
command) copies what changed, and finding out what changed costs the
inbox's head and the changed conversations' news, nothing per file."""

import math
import os
import subprocess
import time

import pytest

import sample_data as sd
from conftest import wait_for
from lib.fsread import read
from test_everyday import check_now, mark, since

# ALES has 37 messages: with pages of 37 its page 1 is full, so its next
# message opens page 2; LONG's last page (1234 = 33 * 37 + 13) grows.
PAGE = 37
TTL = 3
UTC = {"TZ": "UTC"}


def rsync(mnt, backup):
    """The README's command, with rsync's list of what it did: {path:
    the --itemize-changes code} (">f.st......": a file sent because its
    size and time differ, ">f+++++++++": a new one, ".d..t......": a
    directory's time set)."""
    r = subprocess.run(["rsync", "-a", "--itemize-changes", "--exclude=/.stats",
                        mnt + "/", str(backup) + "/"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return {ln.split(" ", 1)[1]: ln.split(" ", 1)[0]
            for ln in r.stdout.splitlines()}


def snapshot(top):
    """{path: (bytes, mtime)} of every file under top but the root's .stats,
    and {dir: mtime} of its directories."""
    files, dirs = {}, {}
    for d, subdirs, names in os.walk(top):
        rel = os.path.relpath(d, top)
        dirs[rel] = os.stat(d).st_mtime_ns
        for n in names:
            p = os.path.join(d, n)
            if rel == "." and n == ".stats":
                continue
            files[os.path.normpath(os.path.join(rel, n))] = (
                read(p), os.stat(p).st_mtime_ns)
    return files, dirs


@pytest.mark.valgrind
def test_rsync_twice_copies_only_what_changed_for_the_inbox_head_and_the_news(
        mock, mount_factory, tmp_path):
    m = mount_factory(mock, "page_size=%d,ttl=%d" % (PAGE, TTL), env=UTC)
    backup = tmp_path / "backup"
    first = rsync(m.path, backup)
    before, _ = snapshot(m.path)
    assert snapshot(backup) == snapshot(m.path)
    assert {p for p, code in first.items() if code.startswith(">f+")} == \
        set(before)     # the first run copies every file
    assert len(before) > 100
    # the inbox read anew now, whatever checks ran beside the first run:
    # the ttl starts here (linkupfs's ttl runs on CLOCK_MONOTONIC, as
    # time.monotonic does), so the inbox is due again from done + TTL on
    assert check_now(m.path) == "unchanged"
    done = time.monotonic()

    now = int(time.time() * 1000)   # newer than every message of the inbox
    mock.add_message(sd.ALES_ID, "one more", timestamp=now)
    for i in range(3):
        mock.add_message(sd.LONG_ID, "burst %d" % i, timestamp=now + 1 + i)
    wait_for(lambda: time.monotonic() >= done + TTL,
             timeout=TTL + 1, interval=0.05)
    seq = mark(mock)
    t0 = time.monotonic()
    second = rsync(m.path, backup)
    took = time.monotonic() - t0
    cost = since(mock, seq)
    after, _ = snapshot(m.path)

    # the backup is the mount, byte for byte and time for time
    assert snapshot(backup) == snapshot(m.path)
    # rsync sent exactly the files whose size or time moved, and the new
    ales, long_ = sd.ALES_DIR + "/", sd.LONG_DIR + "/"
    sent = {p: c for p, c in second.items() if c.startswith(">f")}
    assert set(sent) == {p for p in after
                         if p not in before or before[p] != after[p]}
    last = "page-%04d" % math.ceil(sd.LONG_COUNT / PAGE)
    assert sent == {
        ales + "page-0002.txt": ">f+++++++++",
        ales + "page-0002.jsonl": ">f+++++++++",
        ales + "transcript.txt": ">f.st......",
        ales + "messages.jsonl": ">f.st......",
        ales + "conversation.json": ">f..t......",   # rewritten whole
        long_ + last + ".txt": ">f.st......",
        long_ + last + ".jsonl": ">f.st......",
        long_ + "transcript.txt": ">f.st......",
        long_ + "messages.jsonl": ">f.st......",
        long_ + "conversation.json": ">f..t......",
    }, second
    # what grew grew at its end: the backup's old bytes are a prefix
    for p, code in sent.items():
        if code.startswith(">f.s"):
            assert after[p][0].startswith(before[p][0]), p
    assert after[ales + "page-0002.txt"][0].rstrip(b"\n").endswith(b"one more")

    # the price: the inbox's head (10 entries, 1 credit) and each changed
    # conversation's 10 newest messages (1 credit); no file costs a request
    assert took < TTL - 1, "rsync outlived the ttl: a second check was due"
    assert sorted((e["path"], e["conversation"], e["cursor"], e["total_results"])
                  for e in cost) == sorted([
                      ("inbox", None, None, 10),
                      ("conversation", sd.ALES_ID, None, 10),
                      ("conversation", sd.LONG_ID, None, 10)]), cost
    assert sum(e["credits"] for e in cost) == 3

    # and a third run, nothing new, within the ttl: nothing sent, nothing asked
    seq = mark(mock)
    assert not [c for c in rsync(m.path, backup).values() if c.startswith(">")]
    assert since(mock, seq) == []


def test_the_root_has_its_newest_message_s_time_before_its_first_listing_too(
        mock, mount_factory):
    # rsync stats the top directory before it lists it: a root that said
    # 1970 until listed would leave that time on every first backup
    m = mount_factory(mock, "page_size=100", env=UTC)
    first = os.stat(m.path).st_mtime_ns
    assert len(os.listdir(m.path)) == len(mock.conversations()) + 1
    assert first == os.stat(m.path).st_mtime_ns == sd.ALES_LAST // 1000 * 10**9
