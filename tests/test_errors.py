"""Server faults and bad credentials on a real mount: what the user sees."""

import errno
import os
import threading
import time

import pytest

import sample_data as sd
from conftest import BROKEN_ANSWERS, is_mounted, run_linkupfs, wait_for
from lib import statfile
from lib.fsread import read, read_errno, transcript

UTC = {"TZ": "UTC"}


@pytest.fixture
def m(mock, mount_factory):
    mm = mount_factory(mock, "page_size=100,timeout=5", env=UTC)
    os.listdir(mm.path)  # the inbox, so faults below hit conversations
    return mm


@pytest.mark.valgrind
def test_429_with_retry_after_is_retried_and_the_read_succeeds(mock, m):
    mock.fault("status", count=1, path="conversation", status=429,
               retry_after=1)
    t0 = time.monotonic()
    data = read(transcript(m))
    assert b"Titouan Prioux" in data
    assert time.monotonic() - t0 >= 0.9  # Retry-After honoured
    statuses = [e["status"] for e in mock.api_log("conversation")]
    assert statuses == [429, 200]
    assert "requests_retried: 1" in read(os.path.join(m.path, ".stats")).decode()


def test_persistent_5xx_gives_eio_in_bounded_time_then_recovers(mock, m):
    mock.fault("status", count=-1, path="conversation", status=503)
    t0 = time.monotonic()
    assert read_errno(transcript(m)) == errno.EIO
    took = time.monotonic() - t0
    assert took < 30, took
    tries = len(mock.api_log("conversation"))
    assert 2 <= tries <= 6  # bounded retries, not a storm
    assert m.proc.poll() is None
    assert "503" in m.log()
    mock.clear_faults()
    # 503s say the API is failing: the next read goes after the back-off
    wait_for(lambda: statfile.api_lets_go(m.path))
    assert b"Titouan Prioux" in read(transcript(m))


@pytest.mark.parametrize("kind,params", BROKEN_ANSWERS)
@pytest.mark.valgrind
def test_malformed_answer_is_eio_and_never_kills_the_process(mock, m, kind,
                                                             params):
    mock.fault(kind, count=1, path="conversation", **params)
    assert read_errno(transcript(m)) == errno.EIO
    assert m.proc.poll() is None
    # nothing wrong was cached: the next read asks again (an HTML page
    # where JSON was due took the link down: after the back-off) and
    # succeeds
    wait_for(lambda: statfile.api_lets_go(m.path))
    assert b"Titouan Prioux" in read(transcript(m))


def test_a_cursor_that_does_not_move_ends_the_chain_with_an_error(mock, m):
    mock.fault("cursor_stuck", count=-1, path="conversation")
    t0 = time.monotonic()
    assert read_errno(transcript(m, sd.LONG_DIR)) == errno.EIO
    assert time.monotonic() - t0 < 10
    assert len(mock.api_log("conversation")) <= 3
    assert "cursor" in m.log()
    mock.clear_faults()
    assert b"message 1234" in read(transcript(m, sd.LONG_DIR))


def refused_at_mount(mock, tmp_path, env, must_name):
    """Run linkupfs as a user does (no -f) against mock with env; it must
    fail: non-zero exit, the reason in one linkupfs: line on stderr,
    nothing mounted, no process left."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    base = {"LINKUP_API_KEY": mock.api_key,
            "LINKUP_LOGIN_TOKEN": mock.login_token}
    base.update(env)
    rc, out, err = run_linkupfs(["-o", "api_url=" + mock.url, mnt], env=base)
    lines = err.strip().splitlines()
    assert rc != 0
    assert len(lines) == 1 and lines[0].startswith("linkupfs: "), lines
    assert must_name in lines[0], lines[0]
    assert not is_mounted(mnt) and os.listdir(mnt) == []
    assert not [p for p in os.listdir("/proc") if p.isdigit() and
                str(mnt).encode() in _cmdline(p)]
    return lines[0]


def _cmdline(pid):
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            return f.read()
    except OSError:
        return b""


def test_wrong_api_key_fails_the_mount_and_names_the_credential(mock,
                                                               tmp_path):
    line = refused_at_mount(mock, tmp_path, {"LINKUP_API_KEY": "wrong-key"},
                            "LINKUP_API_KEY")
    assert "401" in line and "wrong-key" not in line
    assert len(mock.log()) == 1  # refused: no retry storm


@pytest.mark.valgrind
def test_expired_login_token_fails_the_mount_and_names_the_token(mock,
                                                                tmp_path):
    refused_at_mount(mock, tmp_path, {"LINKUP_LOGIN_TOKEN": "expired"},
                     "LINKUP_LOGIN_TOKEN")


def test_key_refused_after_the_mount_gives_eacces(mock, mount_factory):
    mm = mount_factory(mock, "page_size=100", env=UTC)
    mock.fault("status", count=-1, path="conversation", status=401)
    with pytest.raises(OSError) as e:
        read(transcript(mm, sd.ALES_DIR))
    assert e.value.errno == errno.EACCES
    mock.clear_faults()


@pytest.mark.valgrind
def test_no_network_at_mount_mounts_and_says_why(mock, mount_factory,
                                                 tmp_path):
    # without the store: with it (the default) the mount is offline until
    # its next probe of the API (tests/test_store.py)
    mock.fault("reset", count=-1, path="inbox")
    mm = mount_factory(mock, "page_size=100", "nostore", env=UTC)
    assert "inbox" in mm.log()
    mock.clear_faults()
    wait_for(lambda: statfile.api_lets_go(mm.path))   # the back-off
    assert sd.ALES_DIR in os.listdir(mm.path)  # once the API answers


@pytest.mark.parametrize("missing", ["LINKUP_API_KEY", "LINKUP_LOGIN_TOKEN"])
@pytest.mark.valgrind
def test_missing_credential_is_a_clear_error_and_mounts_nothing(tmp_path,
                                                                missing):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    env = {"LINKUP_API_KEY": "k", "LINKUP_LOGIN_TOKEN": "t"}
    del env[missing]
    rc, out, err = run_linkupfs(["-f", mnt], env=env)
    assert rc != 0
    assert missing in err and len(err.strip().splitlines()) == 1
    assert not os.path.ismount(mnt)


def test_config_file_readable_by_others_is_refused(tmp_path):
    cfg = tmp_path / "cfg" / "linkupfs"
    cfg.mkdir(parents=True)
    (cfg / "config").write_text("api_key = k\nlogin_token = t\n")
    os.chmod(cfg / "config", 0o644)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    rc, out, err = run_linkupfs(["-f", mnt],
                                env={"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert rc != 0 and "chmod 600" in err
    assert not os.path.ismount(mnt)


def test_credentials_from_a_private_config_file_work(mock, mount_factory,
                                                     tmp_path):
    cfg = tmp_path / "config" / "linkupfs"
    cfg.mkdir(parents=True)
    (cfg / "config").write_text("# mine\napi_key = %s\nlogin_token = %s\n"
                                % (mock.api_key, mock.login_token))
    os.chmod(cfg / "config", 0o600)
    mm = mount_factory(mock, env={"LINKUP_API_KEY": None,
                                  "LINKUP_LOGIN_TOKEN": None, **UTC})
    assert sd.ALES_DIR in os.listdir(mm.path)


@pytest.mark.parametrize("opt", ["page_size=0", "page_size=abc",
                                 "cache_size=-1", "timeout=0", "ttl=x",
                                 "nostore=maybe", "offline=maybe"])
@pytest.mark.valgrind
def test_bad_option_value_is_one_clear_line(tmp_path, opt):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    rc, out, err = run_linkupfs(["-f", "-o", opt, mnt],
                                env={"LINKUP_API_KEY": "k",
                                     "LINKUP_LOGIN_TOKEN": "t"})
    assert rc != 0
    assert opt.split("=")[0] in err and len(err.strip().splitlines()) == 1
    assert not os.path.ismount(mnt)


@pytest.mark.valgrind
def test_api_key_on_the_command_line_is_refused(tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    rc, out, err = run_linkupfs(["-f", "-o", "api_key=secret123", mnt],
                                env={"LINKUP_LOGIN_TOKEN": "t"})
    assert rc != 0 and "ps" in err and "secret123" not in err


def test_help_lists_every_option_with_its_default():
    rc, out, err = run_linkupfs(["--help"])
    assert rc == 0
    for opt in ("api_url=", "page_size=", "cache_size=", "ttl=", "timeout=",
                "credit_limit=", "country=", "inbox_limit=", "conversation="):
        assert opt in out, opt
    assert "[64M]" in out and "[100]" in out


def test_version():
    rc, out, err = run_linkupfs(["--version"])
    assert rc == 0 and out.startswith("linkupfs ")


@pytest.mark.procfs
def test_secrets_never_reach_argv_log_or_files(mock, mount_factory):
    mm = mount_factory(mock, extra_args=("-d",), env=UTC)
    for root, dirs, files in os.walk(mm.path):
        if root.count(os.sep) - mm.path.count(os.sep) > 1:
            continue
        for f in files:
            if root == mm.path or root.endswith(sd.ALES_DIR):
                data = read(os.path.join(root, f))
                assert mock.api_key.encode() not in data
                assert mock.login_token.encode() not in data
    with open("/proc/%d/cmdline" % mm.pid, "rb") as f:
        cmdline = f.read()
    with open("/proc/%d/environ" % mm.pid, "rb") as f:
        environ = f.read()
    for secret in (mock.api_key, mock.login_token):
        assert secret.encode() not in cmdline
        assert secret.encode() not in environ
        assert secret not in mm.log()


def test_many_readers_during_faults_all_get_an_answer(mock, m):
    mock.fault("status", count=3, path="conversation", status=500)
    errors, oks = [], []

    def reader(name):
        try:
            oks.append(len(read(transcript(m, name))))
        except OSError as e:
            errors.append(e.errno)

    names = [sd.ALES_DIR, sd.HOSTILE_DIR, "person-03", "person-04"] * 3
    threads = [threading.Thread(target=reader, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(oks) + len(errors) == len(names)
    assert set(errors) <= {errno.EIO}
    assert m.proc.poll() is None
    wait_for(lambda: all(read(transcript(m, n)) for n in set(names)))
