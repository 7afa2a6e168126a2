"""The persistent store (issue 11; on by default since issue 17, -o nostore
turns it off, store=PATH moves it): what a remount costs, counted in the
mock's requests; byte-identical trees with and without the store; offline
reads; the bytes written to keep a conversation (issue 17: in proportion
to what is kept); and the store's safety at rest and under faults
(permissions, a damaged file, a file of an older linkupfs, kill -9, two
mounts at once, no secrets in the file)."""

import errno
import os
import signal
import sqlite3
import stat
import subprocess
import threading
import time

import pytest

import expected
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


def mtimes(mnt):
    """The mtime (whole seconds) of every file and directory of the mount
    but .stats: a page's is its newest message's, which the store keeps."""
    out = {}
    for name in sorted(os.listdir(mnt)):
        d = os.path.join(mnt, name)
        if name != ".stats":
            out[name] = int(os.stat(d).st_mtime)
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                out[name + "/" + f] = int(os.stat(os.path.join(d, f)).st_mtime)
    return out


def store_dir(tmp_path):
    return str(tmp_path / "store")


def requests(mock):
    return len(mock.log())


def inbox_requests(mock):
    return len(mock.api_log("inbox"))


def conv_requests(mock):
    return len(mock.api_log("conversation"))


def plain_opts(*more):
    return ("page_size=%d" % PAGE, "nostore") + more


def settle(m):
    """Wait until every blob the mount put in its store is on disk (its
    writer gathers a batch for a few seconds)."""
    wait_for(lambda: statfile.store_settled(m.path), timeout=30, interval=0.05)
    return statfile.fresh(m.path)


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
    # the same files and times as a mount that never had a store
    plain = mount_factory(mock, *plain_opts(), env=UTC)
    assert tree(plain.path) == again
    times = mtimes(m.path)
    assert len(set(times.values())) > 20   # the pages' own times
    assert times == mtimes(plain.path)


@pytest.mark.valgrind
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
    plain = mount_factory(mock, *plain_opts(), env=UTC)
    assert tree(plain.path) == again
    assert m.unmount() == 0
    # the new messages were kept with the rest: the next remount costs none
    mock.reset()
    m = mount_factory(mock, *opts(store), env=UTC)
    assert tree(m.path) == again
    assert conv_requests(mock) == 0


@pytest.mark.valgrind
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


def test_offline_with_nothing_kept_says_how_to_get_a_listing(
        mock, mount_factory, tmp_path):
    m = mount_factory(mock, *opts(store_dir(tmp_path), "offline"), env=UTC)
    with pytest.raises(OSError) as e:
        os.listdir(m.path)
    assert e.value.errno == errno.ENETDOWN
    assert requests(mock) == 0
    # the mount's line says what to do (the ls's own line follows it)
    first = m.log().splitlines()[0]
    assert first == ("linkupfs: inbox: not sent: offline (-o offline), and "
                     "no inbox kept: listings fail (network is down) until "
                     "a mount without -o offline reads it")


@pytest.mark.valgrind
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


@pytest.mark.valgrind
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


@pytest.mark.valgrind
def test_two_mounts_of_one_account_at_once_share_the_store(
        mock_factory, mount_factory, tmp_path):
    mock = mock_factory(latency_ms=2)
    plain = mount_factory(mock, *plain_opts(), env=UTC)
    want = tree(plain.path)
    assert plain.unmount() == 0
    env = dict(UTC, XDG_CACHE_HOME=str(tmp_path / "shared"))
    mounts = [mount_factory(mock, "page_size=%d" % PAGE, env=env)
              for _ in range(2)]
    got = {}
    readers = [threading.Thread(target=lambda m=m: got.__setitem__(
        m.path, tree(m.path))) for m in mounts]
    for t in readers:
        t.start()
    for t in readers:
        t.join(60)
    for m in mounts:
        assert got[m.path] == want
        assert settle(m)["store_writable"] == "yes"
        assert "store" not in m.log()       # no refusal, no failure
    for m in mounts:
        assert m.unmount() == 0
    # what both kept is one store: a third mount asks only for the inbox
    mock.reset()
    m = mount_factory(mock, "page_size=%d" % PAGE, env=env)
    assert tree(m.path) == want
    assert conv_requests(mock) == 0


def test_secrets_never_reach_the_store(mock, mount_factory, tmp_path):
    store = store_dir(tmp_path)
    fill_store(mock, mount_factory, store)
    for f in os.listdir(store):
        data = open(os.path.join(store, f), "rb").read()
        assert mock.api_key.encode() not in data, f
        assert mock.login_token.encode() not in data, f


@pytest.mark.valgrind
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


@pytest.mark.valgrind
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


@pytest.mark.valgrind
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


@pytest.mark.valgrind
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
    """A tmpfs of 96K (root only: the tests run as root in CI), unmounted
    at the end: room for one conversation, not for all."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path = tmp_path / "small"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k,mode=0700",
                    "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.valgrind
def test_a_full_or_read_only_disk_keeps_the_mount_working_from_memory(
        mock, mount_factory, tmp_path, small_disk):
    store = str(small_disk / "store")
    plain = mount_factory(mock, *plain_opts(), env=UTC)
    want = tree(plain.path)
    assert plain.unmount() == 0
    m = mount_factory(mock, *opts(store), env=UTC)
    ales = sd.ALES_DIR + "/transcript.txt"
    assert read(os.path.join(m.path, ales)) == want[ales]
    st = settle(m)
    assert st["store_writable"] == "yes" and st["store_entries"] > 0
    assert tree(m.path) == want                 # too much for the disk
    assert settle(m)["store_writable"] == "no"
    assert tree(m.path) == want
    assert m.log().count("cannot write") == 1
    assert m.unmount() == 0
    # read-only now: what was kept is served, the rest fetched
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    mock.reset()
    m = mount_factory(mock, *opts(store), env=UTC)
    assert tree(m.path) == want
    assert statfile.numbers(m.path)["store_hits"] > 0
    assert "cannot write" not in m.log()


@pytest.mark.valgrind
def test_the_store_budget_is_kept_by_evicting_the_least_recently_used(
        mock, mount_factory, tmp_path):
    store = store_dir(tmp_path)
    m = mount_factory(mock, *opts(store, "store_size=64K"), env=UTC)
    first = tree(m.path)
    st = settle(m)
    assert st["store_bytes"] <= 64 * 1024
    assert st["store_evictions"] > 0
    assert m.unmount() == 0
    m = mount_factory(mock, *opts(store, "store_size=64K"), env=UTC)
    assert tree(m.path) == first


def config_file(tmp_path, text):
    """The config file every mount of the test reads."""
    cfg = tmp_path / "config" / "linkupfs"
    cfg.mkdir(parents=True)
    (cfg / "config").write_text(text)
    os.chmod(cfg / "config", 0o600)


@pytest.mark.valgrind
def test_store_and_its_size_from_the_config_file(
        mock, mount_factory, tmp_path):
    config_file(tmp_path, "store = yes\nstore_size = 16M\n")
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


# ------------------------------------------------ on by default (issue 17)

def test_the_store_is_on_by_default_and_a_remount_reads_from_it(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=%d" % PAGE, env=UTC)
    first = tree(m.path)
    assert conv_requests(mock) > 20
    inbox_before = inbox_requests(mock)
    assert m.unmount() == 0
    where = os.path.join(m.cache_home, "linkupfs")
    assert stat.S_IMODE(os.stat(where).st_mode) == 0o700
    assert os.path.getsize(os.path.join(where, "store.db")) > 0
    mock.reset()
    m = mount_factory(mock, "page_size=%d" % PAGE,
                      env=dict(UTC, XDG_CACHE_HOME=m.cache_home))
    assert tree(m.path) == first
    assert conv_requests(mock) == 0
    assert inbox_requests(mock) == inbox_before == requests(mock)


@pytest.mark.parametrize("off", [("nostore",), ("store=no",)],
                         ids=["nostore", "store=no"])
@pytest.mark.valgrind
def test_nostore_keeps_nothing_on_disk(mock, mount_factory, off):
    m = mount_factory(mock, "page_size=%d" % PAGE, *off, env=UTC)
    first = tree(m.path)
    assert "store_bytes" not in statfile.values(m.path)
    assert m.unmount() == 0
    assert os.listdir(m.cache_home) == []
    # nothing to find again: a remount reads everything anew
    mock.reset()
    m = mount_factory(mock, "page_size=%d" % PAGE, *off,
                      env=dict(UTC, XDG_CACHE_HOME=m.cache_home))
    assert tree(m.path) == first
    assert conv_requests(mock) > 20
    assert os.listdir(m.cache_home) == []


@pytest.mark.valgrind
def test_nostore_in_the_config_file_and_store_on_the_command_line(
        mock, mount_factory, tmp_path):
    config_file(tmp_path, "nostore = yes\n")
    m = mount_factory(mock, "page_size=%d" % PAGE, env=UTC)
    assert "store_bytes" not in statfile.values(m.path)
    m = mount_factory(mock, "page_size=%d" % PAGE, "store", env=UTC)
    assert "store_bytes" in statfile.values(m.path)     # -o comes first


def write_bytes(pid):
    with open("/proc/%d/io" % pid) as f:
        return int(dict(line.split(": ") for line in f.read().split("\n")
                        if line)["write_bytes"])


@pytest.mark.procfs     # /proc/PID/io: under valgrind, valgrind's process
def test_keeping_a_conversation_writes_in_proportion_to_what_is_kept(
        mock, mount_factory):
    """Issue 17, target 3: the bytes the process writes to the disk to keep
    5 000 messages are at most 1.5 times the bytes the store holds for them
    (each body written once, in batches; the chain record once per walk,
    not rewritten whole per chunk: before, 9.4 MB for 2.0 MB); reading
    them back on a remount writes a fifth of that at most."""
    n = 5000
    mock.add_conversation(key="many", name="Many Messages", messages=n,
                          profile_url=sd.LI + "many-messages/")
    m = mount_factory(mock, "page_size=%d" % PAGE, env=UTC)
    assert "many-messages" in os.listdir(m.path)
    kept_before = settle(m)["store_bytes"]      # the inbox's pages
    wrote_before = write_bytes(m.pid)
    text = read(os.path.join(m.path, "many-messages", "transcript.txt"))
    assert text.count(b"many: message ") == n
    kept = settle(m)["store_bytes"] - kept_before
    wrote = write_bytes(m.pid) - wrote_before
    assert kept > 100 * 1000            # 50 bodies and the chain
    assert wrote <= 1.5 * kept, (wrote, kept)
    assert m.unmount() == 0
    # reading it back writes down its use, not the blobs again
    m = mount_factory(mock, "page_size=%d" % PAGE,
                      env=dict(UTC, XDG_CACHE_HOME=m.cache_home))
    wrote_before = write_bytes(m.pid)
    assert read(os.path.join(m.path, "many-messages", "transcript.txt")) == text
    settle(m)
    assert write_bytes(m.pid) - wrote_before <= 0.2 * kept


@pytest.mark.valgrind
def test_a_store_of_an_older_linkupfs_is_set_aside(
        mock, mount_factory, tmp_path):
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    db = sqlite3.connect(str(store / "store.db"))
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE blob(key TEXT PRIMARY KEY, sum INTEGER NOT "
               "NULL, used INTEGER NOT NULL, value BLOB NOT NULL)")
    db.execute("INSERT INTO blob VALUES('0123/inbox/100/-', 1, 1, x'00')")
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    os.chmod(store / "store.db", 0o600)
    plain = mount_factory(mock, *plain_opts(), env=UTC)
    want = tree(plain.path)
    m = mount_factory(mock, *opts(str(store)), env=UTC)
    assert tree(m.path) == want
    assert m.log().count("made by an older linkupfs: set aside as") == 1
    assert os.path.exists(store / "store.db.old")
    assert m.unmount() == 0
    db = sqlite3.connect(str(store / "store.db"))
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM blob").fetchone()[0] > 20
    db.close()
    m = mount_factory(mock, *opts(str(store)), env=UTC)
    assert tree(m.path) == want
    assert "older" not in m.log()


def test_an_evicted_page_comes_back_from_the_store_without_a_request(
        mock, mount_factory, data):
    """With a cache too small for any page, the store is the tier under it:
    an evicted chunk is read back from the disk (before: two requests, as
    tests/test_read_path.py still pins for -o nostore)."""
    m = mount_factory(mock, "page_size=%d" % PAGE, "cache_size=1K", env=UTC)
    d = os.path.join(m.path, sd.LONG_DIR)
    conv = data.find(sd.LONG_ID)
    want = "".join(expected.render(x) for x in expected.messages(conv))
    assert read(os.path.join(d, "transcript.txt")).decode() == want
    before = conv_requests(mock)
    hits = statfile.fresh(m.path)["store_hits"]
    assert read(os.path.join(d, "page-0007.txt")).decode() == \
        expected.pages(conv, 100)[6]
    assert conv_requests(mock) == before
    assert statfile.fresh(m.path)["store_hits"] >= hits + 2
