"""Bad input from the user (issue 3): every bad option value or mount point
gives a non-zero exit status and exactly one line on stderr naming the
problem, and leaves nothing behind: nothing mounted, the mount table as it
was, no linkupfs process, the mount point untouched.

linkupfs is run the way a user runs it, without -f: a start-up error must
come before it forks into the background.
"""

import os
import socket
import subprocess

import pytest

from conftest import (LINKUPFS_BIN, is_mounted, run_linkupfs, scrubbed_env,
                      wait_for, _fusermount)

CREDS = {"LINKUP_API_KEY": "k", "LINKUP_LOGIN_TOKEN": "t"}


def our_mounts(tmp_path):
    """Lines of the mount table that are under this test's directory (other
    tests may mount and unmount elsewhere at the same time)."""
    with open("/proc/self/mountinfo", encoding="utf-8",
              errors="surrogateescape") as f:
        return sorted(line.split(" ", 4)[4] for line in f
                      if str(tmp_path) in line)


def processes_naming(marker):
    """PIDs of processes whose command line holds marker."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if marker.encode() in cmd and os.path.basename(LINKUPFS_BIN).encode() in cmd:
            found.append(int(pid))
    return found


def refused(tmp_path, args, must_name, env=CREDS, status=None):
    """Run linkupfs args; check it was refused (with exit status `status`,
    when given) in one line naming must_name, and that nothing was left
    behind."""
    before = our_mounts(tmp_path)
    rc, out, err = run_linkupfs(args, env=env)
    lines = err.strip().splitlines()
    assert rc != 0
    if status is not None:
        assert rc == status, (rc, lines)
    assert len(lines) == 1, "want one line on stderr, got %r" % lines
    assert must_name in lines[0], lines[0]
    assert out == ""
    assert our_mounts(tmp_path) == before
    assert processes_naming(str(tmp_path)) == []
    return lines[0]


@pytest.fixture
def mnt(tmp_path):
    p = tmp_path / "mnt"
    p.mkdir()
    return p


@pytest.mark.parametrize("opt,value", [
    ("page_size", "0"), ("page_size", "abc"), ("cache_size", "-1"),
    ("timeout", "0"), ("rate_limit", "abc"), ("rate_limit", "300"),
    ("rate_limit", "0/60"), ("rate_limit", "300/0"), ("rate_limit", "300/"),
    ("rate_limit", "-1/60"), ("rate_limit", "300/60/2"),
])
@pytest.mark.valgrind
def test_bad_option_value_is_refused_in_one_line_and_nothing_is_mounted(
        tmp_path, mnt, opt, value):
    line = refused(tmp_path, ["-o", "%s=%s" % (opt, value), mnt], opt)
    assert value in line
    assert os.listdir(mnt) == [] and not is_mounted(mnt)


def test_unknown_option_is_refused_in_one_line_naming_it(tmp_path, mnt):
    line = refused(tmp_path, ["-o", "nosuchoption", mnt], "nosuchoption")
    assert not is_mounted(mnt)
    assert "see linkupfs --help" in line   # where the options are


@pytest.mark.parametrize("args", [["-o", "nosuchoption"], ["-x"],
                                  ["-o", "page_size=0"]])
def test_a_wrong_option_is_named_before_missing_credentials(tmp_path, mnt,
                                                            args):
    # no credentials at all: the option is what the user must fix first
    line = refused(tmp_path, args + [mnt], args[-1].split("=")[0], env={})
    assert line.startswith("linkupfs: ") and "API key" not in line


@pytest.mark.parametrize("args,must_name", [
    (["-o", "nosuchoption"], "nosuchoption"),
    (["-o", "page_size=10"], "mount point"),
    (["-o", "max_threads=abc"], "max_threads"),
])
@pytest.mark.valgrind
def test_every_start_up_message_is_ours(tmp_path, args, must_name):
    if args[0] == "-o" and args[1].startswith("max_threads"):
        (tmp_path / "mnt").mkdir()
        args = args + [str(tmp_path / "mnt")]
    line = refused(tmp_path, args, must_name)
    assert line.startswith("linkupfs: ") and not line.startswith("fuse")


def test_no_mount_point_is_refused_in_one_line(tmp_path):
    refused(tmp_path, ["-o", "page_size=10"], "mount point")


@pytest.mark.valgrind
def test_missing_mount_point_directory_is_refused_in_one_line(tmp_path):
    missing = tmp_path / "not-there"
    refused(tmp_path, [missing], "not-there")
    assert not missing.exists()


@pytest.mark.valgrind
def test_mount_point_that_is_a_file_is_refused_in_one_line(tmp_path):
    f = tmp_path / "file"
    f.write_text("mine\n")
    line = refused(tmp_path, [f], "not a directory")
    assert str(f) in line
    assert f.read_text() == "mine\n"


@pytest.mark.valgrind
def test_mount_point_that_is_not_empty_is_refused_in_one_line(tmp_path, mnt):
    (mnt / "notes.txt").write_text("mine\n")
    line = refused(tmp_path, [mnt], "not empty")
    assert str(mnt) in line
    assert os.listdir(mnt) == ["notes.txt"]
    assert (mnt / "notes.txt").read_text() == "mine\n"
    assert not is_mounted(mnt)


def test_mount_point_already_mounted_is_refused_and_the_first_mount_lives(
        tmp_path, mock, mount_factory):
    first = mount_factory(mock, "page_size=100")
    before = our_mounts(tmp_path)
    names = sorted(os.listdir(first.path))
    # not run_linkupfs: it would unmount the first mount afterwards
    env = scrubbed_env({"LINKUP_API_KEY": mock.api_key,
                        "LINKUP_LOGIN_TOKEN": mock.login_token,
                        "XDG_CONFIG_HOME": str(tmp_path / "config")})
    proc = subprocess.Popen([LINKUPFS_BIN, "-o", "api_url=" + mock.url,
                             first.path], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=env)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    try:
        lines = err.decode().strip().splitlines()
        assert proc.returncode != 0
        assert len(lines) == 1 and first.path in lines[0], lines
        assert "mounted" in lines[0] or "not empty" in lines[0], lines[0]
        # the first mount is still the only one there, and still serves
        assert our_mounts(tmp_path) == before
        assert processes_naming(str(tmp_path)) == [first.pid]
        assert first.proc.poll() is None
        assert sorted(os.listdir(first.path)) == names
    finally:
        if len(our_mounts(tmp_path)) > len(before):
            _fusermount(first.path)   # a second mount stacked on the first


# ------------------------------------------------------------------ one mount point

@pytest.mark.parametrize("shape", [
    "{a} {b}",                  # linkupfs ~/e1 ~/e2
    "-f {a} {b}",
    "{a} -o ttl=5 {b}",
    "{a} {b} -o ttl=5 -f",      # mount.fuse3's form has nothing after -o
    "{a} {b} {a}",
    "{a} {b} -o ttl=5",         # mount.fuse3's shape, typed: not our source
])
@pytest.mark.valgrind
def test_two_mount_points_are_refused_naming_both_and_nothing_is_mounted(
        tmp_path, shape):
    a, b = tmp_path / "e1", tmp_path / "linkedin"
    a.mkdir()
    b.mkdir()
    args = [w.format(a=a, b=b) for w in shape.split()]
    line = refused(tmp_path, args, "two mount points", status=64)
    assert str(a) in line and str(b) in line and "--help" in line
    assert not is_mounted(a) and not is_mounted(b)
    assert os.listdir(a) == [] and os.listdir(b) == []


@pytest.mark.parametrize("source", ["linkupfs", ""])
@pytest.mark.valgrind
def test_mount_8_form_source_mountpoint_dash_o_mounts_at_the_mount_point(
        tmp_path, mock, source):
    # how mount.fuse3 runs a helper for fuse.linkupfs: TYPE SOURCE
    # MOUNTPOINT -o OPTIONS ("" is the source of "linkupfs#" in fstab)
    src, mnt = tmp_path / "linkupfs", tmp_path / "mnt"
    src.mkdir()
    mnt.mkdir()
    env = scrubbed_env({"LINKUP_API_KEY": mock.api_key,
                        "LINKUP_LOGIN_TOKEN": mock.login_token,
                        "XDG_CONFIG_HOME": str(tmp_path / "config")})
    arg = str(src) if source else ""
    r = subprocess.run([LINKUPFS_BIN, arg, str(mnt), "-o",
                        "api_url=%s,dev,suid" % mock.url],
                       capture_output=True, text=True, env=env, timeout=30)
    try:
        assert r.returncode == 0, r.stderr
        assert is_mounted(mnt) and not is_mounted(src)
        assert ".stats" in os.listdir(mnt) and os.listdir(src) == []
    finally:
        if is_mounted(mnt):
            _fusermount(mnt)
        wait_for(lambda: processes_naming(str(mnt)) == [], timeout=10)


# ------------------------------------------------------------------ exit status

def wrong_config(tmp_path):
    cfg = tmp_path / "config.conf"
    cfg.write_text("ttl = 30\nno_such_key = 1\n")
    cfg.chmod(0o600)
    return cfg


@pytest.mark.parametrize("case,status", [
    ("unknown option", 64), ("bad FUSE value", 64), ("no mount point", 64),
    ("two mount points", 64), ("bad value", 78), ("no credentials", 78),
    ("secret in argv", 78), ("unknown config key", 78),
    ("config others can read", 78), ("missing mount point", 1),
])
@pytest.mark.valgrind
def test_exit_status_says_what_kind_of_mistake_it_was(tmp_path, mnt, case,
                                                     status):
    args, env = {
        "unknown option": (["-o", "nosuchoption", mnt], CREDS),
        "bad FUSE value": (["-o", "max_threads=many", mnt], CREDS),
        "no mount point": (["-o", "ttl=5"], CREDS),
        "two mount points": ([mnt, tmp_path], CREDS),
        "bad value": (["-o", "ttl=soon", mnt], CREDS),
        "no credentials": ([mnt], {}),
        "secret in argv": (["-o", "api_key=k", mnt], CREDS),
        "unknown config key": (["-o", "config=%s" % wrong_config(tmp_path),
                                mnt], CREDS),
        "config others can read": (["-o", "config=%s" % wrong_config(tmp_path),
                                    mnt], CREDS),
        "missing mount point": ([tmp_path / "not-there"], CREDS),
    }[case]
    if case == "config others can read":
        (tmp_path / "config.conf").write_text("ttl = 30\n")
        (tmp_path / "config.conf").chmod(0o644)
    rc, out, err = run_linkupfs(args, env=env)
    assert rc == status, (rc, err)
    assert len(err.strip().splitlines()) == 1 and err.startswith("linkupfs: ")
    assert not is_mounted(mnt) and os.listdir(mnt) == []


@pytest.mark.parametrize("version,env_of", [
    (1, lambda m: {"LINKUP_API_KEY": "wrong", "LINKUP_LOGIN_TOKEN": m.login_token}),
    (1, lambda m: {"LINKUP_API_KEY": m.api_key, "LINKUP_LOGIN_TOKEN": "wrong"}),
    (2, lambda m: {"LINKUP_API_KEY": "wrong", "LINKUP_ACCOUNT_ID": m.account_id}),
    (2, lambda m: {"LINKUP_API_KEY": m.api_key, "LINKUP_ACCOUNT_ID": "wrong"}),
], ids=["v1-key", "v1-token", "v2-key", "v2-account"])
def test_refused_credentials_exit_77_after_one_request(tmp_path, mnt, mock,
                                                        version, env_of):
    rc, out, err = run_linkupfs(["-o", "api_url=%s,api_version=%d"
                                 % (mock.url, version), mnt],
                                env=env_of(mock))
    assert rc == 77, (rc, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "refused" in lines[0], lines
    assert mock.stats()["requests"] == 1   # no retry of a refusal
    assert not is_mounted(mnt) and os.listdir(mnt) == []


def test_no_network_at_start_is_no_failed_start(mock, mount_factory):
    # as the systemd unit runs it (-f): a port nothing listens on refuses
    # the connection at once; the mount goes on, and ends with status 0
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        url = "http://127.0.0.1:%d" % held.getsockname()[1]
        m = mount_factory(mock, "api_url=" + url)   # the later api_url wins
        assert m.mounted()
        assert m.unmount() == 0
    log = m.log()
    assert "connection refused" in log and "mounting anyway" in log, log
    assert mock.stats()["requests"] == 0
