"""Bad input from the user (issue 3): every bad option value or mount point
gives a non-zero exit status and exactly one line on stderr naming the
problem, and leaves nothing behind: nothing mounted, the mount table as it
was, no linkupfs process, the mount point untouched.

linkupfs is run the way a user runs it, without -f: a start-up error must
come before it forks into the background.
"""

import os
import subprocess

import pytest

from conftest import (LINKUPFS_BIN, is_mounted, run_linkupfs, scrubbed_env,
                      _fusermount)

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


def refused(tmp_path, args, must_name, env=CREDS):
    """Run linkupfs args; check it was refused in one line naming must_name,
    and that nothing was left behind."""
    before = our_mounts(tmp_path)
    rc, out, err = run_linkupfs(args, env=env)
    lines = err.strip().splitlines()
    assert rc != 0
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
def test_bad_option_value_is_refused_in_one_line_and_nothing_is_mounted(
        tmp_path, mnt, opt, value):
    line = refused(tmp_path, ["-o", "%s=%s" % (opt, value), mnt], opt)
    assert value in line
    assert os.listdir(mnt) == [] and not is_mounted(mnt)


def test_unknown_option_is_refused_in_one_line_naming_it(tmp_path, mnt):
    refused(tmp_path, ["-o", "nosuchoption", mnt], "nosuchoption")
    assert not is_mounted(mnt)


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
    (["one", "two", "three"], "invalid argument"),
])
def test_every_start_up_message_is_ours(tmp_path, args, must_name):
    if args[0] == "one":  # one argument more than SOURCE MOUNTPOINT
        (tmp_path / "mnt").mkdir()
        args = [str(tmp_path / "mnt")] * 2 + ["three"]
    line = refused(tmp_path, args, must_name)
    assert line.startswith("linkupfs: ") and not line.startswith("fuse")


def test_no_mount_point_is_refused_in_one_line(tmp_path):
    refused(tmp_path, ["-o", "page_size=10"], "mount point")


def test_missing_mount_point_directory_is_refused_in_one_line(tmp_path):
    missing = tmp_path / "not-there"
    refused(tmp_path, [missing], "not-there")
    assert not missing.exists()


def test_mount_point_that_is_a_file_is_refused_in_one_line(tmp_path):
    f = tmp_path / "file"
    f.write_text("mine\n")
    line = refused(tmp_path, [f], "not a directory")
    assert str(f) in line
    assert f.read_text() == "mine\n"


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
