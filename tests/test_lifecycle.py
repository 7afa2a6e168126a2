"""Unmount and signals with requests in flight: linkupfs exits promptly and
cleanly (no wait for the request timeout, nothing left mounted)."""

import errno
import os
import signal
import subprocess
import time

import pytest

import sample_data as sd
from conftest import LINKUPFS_BIN, _fusermount, is_mounted, wait_for

# The request timeout is 30 s here: exiting well before it shows that the
# request in flight was cancelled, not waited for.
PROMPT = 5.0


def start_hung_reader(mock, mm):
    os.listdir(mm.path)
    mock.fault("hang", count=-1, path="conversation", seconds=120)
    cat = subprocess.Popen(["cat", os.path.join(mm.path, sd.ALES_DIR,
                                                "transcript.txt")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: mock.stats()["active"] >= 1)
    return cat


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
@pytest.mark.valgrind
def test_signal_with_a_request_in_flight_exits_promptly(mock, mount_factory,
                                                        sig):
    mm = mount_factory(mock, "timeout=30")
    cat = start_hung_reader(mock, mm)
    t0 = time.monotonic()
    os.kill(mm.pid, getattr(signal, sig))
    rc = mm.proc.wait(timeout=PROMPT + 5)
    assert time.monotonic() - t0 < PROMPT
    assert rc == 0
    assert not is_mounted(mm.path)
    out, err = cat.communicate(timeout=PROMPT)
    assert cat.returncode != 0 and out == b""  # failed, not half a file
    mock.clear_faults()


@pytest.mark.valgrind
def test_signal_while_stats_is_open_exits_cleanly(mock, mount_factory):
    # the kernel may never send the RELEASE of a file still open (or whose
    # RELEASE was queued) when the mount goes: the daemon frees what such
    # opens hold itself (under valgrind and the sanitizers: no leak)
    mm = mount_factory(mock)
    held = os.open(os.path.join(mm.path, ".stats"), os.O_RDONLY)
    try:
        assert os.read(held, 4096).startswith(b"requests: ")
        os.kill(mm.pid, signal.SIGTERM)
        assert mm.proc.wait(timeout=PROMPT + 5) == 0
        assert not is_mounted(mm.path)
        assert mm.sanitizer_report() == ""
    finally:
        try:
            os.close(held)
        except OSError as e:    # the mount is gone: its flush finds no one
            assert e.errno == errno.ENOTCONN


@pytest.mark.valgrind
def test_fusermount_after_ctrl_c_of_a_hung_reader_exits_promptly(
        mock, mount_factory):
    # While a reader is inside the mount, umount says "busy" (as for any
    # filesystem); once the user interrupts it, the unmount must not wait
    # for the request the daemon still has in flight.
    mm = mount_factory(mock, "timeout=30")
    cat = start_hung_reader(mock, mm)
    cat.send_signal(signal.SIGINT)
    cat.wait(timeout=PROMPT)
    assert mock.stats()["active"] >= 1  # still in flight in the daemon
    t0 = time.monotonic()
    rc = subprocess.run(["fusermount3", "-u", mm.path]).returncode
    assert rc == 0
    assert mm.proc.wait(timeout=PROMPT + 5) == 0
    assert time.monotonic() - t0 < PROMPT
    assert not is_mounted(mm.path)
    mock.clear_faults()


def test_unmount_when_idle_is_immediate(mock, mount_factory):
    mm = mount_factory(mock)
    os.listdir(mm.path)
    t0 = time.monotonic()
    assert mm.unmount() == 0
    assert time.monotonic() - t0 < 2


@pytest.mark.valgrind
def test_a_dead_mount_point_names_the_command_that_frees_it(mock,
                                                            mount_factory):
    mm = mount_factory(mock)
    mm.allow_crash = True
    os.kill(mm.pid, signal.SIGKILL)
    mm.proc.wait(timeout=10)
    try:
        with pytest.raises(OSError) as e:
            os.stat(mm.path)
        assert e.value.errno == errno.ENOTCONN
        # not run_linkupfs: it would unmount the dead mount afterwards
        proc = subprocess.run([LINKUPFS_BIN, mm.path], capture_output=True,
                              text=True, timeout=10, env=mm.env)
        rc, lines = proc.returncode, proc.stderr.strip().splitlines()
        assert rc != 0 and len(lines) == 1, lines
        assert lines[0].startswith("linkupfs: ")
        assert "fusermount3 -u " + mm.path in lines[0]
        # and that command does free it
        assert subprocess.run(["fusermount3", "-u", mm.path]).returncode == 0
        assert not is_mounted(mm.path)
    finally:
        if is_mounted(mm.path):
            _fusermount(mm.path, lazy=True)


def test_lazy_unmount_detaches_a_mount_with_a_hung_reader_at_once(
        mock, mount_factory):
    # what README says while a reader is stuck in a request: fusermount3 -u
    # answers busy; fusermount3 -uz detaches the mount at once, and the
    # process exits as soon as the reader lets go
    mm = mount_factory(mock, "timeout=30")
    cat = start_hung_reader(mock, mm)
    try:
        busy = subprocess.run(["fusermount3", "-u", mm.path],
                              capture_output=True, text=True)
        assert busy.returncode != 0 and is_mounted(mm.path)
        assert subprocess.run(["fusermount3", "-uz", mm.path]).returncode == 0
        assert not is_mounted(mm.path)
        cat.send_signal(signal.SIGINT)
        cat.wait(timeout=PROMPT)
        t0 = time.monotonic()
        assert mm.proc.wait(timeout=PROMPT + 5) == 0
        assert time.monotonic() - t0 < PROMPT
    finally:
        cat.kill()
        cat.communicate()
        mock.clear_faults()
