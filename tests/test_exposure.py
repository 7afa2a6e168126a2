"""The mount is private to its user: other users cannot even list it, and
the kernel checks permissions (default_permissions), unless allow_other is
asked for."""

import os
import shutil
import subprocess
import tempfile

import pytest

import sample_data as sd
from lib import mountinfo


def mount_options(path):
    fields = mountinfo.fields(path)
    if fields is None:
        raise AssertionError("%s is not mounted" % path)
    # mount options, then after " - ": type, source, super options
    sep = fields.index("-")
    return set(fields[5].split(",")), set(fields[sep + 3].split(","))


def as_nobody(argv):
    def drop():
        os.setgid(65534)
        os.setuid(65534)
    return subprocess.run(argv, capture_output=True, text=True, preexec_fn=drop)


def test_mount_is_private_and_checked_by_the_kernel(mock, mount_factory):
    if os.getuid() != 0:
        pytest.fail("this test changes user: run it as root (CI does)")
    # a mount point every user can reach, so only FUSE can say no
    top = tempfile.mkdtemp(prefix="linkupfs-exposure-")
    os.chmod(top, 0o755)
    point = os.path.join(top, "mnt")
    os.mkdir(point)
    os.chmod(point, 0o755)
    assert as_nobody(["ls", top]).returncode == 0
    mm = mount_factory(mock, mountpoint=point)
    os.listdir(mm.path)
    mnt_opts, super_opts = mount_options(mm.path)
    assert "default_permissions" in super_opts
    assert "allow_other" not in super_opts
    out = as_nobody(["ls", mm.path])
    assert out.returncode != 0 and "Permission denied" in out.stderr
    out = as_nobody(["cat", os.path.join(mm.path, sd.ALES_DIR,
                                         "transcript.txt")])
    assert out.returncode != 0
    assert not mock.api_log("conversation")  # nothing fetched for them
    mm.unmount()
    os.rmdir(point)
    os.rmdir(top)


def test_rsync_as_a_user_needs_writable_copies_of_the_read_only_directories(
        mock, mount_factory):
    # README.md, "Examples": rsync -aX stops on its own temporary files,
    # --chmod=Du+w makes a whole copy (here a user other than the mount's
    # reads through allow_other; root would not meet permissions at all)
    readme = os.path.join(os.path.dirname(__file__), "..", "README.md")
    with open(readme) as f:
        said = f.read()
    assert "rsync -aX" in said and "rsync -a --chmod=Du+w" in said
    if os.getuid() != 0:
        pytest.fail("this test changes user: run it as root (CI does)")
    if shutil.which("rsync") is None:
        pytest.fail("rsync is missing (make deps)", pytrace=False)
    top = tempfile.mkdtemp(prefix="linkupfs-rsync-")
    try:
        os.chmod(top, 0o755)
        point = os.path.join(top, "mnt")
        os.mkdir(point)
        mm = mount_factory(mock, "allow_other", mountpoint=point)
        src = os.path.join(mm.path, sd.ALES_DIR)   # the directory itself
        for name, flags in (("x", ["-aX"]), ("ok", ["-aX", "--chmod=Du+w"])):
            dst = os.path.join(top, name)
            os.mkdir(dst)
            os.chown(dst, 65534, 65534)
            r = as_nobody(["rsync"] + flags + [src, dst])
            if name == "x":
                assert r.returncode != 0
                assert "mkstemp" in r.stderr and "Permission denied" in r.stderr
                continue
            assert r.returncode == 0, r.stderr
            for f in os.listdir(src):
                with open(os.path.join(src, f), "rb") as a, \
                        open(os.path.join(dst, sd.ALES_DIR, f), "rb") as b:
                    assert a.read() == b.read(), f
        mm.unmount()
    finally:
        subprocess.run(["chmod", "-R", "u+w", top], capture_output=True)
        shutil.rmtree(top, ignore_errors=True)
