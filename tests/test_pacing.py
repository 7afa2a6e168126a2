"""Pacing (SPEC section 5, issue 10): one limiter for every request of the
mount, rate_limit=N/SECONDS; a 429 anyway (another program on the key)
slows the mount down for the rest of the window instead of failing reads;
credits counted as the API charges them; a read waiting for its turn ends
at once on Ctrl-C. Windows scaled down (30 or 20 requests per 6 s); the
checks count requests, the timings are bounds only."""

import errno
import os
import signal
import subprocess
import time

import pytest

import sample_data as sd
from conftest import wait_for

# every test here runs once per LinkupAPI version (tests/conftest.py)
API_VERSIONS = (1, 2)

WINDOW = 6
# README: a request waits at most two windows (its turn, then one window
# after its first 429) plus its HTTP time; a little slack for the machine
WAIT_BOUND = 2 * WINDOW + 1.0


def stats(mm):
    with open(os.path.join(mm.path, ".stats")) as f:
        return dict(ln.split(": ", 1) for ln in f.read().splitlines())


def grep_everything(mm):
    """A cold grep -r over the whole mount: (files read, stderr)."""
    r = subprocess.run(["grep", "-r", "-c", "no such text anywhere", mm.path],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode in (0, 1), r.stderr  # 2: a file could not be read
    return len(r.stdout.splitlines()), r.stderr


def blocked_waiting_for_a_turn(mm, mock):
    """A request of the reader waits for its turn (each open of .stats is
    a snapshot of now), and nothing was sent but the mount's inbox. Not
    "cat is blocked in the mount": it is from its first lookup on, before
    any request waits, and a Ctrl-C then ends the lookup before it waited
    (rate_wait_seconds 0.000: 13 runs in 20 under TSan)."""
    wait_for(lambda: stats(mm)["requests_waiting"] == "1", timeout=30)
    assert mock.stats()["requests"] == 1


def most_in_any_window(times, seconds):
    """The largest number of these times within any `seconds`."""
    times, best, lo = sorted(times), 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= seconds:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_a_cold_grep_larger_than_one_window_waits_its_turns_and_draws_no_429(
        mock_factory, mount_factory):
    mock = mock_factory(extra_args=("--rate-limit", "30/%d" % WINDOW))
    mm = mount_factory(mock, "page_size=100,rate_limit=30/%d" % WINDOW)
    files, err = grep_everything(mm)
    assert err == "" and files > 100
    st, s = mock.stats(), stats(mm)
    assert st["requests"] > 30, "the walk fits one window: nothing tested"
    assert st["answers_429"] == 0 and s["answers_429"] == "0"
    assert s["errors"] == "0" and s["rate_limit"] == "30/%d" % WINDOW
    assert int(s["requests"]) == st["requests"]
    assert int(s["credits_spent"]) == st["credits"]
    assert float(s["rate_wait_seconds"]) > 0 and s["requests_waiting"] == "0"
    starts = [e["t_start"] for e in mock.api_log()]
    assert most_in_any_window(starts, WINDOW) <= 30


@pytest.mark.valgrind(1)
def test_a_key_shared_with_another_program_draws_429s_and_the_grep_still_reads_everything(
        mock_factory, mount_factory):
    # the mock allows 20 per window, linkupfs believes 30: the other 10
    # are "another program's"
    mock = mock_factory(extra_args=("--rate-limit", "20/%d" % WINDOW))
    mm = mount_factory(mock, "page_size=100,rate_limit=30/%d" % WINDOW)
    t0 = time.monotonic()
    files, err = grep_everything(mm)
    took = time.monotonic() - t0
    assert err == "" and files > 100
    st, s = mock.stats(), stats(mm)
    assert st["answers_429"] >= 1
    assert int(s["answers_429"]) == st["answers_429"]
    assert s["errors"] == "0"
    # each 429 charged, and counted the same way on both sides
    assert int(s["credits_spent"]) == st["credits"]
    assert int(s["requests"]) == st["requests"]
    # slowed down for the window: about one 429 per window, not a storm
    windows = took / WINDOW + 1
    assert st["answers_429"] <= 2 * windows, (st["answers_429"], took)
    assert float(s["rate_wait_max_seconds"]) <= WAIT_BOUND, s


@pytest.mark.timing   # turns and waits in seconds: not under valgrind
def test_a_read_waiting_for_its_turn_ends_at_once_on_ctrl_c(
        mock, mount_factory):
    # the mount's own inbox request takes the one turn of the minute
    mm = mount_factory(mock, "page_size=100,rate_limit=1/60")
    path = os.path.join(mm.path, sd.LONG_DIR, "transcript.txt")
    cat = subprocess.Popen(["cat", path], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
    try:
        blocked_waiting_for_a_turn(mm, mock)
        t0 = time.monotonic()
        cat.send_signal(signal.SIGINT)
        cat.wait(timeout=5)
        took = time.monotonic() - t0
    finally:
        if cat.poll() is None:
            cat.kill()
            cat.wait()
    assert cat.returncode == -signal.SIGINT
    # the turn is a minute away: ending at once is well under a second
    # (the wait asks every PACE_SLICE_MS), whatever the machine's load
    assert took < 2, took
    s = stats(mm)   # cat has exited, so its request has ended and counts
    assert s["requests_waiting"] == "0"
    assert float(s["rate_wait_seconds"]) > 0   # it was a turn
    assert mock.stats()["requests"] == 1   # the inbox only: nothing sent
    assert mm.proc.poll() is None


@pytest.mark.timing   # turns and waits in seconds: not under valgrind
def test_sigterm_cancels_reads_waiting_for_their_turn(mock, mount_factory):
    mm = mount_factory(mock, "page_size=100,rate_limit=1/60")
    path = os.path.join(mm.path, sd.ALES_DIR, "transcript.txt")
    cat = subprocess.Popen(["cat", path], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
    try:
        blocked_waiting_for_a_turn(mm, mock)
        t0 = time.monotonic()
        mm.proc.send_signal(signal.SIGTERM)
        mm.proc.wait(timeout=10)
        took = time.monotonic() - t0
        cat.wait(timeout=5)
    finally:
        if cat.poll() is None:
            cat.kill()
            cat.wait()
    assert took < 2, took
    assert cat.returncode != 0
    assert mock.stats()["requests"] == 1


@pytest.mark.valgrind(2)
def test_rate_limit_zero_means_none_and_stats_say_so(mock, mount_factory):
    mm = mount_factory(mock, "page_size=100,rate_limit=0")
    os.listdir(mm.path)
    s = stats(mm)
    assert s["rate_limit"] == "none" and s["rate_wait_seconds"] == "0.000"
    assert s["answers_429"] == "0" and s["requests_waiting"] == "0"


def test_the_default_is_the_apis_300_a_minute(mock, mount_factory):
    mm = mount_factory(mock, "page_size=100")
    assert stats(mm)["rate_limit"] == "300/60"


@pytest.mark.valgrind(1)
def test_errors_are_charged_as_the_api_charges_them(mock, mount_factory,
                                                    api_version):
    mm = mount_factory(mock, "page_size=100,timeout=5")
    os.listdir(mm.path)
    mock.fault("status", status=400, path="conversation")
    with pytest.raises(OSError) as e:
        with open(os.path.join(mm.path, sd.ALES_DIR, "transcript.txt"), "rb") as f:
            f.read()
    assert e.value.errno == errno.EIO
    mock.fault("status", status=503, count=1, path="conversation")
    with open(os.path.join(mm.path, sd.ALES_DIR, "transcript.txt"), "rb") as f:
        assert f.read()
    s, st = stats(mm), mock.stats()
    credits = [e["credits"] for e in mock.api_log("conversation")]
    # v1: the 400 1, the 503 nothing, 37 messages 4; v2 charges no error
    assert credits == ([1, 0, 4] if api_version == 1 else [0, 0, 4])
    assert int(s["credits_spent"]) == st["credits"]


@pytest.mark.timing   # turns and waits in seconds: not under valgrind
def test_a_429_that_persists_fails_with_eio_after_one_window_of_retries(
        mock, mount_factory):
    mm = mount_factory(mock, "page_size=100,timeout=5,rate_limit=30/2")
    os.listdir(mm.path)
    mock.fault("status", status=429, count=-1, path="conversation",
               message="API Rate limit exceeded")
    t0 = time.monotonic()
    with pytest.raises(OSError) as e:
        with open(os.path.join(mm.path, sd.ALES_DIR, "transcript.txt"), "rb") as f:
            f.read()
    took = time.monotonic() - t0
    assert e.value.errno == errno.EIO
    # retried in its turn for one window (2 s) after the first 429, no more
    assert 1.9 <= took <= 2 * 2 + 1.0, took
    n = len(mock.api_log("conversation"))
    assert 2 <= n <= 4, n
    assert "429" in mm.log() and stats(mm)["answers_429"] == str(n)
