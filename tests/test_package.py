"""The Debian package (issue 18), as Debian users install everything else:
`make deb` builds it (dpkg-buildpackage, debhelper, the hardening flags,
then lintian with no error and no warning), and this checks what it holds
and what it depends on, installs it with apt, runs what it installed, and
removes it with dpkg -r, which must leave nothing behind.

Run once by `make deb-check` (from `make check`), not under the
sanitizers: it tests the package, not the code. As root; it installs
system-wide, so runs on one machine take turns (a lock file), and it fails
rather than touch a linkupfs installed for real. LINKUPFS_DEB names a .deb
to test instead of building one."""

import fcntl
import gzip
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import TESTS_DIR

REPO = TESTS_DIR.parent
PKG = "linkupfs"
FILES = [
    "/usr/bin/linkupfs",
    "/usr/lib/systemd/user/linkupfs.service",
    "/usr/share/doc/linkupfs/README.md.gz",
    "/usr/share/doc/linkupfs/changelog.gz",
    "/usr/share/doc/linkupfs/copyright",
    "/usr/share/doc/linkupfs/examples/config.example",
    "/usr/share/doc/linkupfs/examples/fstab.example",
    "/usr/share/man/man1/linkupfs.1.gz",
]
# what ${shlibs:Depends} must name: the package of each library it links
LIBS = {"libc.so.6": "libc6", "libcjson.so.1": "libcjson1",
        "libcurl.so.4": "libcurl4", "libfuse3.so.3": "libfuse3-3",
        "libsqlite3.so.0": "libsqlite3-0", "libcrypto.so.3": "libssl3",
        "libxxhash.so.0": "libxxhash0", "libzstd.so.1": "libzstd1"}
LOCK = "/run/lock/linkupfs-package-test.lock"
DPKG_LOCK_WAIT = 300


def run(*args, **kw):
    kw.setdefault("timeout", 600)
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                       **kw)
    assert r.returncode == 0, "%s: %s%s" % (" ".join(map(str, args)),
                                           r.stdout[-4000:], r.stderr[-4000:])
    return r.stdout


def makefile_version():
    text = (REPO / "Makefile").read_text()
    return re.search(r"^VERSION := (\S+)$", text, re.M).group(1)


@pytest.fixture(scope="module")
def deb():
    """The .deb: LINKUPFS_DEB, or `make deb` now."""
    given = os.environ.get("LINKUPFS_DEB")
    if given:
        return Path(given)
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    run("make", "-s", "-C", REPO, "deb", env=env, timeout=1800)
    arch = run("dpkg", "--print-architecture").strip()
    return REPO / "build" / ("linkupfs_%s_%s.deb" % (makefile_version(), arch))


def field(deb, name):
    return run("dpkg-deb", "-f", deb, name).strip()


def test_the_package_holds_the_program_its_man_page_the_user_unit_and_examples(
        deb, tmp_path):
    listing = run("dpkg-deb", "-c", deb).splitlines()
    files = sorted(ln.split()[-1][1:] for ln in listing if not ln.startswith("d"))
    assert files == FILES
    run("dpkg-deb", "-x", deb, tmp_path)
    exe = tmp_path / "usr/bin/linkupfs"
    assert exe.stat().st_mode & 0o7777 == 0o755
    assert gzip.decompress((tmp_path / "usr/share/man/man1/linkupfs.1.gz")
                           .read_bytes()) == (REPO / "linkupfs.1").read_bytes()
    for inside, source in (("usr/lib/systemd/user/linkupfs.service",
                            "contrib/linkupfs.service"),
                           ("usr/share/doc/linkupfs/examples/config.example",
                            "contrib/config.example"),
                           ("usr/share/doc/linkupfs/examples/fstab.example",
                            "contrib/fstab.example")):
        assert (tmp_path / inside).read_bytes() == (REPO / source).read_bytes()
    # built hardened (dpkg-buildflags, hardening=+all): PIE, full RELRO,
    # the stack protector and _FORTIFY_SOURCE's checked functions
    dyn = run("readelf", "-d", "-l", "--dyn-syms", "-W", exe)
    assert "Flags: NOW PIE" in dyn and "GNU_RELRO" in dyn
    assert "__stack_chk_fail@" in dyn and "__snprintf_chk@" in dyn


def test_depends_names_the_libraries_it_links_and_fuse3(deb, tmp_path):
    assert field(deb, "Package") == PKG
    assert field(deb, "Version") == makefile_version()
    assert field(deb, "Architecture") == run("dpkg", "--print-architecture").strip()
    depends = [d.strip() for d in field(deb, "Depends").split(",")]
    names = [d.split()[0] for d in depends]
    run("dpkg-deb", "-x", deb, tmp_path)
    needed = re.findall(r"\(NEEDED\).*\[(.+)\]",
                        run("readelf", "-d", tmp_path / "usr/bin/linkupfs"))
    assert sorted(needed) == sorted(LIBS)
    assert sorted(names) == sorted(list(LIBS.values()) + ["fuse3"])
    # each library with the version its symbols need, fuse3 for fusermount3
    assert all(re.match(r"^\S+ \(>= [\d.]+\)$", d) for d in depends
               if not d.startswith("fuse3")), depends
    assert not [n for n in names if n.endswith("-dev")]


@pytest.fixture
def turn():
    """One package test at a time on this machine (they install and
    remove the same package)."""
    with open(LOCK, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def installed():
    r = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Status}", PKG],
                       capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else "not-installed"


def dpkg_remove():
    """dpkg -r, waiting for dpkg's lock as apt-get does."""
    deadline = time.monotonic() + DPKG_LOCK_WAIT
    while True:
        r = subprocess.run(["dpkg", "-r", PKG], capture_output=True, text=True,
                           timeout=300)
        if r.returncode == 0 or "lock" not in r.stderr or \
                time.monotonic() > deadline:
            return r
        time.sleep(1)


def test_apt_installs_it_what_it_installed_runs_and_dpkg_r_leaves_nothing(
        deb, turn):
    assert installed() == "not-installed", \
        "linkupfs is installed on this machine: remove it first (this test " \
        "installs and removes it)"
    # on a machine with nothing installed, apt would bring exactly what it
    # needs to run: the libraries and fuse3, no compiler, no -dev package
    empty = Path("/tmp/linkupfs-empty-status-%d" % os.getpid())
    empty.write_text("")
    try:
        sim = run("apt-get", "install", "-s", "-o",
                  "Dir::State::status=%s" % empty, deb)
    finally:
        empty.unlink()
    brought = set(re.findall(r"^Inst (\S+)", sim, re.M))
    assert {PKG, "fuse3"} | set(LIBS.values()) <= brought, sim
    assert not {p for p in brought if p.endswith("-dev") or p in
                ("gcc", "make", "pkg-config", "debhelper")}, sorted(brought)

    existed = {d for f in FILES for d in map(str, Path(f).parents)
               if os.path.isdir(d)}
    try:
        run("apt-get", "install", "-y", "-q", "-o",
            "DPkg::Lock::Timeout=%d" % DPKG_LOCK_WAIT, deb,
            env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        assert installed() == "installed"
        listed = run("dpkg", "-L", PKG).splitlines()
        assert set(FILES) <= set(listed)
        assert all(os.path.exists(f) for f in listed)
        out = run("/usr/bin/linkupfs", "--version")
        assert out.splitlines()[0] == "linkupfs %s" % makefile_version()
        # mount(8) and the user unit find it on the default PATH
        assert run("sh", "-c", "command -v linkupfs",
                   env={"PATH": "/usr/bin:/bin"}).strip() == "/usr/bin/linkupfs"
        assert run("man", "-w", "linkupfs").strip() == \
            "/usr/share/man/man1/linkupfs.1.gz"
    finally:
        r = dpkg_remove()
    assert r.returncode == 0, r.stderr
    assert installed() == "not-installed"
    left = [p for f in FILES for p in [f] + list(map(str, Path(f).parents))
            if os.path.lexists(p) and p not in existed]
    assert left == []
    r = subprocess.run(["man", "-w", "linkupfs"], capture_output=True)
    assert r.returncode != 0
