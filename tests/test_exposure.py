"""The mount is private to its user: other users cannot even list it, and
the kernel checks permissions (default_permissions), unless allow_other is
asked for."""

import os
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
