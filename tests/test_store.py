"""The persistent store (issue 11, -o store / store=PATH): what a remount
costs, counted in the mock's requests; byte-identical trees with and
without the store; offline reads; and the store's safety at rest and under
faults (permissions, a damaged file, kill -9, a second mount, no secrets
in the file)."""

import errno
import os
import signal
import sqlite3
import stat
import subprocess
import threading
import time

import pytest

import sample_data as sd
from conftest import Mount, wait_for
from lib import statfile
from lib.fsread import read

PAGE = 100
UTC = {"TZ": "UTC"}


def opts(store, *more):
    return ("page_size=%d" % PAGE, "store=%s" % store) + more


def tree(mnt):
    """Every file of the mount but .stats: its bytes, or the errno its
    read met."""
    out = {}
    for name in sorted(os.listdir(mnt)):
        d = os.path.join(mnt, name)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            try:
                out[name + "/" + f] = read(os.path.join(d, f))
            except OSError as e:
                out[name + "/" + f] = e.errno
    return out


def store_dir(tmp_path):
    return str(tmp_path / "store")


def requests(mock):
    return len(mock.log())


def inbox_requests(mock):
    return len(mock.api_log("inbox"))


def conv_requests(mock):
    return len(mock.api_log("conversation"))


def fill_store(mock, mount_factory, store):
    """A mount with the store that reads everything; unmounted. Its tree."""
    m = mount_factory(mock, *opts(store), env=UTC)
    got = tree(m.path)
    assert m.unmount() == 0
    return got


def test_remount_with_nothing_changed_costs_only_the_inbox(
        mock, mount_factory, tmp_path):
    store = store_dir(tmp_path)
    first = fill_store(mock, mount_factory, store)
    assert conv_requests(mock) > 20
    inbox_before = inbox_requests(mock)
    mock.reset()
    m = mount_factory(mock, *opts(store), env=UTC)
    again = tree(m.path)
    assert again == first
    assert conv_requests(mock) == 0
    assert inbox_requests(mock) == inbox_before == requests(mock)
    st = statfile.values(m.path)
    assert st["api"] == "online"
    assert int(st["store_hits"]) > 0
    # the same files as a mount that never had a store
    plain = mount_factory(mock, "page_size=%d" % PAGE, env=UTC)
    assert tree(plain.path) == again


def test_a_changed_conversation_costs_only_its_new_messages(
        mock, mount_factory, tmp_path):
    store = store_dir(tmp_path)
    fill_store(mock, mount_factory, store)
    for i in range(3):
        mock.add_message(sd.LONG_KEY, "new message %d" % i)
    mock.reset()
    m = mount_factory(mock, *opts(store), env=UTC)
    again = tree(m.path)
    # one newest page for the changed conversation, nothing for the others
    log = mock.api_log("conversation")
    assert [e["conversation"] for e in log] == [sd.LONG_ID]
    assert log[0]["cursor"] is None
    assert b"new message 2" in again[sd.LONG_DIR + "/transcript.txt"]
    plain = mount_factory(mock, "page_size=%d" % PAGE, env=UTC)
    assert tree(plain.path) == again
    assert m.unmount() == 0
    # the new messages were kept with the rest: the next remount costs none
    mock.reset()
    m = mount_factory(mock, *opts(store), env=UTC)
    assert tree(m.path) == again
    assert conv_requests(mock) == 0


def test_offline_remount_serves_the_store_and_fails_fast_for_the_rest(
        mock, mount_factory, tmp_path):
    store = store_dir(tmp_path)
    m = mount_factory(mock, *opts(store), env=UTC)
    names = sorted(n for n in os.listdir(m.path) if n != ".stats")
    seen = {}
    for name in names[:-1]:     # the last conversation is never read
        t = os.path.join(m.path, name, "transcript.txt")
        seen[name] = read(t)
    unread = names[-1]
    assert m.unmount() == 0
    mock.stop()                 # the API refuses connections now
    m = mount_factory(mock, *opts(store, "timeout=5"), env=UTC)
    assert sorted(n for n in os.listdir(m.path) if n != ".stats") == names
    for name, want in seen.items():
        assert read(os.path.join(m.path, name, "transcript.txt")) == want
    # what was never kept: a try once the back-off has run out (refused:
    # EIO); right after it, within the back-off it doubled, none at once
    unread_t = os.path.join(m.path, unread, "transcript.txt")
    wait_for(lambda: statfile.api_lets_go(m.path))
    with pytest.raises(OSError) as e:
        read(unread_t)
    assert e.value.errno == errno.EIO
    t0 = time.monotonic()
    with pytest.raises(OSError) as e:
        read(unread_t)
    assert e.value.errno == errno.ENETDOWN
    assert time.monotonic() - t0 < 1
    assert statfile.values(m.path)["api"] == "down"
    assert "the API cannot be reached (connection refused" in m.log()


def test_offline_option_sends_nothing_and_back_online_by_itself(
        mock_factory, mount_factory, tmp_path):
    mock = mock_factory()
    store = store_dir(tmp_path)
    first = fill_store(mock, mount_factory, store)
    mock.reset()
    m = mount_factory(mock, *opts(store, "offline"), env=UTC)
    assert tree(m.path) == first
    assert requests(mock) == 0
    assert statfile.values(m.path)["api"] == "offline"
    assert m.unmount() == 0
    # unreachable at mount, then the API answers again on the same port
    port = mock.port
    mock.stop()
    m = mount_factory(mock, *opts(store, "ttl=1"), env=UTC)
    assert statfile.values(m.path)["api"] == "down"
    back = mock_factory(extra_args=("--port", str(port)))
    # a look at the root (ls's stat) is what asks for its check
    wait_for(lambda: (os.stat(m.path), os.listdir(m.path),
                      statfile.values(m.path)["api"] == "online")[2],
             timeout=30, interval=0.2)
    assert inbox_requests(back) >= 1


def test_store_directory_and_file_are_private_and_others_refused(
        mock, mount_factory, tmp_path):
    store = store_dir(tmp_path)
    fill_store(mock, mount_factory, store)
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o700
    for f in os.listdir(store):
        assert stat.S_IMODE(os.stat(os.path.join(store, f)).st_mode) == 0o600, f
    os.chmod(store, 0o750)
    with pytest.raises(RuntimeError) as e:
        mount_factory(mock, *opts(store), env=UTC)
    assert "chmod 700" in str(e.value)
    os.chmod(store, 0o700)
    os.chmod(os.path.join(store, "store.db"), 0o644)
    with pytest.raises(RuntimeError) as e:
        mount_factory(mock, *opts(store), env=UTC)
    assert "chmod 600" in str(e.value)


def test_a_second_mount_of_the_same_store_is_refused(
        mock, mount_factory, tmp_path):
    store = store_dir(tmp_path)
    m = mount_factory(mock, *opts(store), env=UTC)
    with pytest.raises(RuntimeError) as e:
        mount_factory(mock, *opts(store), env=UTC)
    assert "in use by another linkupfs mount" in str(e.value)
    assert m.mounted()
    assert read(os.path.join(m.path, sd.ALES_DIR, "transcript.txt"))


def test_secrets_never_reach_the_store(mock, mount_factory, tmp_path):
    store = store_dir(tmp_path)
    fill_store(mock, mount_factory, store)
    for f in os.listdir(store):
        data = open(os.path.join(store, f), "rb").read()
        assert mock.api_key.encode() not in data, f
        assert mock.login_token.encode() not in data, f


def test_another_login_token_never_meets_this_ones_data(
        mock, mount_factory, tmp_path):
    store = store_dir(tmp_path)
    fill_store(mock, mount_factory, store)
    mock.reset()
    m = mount_factory(mock, *opts(store, "offline"), env=dict(
        UTC, LINKUP_LOGIN_TOKEN="another-token"))
    # offline, nothing of this account was kept: the listing fails fast
    with pytest.raises(OSError) as e:
        os.listdir(m.path)
    assert e.value.errno == errno.ENETDOWN
    assert requests(mock) == 0


def damage_bodies(store):
    """Flip bytes inside every stored body, as a failing disk would."""
    db = sqlite3.connect(os.path.join(store, "store.db"))
    rows = db.execute("SELECT key, value FROM blob WHERE key LIKE '%/body/%'"
                      ).fetchall()
    for key, value in rows:
        v = bytearray(value)
        v[len(v) // 2] ^= 0x55
        db.execute("UPDATE blob SET value=? WHERE key=?", (bytes(v), key))
    db.commit()
    db.close()
    return len(rows)


def test_a_damaged_store_is_detected_and_refetched_never_served(
        mock, mount_factory, tmp_path):
    store = store_dir(tmp_path)
    first = fill_store(mock, mount_factory, store)
    assert damage_bodies(store) > 20
    mock.reset()
    m = mount_factory(mock, *opts(store), env=UTC)
    assert tree(m.path) == first
    st = statfile.numbers(m.path)
    assert st["store_damaged"] > 20
    assert conv_requests(mock) == st["store_damaged"]


def test_a_damaged_file_is_set_aside_and_the_mount_starts_anew(
        mock, mount_factory, tmp_path):
    store = store_dir(tmp_path)
    first = fill_store(mock, mount_factory, store)
    path = os.path.join(store, "store.db")
    with open(path, "r+b") as f:
        f.write(b"this is not a database" * 8)
    mock.reset()
    m = mount_factory(mock, *opts(store), env=UTC)
    assert tree(m.path) == first
    assert os.path.exists(path + ".damaged")
    assert "damaged" in m.log()


def test_kill_9_during_cold_reads_leaves_a_store_that_serves_only_whole_answers(
        mock_factory, mount_factory, tmp_path):
    mock = mock_factory(latency_ms=5)
    store = store_dir(tmp_path)
    want = fill_store(mock_factory(), mount_factory, store + "-ref")
    def reader(path):
        try:
            tree(path)
        except OSError:
            pass                # the mount dies under it
    for round_ in range(3):
        m = mount_factory(mock, *opts(store), env=UTC)
        m.allow_crash = True
        readers = [threading.Thread(target=reader, args=(m.path,), daemon=True)
                   for _ in range(2)]
        for t in readers:
            t.start()
        wait_for(lambda: conv_requests(mock) > 5 * (round_ + 1), timeout=30)
        os.kill(m.pid, signal.SIGKILL)
        m.proc.wait(10)
        subprocess.run(["fusermount3", "-uz", m.path], check=False,
                       stderr=subprocess.DEVNULL)
        for t in readers:
            t.join(30)
    db = sqlite3.connect(os.path.join(store, "store.db"))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    m = mount_factory(mock, *opts(store), env=UTC)
    assert tree(m.path) == want


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of 192K (root only: the tests run as root in CI), unmounted
    at the end."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path = tmp_path / "small"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=192k,mode=0700",
                    "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_or_read_only_disk_keeps_the_mount_working_from_memory(
        mock, mount_factory, tmp_path, small_disk):
    store = str(small_disk / "store")
    plain = mount_factory(mock, "page_size=%d" % PAGE, env=UTC)
    want = tree(plain.path)
    assert plain.unmount() == 0
    m = mount_factory(mock, *opts(store), env=UTC)
    assert tree(m.path) == want
    st = statfile.values(m.path)
    assert st["store_writable"] == "no"
    assert m.log().count("cannot write") == 1
    assert m.unmount() == 0
    # read-only now: what was kept is served, the rest fetched
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    mock.reset()
    m = mount_factory(mock, *opts(store), env=UTC)
    assert tree(m.path) == want
    assert statfile.numbers(m.path)["store_hits"] > 0
    assert m.log().count("cannot write") <= 1


def test_the_store_budget_is_kept_by_evicting_the_least_recently_used(
        mock, mount_factory, tmp_path):
    store = store_dir(tmp_path)
    m = mount_factory(mock, *opts(store, "store_size=64K"), env=UTC)
    first = tree(m.path)
    st = statfile.numbers(m.path)
    assert st["store_bytes"] <= 64 * 1024
    assert st["store_evictions"] > 0
    assert m.unmount() == 0
    m = mount_factory(mock, *opts(store, "store_size=64K"), env=UTC)
    assert tree(m.path) == first


def test_store_from_the_config_file_lives_in_the_cache_home(
        mock, mount_factory, tmp_path):
    cfg = tmp_path / "config" / "linkupfs"
    cfg.mkdir(parents=True)
    (cfg / "config").write_text("store = yes\nstore_size = 16M\n")
    os.chmod(cfg / "config", 0o600)
    cache = tmp_path / "cache"
    env = dict(UTC, XDG_CACHE_HOME=str(cache))
    m = mount_factory(mock, "page_size=%d" % PAGE, env=env)
    first = tree(m.path)
    assert statfile.numbers(m.path)["store_budget"] == 16 << 20
    assert m.unmount() == 0
    where = cache / "linkupfs"
    assert stat.S_IMODE(os.stat(where).st_mode) == 0o700
    assert os.path.exists(where / "store.db")
    mock.reset()
    m = mount_factory(mock, "page_size=%d" % PAGE, env=env)
    assert tree(m.path) == first
    assert conv_requests(mock) == 0
