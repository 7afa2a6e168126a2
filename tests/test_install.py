"""linkupfs installed like any other tool: make install / uninstall, the man
page (rendered by man(1) without warnings, the same options as --help), and
mounting the way /etc/fstab does (mount(8) -> mount.fuse3 -> linkupfs)."""

import os
import re
import shutil
import sqlite3
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import sample_data as sd
from lib import mountinfo
from lib.userns import Namespace
from conftest import (LINKUPFS_BIN, TESTS_DIR, check_fuse_available,
                      is_mounted, scrubbed_env, wait_for)

REPO = TESTS_DIR.parent
MAN_SOURCE = REPO / "linkupfs.1"
BIN = os.path.abspath(LINKUPFS_BIN)
PREFIX = "/usr"
OWN_FLAGS = ("-f", "-d", "-s", "-h", "--help", "-V", "--version")


def make(*args):
    """make -C <repo> ARGS, installing the binary under test: BIN= names it
    and -o keeps make from rebuilding it (others may be editing the tree).
    Without the caller's MAKEFLAGS, so `make test SANITIZE=1` above us does
    not change what this make does."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = subprocess.run(["make", "-s", "-C", str(REPO), "-o", BIN, "BIN=" + BIN]
                       + list(args), capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, "make %s failed:\n%s%s" % (" ".join(args),
                                                        r.stdout, r.stderr)
    return r


@pytest.fixture
def destdir(tmp_path):
    if not os.access(BIN, os.X_OK):
        pytest.fail("%s is not built (run make, or set LINKUPFS_BIN)" % BIN,
                    pytrace=False)
    d = tmp_path / "stage"
    make("install", "DESTDIR=" + str(d), "PREFIX=" + PREFIX)
    return d


def installed(destdir):
    return (destdir / "usr/bin/linkupfs",
            destdir / "usr/share/man/man1/linkupfs.1")


def render_man(path):
    """(text, stderr) of man -l with groff warnings on; U+2010 line-end
    hyphenation undone so words can be searched."""
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MANPAGER="cat",
               PAGER="cat")
    env.pop("MAN_KEEP_FORMATTING", None)
    r = subprocess.run(["man", "--warnings=w", "-l", str(path)],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    return re.sub("\u2010\n *", "", r.stdout), r.stderr


def section(text, title):
    """The lines of one top-level section of rendered man text."""
    lines = text.splitlines()
    start = lines.index(title) + 1
    end = next((i for i in range(start, len(lines))
                if lines[i] and not lines[i][0].isspace()), len(lines))
    return lines[start:end]


def subsection(lines, title):
    heads = [i for i, ln in enumerate(lines) if re.match(r"^ {3}\S", ln)]
    start = lines.index("   " + title)
    end = next((i for i in heads if i > start), len(lines))
    return lines[start + 1:end]


def help_text():
    r = subprocess.run([BIN, "--help"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout


def help_own_options():
    """{name: (ARG, default or None)} of the linkupfs part of --help; ARG
    as written after the name: "=N", "[=PATH]" (optional), None (a flag)."""
    lines = help_text().splitlines()
    start = lines.index("linkupfs options:") + 1
    opts = {}
    for ln in lines[start:]:
        if not ln.strip():
            break
        m = re.match(r"^\s+-o (\w+)(\[=\S+\]|=\S+)?\s+(.*?)(?: \[(.*)\])?$", ln)
        assert m, "unexpected --help line: %r" % ln
        opts[m.group(1)] = (m.group(2), m.group(4))
    return opts


def help_fuse_defaults():
    """{name: default} of the FUSE part of --help, for each -o option that
    gives one, as "[64]" at the end of its text or libfuse's own
    "(default: 10)"."""
    text = help_text()
    part = text[text.index("FUSE options:"):]
    entries = re.split(r"\n(?=\s+-)", part)
    found = {}
    for e in entries:
        m = re.match(r"^\s+(?:-\w, )?-o (\w+)", e)
        d = re.search(r"\[([^\]]+)\]\s*$|\(default: ([^)]*)\)", e)
        if m and d:
            found[m.group(1)] = d.group(1) or d.group(2)
    return found


def man_tags(lines):
    """{name: (ARG, paragraph text)} of the '-o name=ARG' / '-o name'
    tags (at 7 spaces) in these rendered lines."""
    tags, cur = {}, None
    for ln in lines:
        m = re.match(r"^ {7}-o (\w+)(\[=\S+\]|=\S+)?\s*$", ln)
        if m:
            cur = m.group(1)
            tags[cur] = [m.group(2), ""]
        elif re.match(r"^ {7}\S", ln):
            cur = None
        elif cur:
            tags[cur][1] += " " + ln.strip()
    return {k: (a, " ".join(t.split())) for k, (a, t) in tags.items()}


# ------------------------------------------------------------------ install

@pytest.mark.valgrind
def test_make_install_puts_a_working_binary_and_the_man_page_under_destdir(
        destdir):
    exe, man = installed(destdir)
    assert stat.S_IMODE(exe.stat().st_mode) == 0o755
    assert stat.S_IMODE(man.stat().st_mode) == 0o644
    r = subprocess.run([str(exe), "--version"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r.stderr
    assert re.match(r"linkupfs \d+\.\d+\.\d+\n", r.stdout), r.stdout
    assert man.read_bytes() == MAN_SOURCE.read_bytes()
    # nothing else: a staged install is exactly these two files
    files = sorted(str(p.relative_to(destdir)) for p in destdir.rglob("*")
                   if not p.is_dir())
    assert files == ["usr/bin/linkupfs", "usr/share/man/man1/linkupfs.1"]


def test_make_uninstall_removes_both_files(destdir):
    make("uninstall", "DESTDIR=" + str(destdir), "PREFIX=" + PREFIX)
    for p in installed(destdir):
        assert not p.exists(), p
    make("uninstall", "DESTDIR=" + str(destdir), "PREFIX=" + PREFIX)  # again: fine


def test_the_debian_changelog_is_at_the_makefile_s_version():
    # make deb refuses a mismatch; make test says so before anyone packages
    version = re.search(r"^VERSION := (\S+)$", (REPO / "Makefile").read_text(),
                        re.M).group(1)
    r = subprocess.run(["dpkg-parsechangelog", "-l",
                        str(REPO / "debian/changelog"), "-S", "Version"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == version
    r = subprocess.run([BIN, "--version"], capture_output=True, text=True,
                       timeout=10)
    assert r.stdout.splitlines()[0] == "linkupfs " + version


# ------------------------------------------------------------------ man page

def test_installed_man_page_renders_without_warnings(destdir):
    man = installed(destdir)[1]
    text, err = render_man(man)
    assert err == "", err
    for title in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "FILES",
                  "ENVIRONMENT", "LAYOUT", "TEXT FORMAT", "EXIT STATUS",
                  "EXAMPLES", "SEE ALSO"):
        assert title in text.splitlines(), title
    # every warning groff has, on the devices man(1) uses
    for dev in ("ascii", "utf8"):
        r = subprocess.run(["groff", "-ww", "-z", "-man", "-T" + dev, str(man)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stderr == "", r.stderr
    if shutil.which("mandoc"):
        r = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", str(man)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout + r.stderr == "", r.stdout + r.stderr


@pytest.mark.valgrind
def test_man_page_names_every_option_variable_file_and_example():
    text, _ = render_man(MAN_SOURCE)
    for name, (arg, _) in help_own_options().items():
        assert "-o %s%s" % (name, arg or "") in text, name
    opts = section(text, "OPTIONS")
    tags = [ln.strip() for ln in opts if re.match(r"^ {7}-", ln)]
    for flag in OWN_FLAGS:
        assert any(re.match(r"^%s\b" % re.escape(flag), t) or
                   (", " + flag) in t for t in tags), flag
    env = "\n".join(section(text, "ENVIRONMENT"))
    for var in ("LINKUP_API_KEY", "LINKUP_LOGIN_TOKEN", "LINKUP_API_URL",
                "LINKUP_COUNTRY", "LINKUPFS_CONFIG", "TZ"):
        assert re.search(r"^ {7}(\S+, )?%s\b" % var, env, re.M), var
    files = " ".join(" ".join(section(text, "FILES")).split())
    assert "${XDG_CONFIG_HOME:-$HOME/.config}/linkupfs/config" in files
    assert "0600" in files and "key = value" in files
    examples = "\n".join(section(text, "EXAMPLES"))
    for want in ("linkupfs ~/linkedin", "grep -ri", "jq ", "linkupfs -o conversation=",
                 "cat ~/linkedin/.stats", "fusermount3 -u ~/linkedin",
                 "linkupfs /home/USER/linkedin fuse.linkupfs noauto,user 0 0"):
        assert want in examples, want
    see = " ".join(section(text, "SEE ALSO"))
    assert "fusermount3(1)" in see and "mount.fuse3(8)" in see


def test_help_and_man_page_list_the_same_options_and_defaults():
    want = help_own_options()
    opts = section(render_man(MAN_SOURCE)[0], "OPTIONS")
    got = man_tags(subsection(opts, "linkupfs options"))
    assert set(got) == set(want)
    for name, (arg, default) in want.items():
        assert got[name][0] == arg, (name, got[name][0], arg)
        if default is not None:
            assert re.search(r"Default: %s\.?( |$)" % re.escape(default),
                             got[name][1]), (name, got[name][1])
    # the FUSE options the man page singles out exist in this libfuse
    fuse = man_tags(subsection(opts, "FUSE options"))
    helped = set(re.findall(r"-o (?:\[no\])?(\w+)", help_text()))
    assert fuse and set(fuse) <= helped, set(fuse) - helped
    # and the defaults --help gives them are the man page's, and the code's
    defaults = help_fuse_defaults()
    assert "max_threads" in defaults and "max_threads" in fuse
    for name, default in defaults.items():
        if name in fuse:
            assert re.search(r"Default: %s\.?( |$)" % re.escape(default),
                             fuse[name][1]), (name, default, fuse[name][1])
    main_c = (REPO / "fs" / "main.c").read_text()
    code = re.search(r"#define LFS_MAX_THREADS (\d+)", main_c)
    assert code and defaults["max_threads"] == code.group(1), (
        defaults["max_threads"], code and code.group(1))


# ------------------------------------------------------------------ exit status

def start_status(args, env, tmp_path):
    """Exit status of a foreground start (as the systemd unit runs it)
    that fails before mounting; nothing may be left mounted."""
    r = subprocess.run([BIN, "-f"] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL,
                       env=scrubbed_env(env, config_home=tmp_path / "xdg"))
    assert r.returncode != 0, "it mounted: %s" % r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    return r.returncode


@pytest.fixture
def statuses(tmp_path, mock):
    """The exit statuses a start ends with, measured: the API refused the
    key (against the mock), a wrong configuration file, a wrong command
    line, a mount point that is not empty (as after a crash)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    creds = {"LINKUP_API_KEY": mock.api_key,
             "LINKUP_LOGIN_TOKEN": mock.login_token}
    cfg = tmp_path / "wrong.conf"
    cfg.write_text("ttl = 30\ncolour = blue\n")
    cfg.chmod(0o600)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "file").write_text("x\n")
    url = "api_url=" + mock.url
    return {
        "refused": start_status(["-o", url, mnt], dict(creds, LINKUP_API_KEY="no"),
                                tmp_path),
        "config": start_status(["-o", "%s,config=%s" % (url, cfg), mnt], creds,
                               tmp_path),
        "usage": start_status(["-o", url, mnt, busy], creds, tmp_path),
        "busy": start_status(["-o", url, busy], creds, tmp_path),
    }


def test_man_page_exit_status_names_the_statuses_linkupfs_exits_with(
        statuses):
    text = render_man(MAN_SOURCE)[0]
    tags, cur = {}, None
    for ln in section(text, "EXIT STATUS"):
        m = re.match(r"^ {7}(\d+)\s+(.*)$", ln)
        if m:
            cur = int(m.group(1))
            tags[cur] = m.group(2)
        elif re.match(r"^ {7}\S", ln):
            cur = None
        elif cur is not None:
            tags[cur] += " " + ln.strip()
    want = {"refused": "refused the credentials", "config": "setting",
            "usage": "command line", "busy": "not empty"}
    for case, words in want.items():
        assert statuses[case] in tags, (case, statuses[case], sorted(tags))
        assert words in tags[statuses[case]], (case, tags[statuses[case]])
    assert len({statuses[c] for c in ("refused", "config", "usage", "busy")}) == 4
    # what the Credentials part says happens to a refused key is what does
    opts = section(text, "OPTIONS")
    cred = " ".join(" ".join(subsection(opts, "Credentials")).split())
    assert "exit status %d" % statuses["refused"] in cred, cred
    assert "fails the mount" in cred and "mounts nothing" in cred, cred


def test_systemd_unit_restarts_after_a_failure_but_not_on_refused_or_wrong_settings(
        statuses, tmp_path):
    unit = (REPO / "contrib" / "linkupfs.service").read_text()
    service = unit[unit.index("[Service]"):unit.index("[Install]")]
    keys = {}
    for ln in service.splitlines():
        if ln and not ln.startswith(("#", "[")):
            k, v = ln.split("=", 1)
            keys.setdefault(k, []).append(v)
    assert keys["Restart"] == ["on-failure"]
    assert keys["ExecStart"][0].split()[:2] == ["linkupfs", "-f"]
    prevent = {int(w) for v in keys["RestartPreventExitStatus"] for w in v.split()}
    # exactly the starts that can only fail again until the user acts
    assert prevent == {statuses["refused"], statuses["config"],
                       statuses["usage"]}, (prevent, statuses)
    assert statuses["busy"] not in prevent   # e.g. a dead mount after a crash
    # systemd itself reads it so (when it is installed: it runs nothing)
    analyze = shutil.which("systemd-analyze")
    if analyze:
        copy = tmp_path / "linkupfs.service"
        copy.write_text(re.sub(r"^(Exec\w+=-?)(linkupfs|fusermount3) ",
                               lambda m: "%s%s " % (m.group(1), BIN if m.group(2) ==
                                                     "linkupfs" else
                                                     shutil.which("fusermount3")),
                               unit, flags=re.M))
        r = subprocess.run([analyze, "verify", "--man=no", str(copy)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stderr == "", r.stderr


# ------------------------------------------------------------------ fstab

EXAMPLE_CONFIG = REPO / "contrib" / "config.example"


def test_the_example_config_names_real_options_with_their_defaults():
    text = EXAMPLE_CONFIG.read_text()
    known = help_own_options()
    keys = re.findall(r"^#?(\w+) = (.*)$", text, re.M)
    assert {"api_key", "login_token"} <= {k for k, _ in keys}
    for k, _ in keys:
        assert k in known or k in ("api_key", "login_token", "account_id"), k
    block = text.split("# The defaults, to change:\n", 1)[1].split("\n\n")[0]
    for k, v in re.findall(r"^#(\w+) = (.*)$", block, re.M):
        assert known[k][1] == v, (k, v, known[k])


def test_the_example_config_mounts_once_its_credentials_are_filled_in(
        mock, mount_factory, tmp_path):
    cfg = tmp_path / "linkupfs.conf"
    cfg.write_text(EXAMPLE_CONFIG.read_text()
                   .replace("YOUR-LINKUPAPI-KEY", mock.api_key)
                   .replace("YOUR-LINKEDIN-LOGIN-TOKEN", mock.login_token))
    cfg.chmod(0o600)
    m = mount_factory(mock, "config=%s" % cfg,
                      env={"LINKUP_API_KEY": None, "LINKUP_LOGIN_TOKEN": None})
    assert sd.ALES_DIR in os.listdir(m.path)


def daemons_of(mountpoint):
    """PIDs of live linkupfs processes serving this mount point."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            argv = (d / "cmdline").read_bytes().split(b"\0")
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if (state != "Z" and argv and os.path.basename(argv[0]) == b"linkupfs"
                and str(mountpoint).encode() in argv):
            pids.append(int(d.name))
    return pids


def mountinfo_entry(path):
    fields = mountinfo.fields(path)
    if fields is None:
        return None
    sep = fields.index("-")
    return fields[sep + 1], fields[sep + 2]


@pytest.fixture
def fstab_setup(tmp_path, mock):
    """A bin dir holding `linkupfs`, a private config file with the mock's
    credentials, an empty mount point; afterwards nothing mounted, no
    process left."""
    check_fuse_available()
    if os.geteuid() != 0:
        pytest.skip("mount(8) takes a mount from its command line only from "
                    "root (a user needs an /etc/fstab entry)")
    for tool in ("mount", "mount.fuse3"):
        if not shutil.which(tool, path=os.environ.get("PATH", "") +
                            ":/sbin:/usr/sbin"):
            pytest.fail("%s is missing (apt-get install mount fuse3)" % tool,
                        pytrace=False)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "linkupfs").symlink_to(BIN)
    cfg = tmp_path / "private.conf"
    # (the store in the test's own directory, not the user's ~/.cache)
    cfg.write_text("# what an fstab user keeps in ~/.config/linkupfs/config\n"
                   "api_key = %s\nlogin_token = %s\napi_url = %s\n"
                   "store = %s\n"
                   % (mock.api_key, mock.login_token, mock.url,
                      tmp_path / "store"))
    cfg.chmod(0o600)
    mnt = tmp_path / "linkedin"
    mnt.mkdir()
    seen = set()
    yield bindir, cfg, mnt, seen
    seen.update(daemons_of(mnt))
    if is_mounted(mnt):
        subprocess.run(["fusermount3", "-u", str(mnt)], capture_output=True)
        if is_mounted(mnt):
            subprocess.run(["fusermount3", "-uz", str(mnt)], capture_output=True)
    for pid in seen:  # only the processes this test started
        if not wait_for(lambda: pid not in daemons_of(mnt), timeout=5, fail=False):
            os.kill(pid, signal.SIGKILL)


def mount_like_fstab(args, path_dirs=(), env=None):
    env = scrubbed_env(env)
    env["PATH"] = ":".join([str(d) for d in path_dirs] +
                           [env.get("PATH", ""), "/usr/sbin", "/sbin"])
    return subprocess.run(args, capture_output=True, text=True, env=env,
                          timeout=30)


def check_mounted_then_unmount(mock, mnt, seen):
    assert is_mounted(mnt)
    assert mountinfo_entry(mnt) == ("fuse.linkupfs", "linkupfs")
    pids = daemons_of(mnt)
    seen.update(pids)
    assert len(pids) == 1, pids  # it went to the background, once
    names = sorted(os.listdir(mnt))
    assert len(names) == len(mock.conversations()) + 1
    assert ".stats" in names and set(sd.SAMPLE_KNOWN_DIRS) <= set(names)
    with open(os.path.join(mnt, sd.ALES_DIR, "transcript.txt"), "rb") as f:
        assert sd.OWNER_NAME.encode() in f.read()
    r = subprocess.run(["fusermount3", "-u", str(mnt)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: not daemons_of(mnt), timeout=10)
    assert not is_mounted(mnt)


def kept_in_store(cfg):
    """Blobs in the store the config file names (written by the process
    that went to the background: its writer thread is started after the
    fork)."""
    db = sqlite3.connect(str(cfg.parent / "store" / "store.db"))
    try:
        return db.execute("SELECT count(*) FROM blob").fetchone()[0]
    finally:
        db.close()


@pytest.mark.valgrind
def test_mount_8_with_the_fstab_options_mounts_in_the_background(
        mock, fstab_setup):
    bindir, cfg, mnt, seen = fstab_setup
    # mount(8) clears PATH before it runs the helper, so here the program is
    # named by the source's "PROGRAM#SOURCE" form; everything else is the
    # real chain: mount -> /sbin/mount.fuse3 -> sh -> linkupfs, with the
    # options an fstab line gives (noauto and user are mount(8)'s own).
    r = mount_like_fstab(["mount", "-t", "fuse", "%s/linkupfs#linkupfs" % bindir,
                          str(mnt), "-o", "noauto,user,config=%s" % cfg])
    assert r.returncode == 0, r.stderr
    check_mounted_then_unmount(mock, mnt, seen)
    assert kept_in_store(cfg) >= 2      # the inbox and alés' page


def test_mount_fuse3_runs_linkupfs_as_mount_8_does_for_fuse_dot_linkupfs(
        mock, fstab_setup):
    bindir, cfg, mnt, seen = fstab_setup
    # The call mount(8) makes for `linkupfs MNT fuse.linkupfs OPTS 0 0`
    # (rw is mount(8)'s); linkupfs is then found on PATH.
    r = mount_like_fstab(["mount.fuse3", "linkupfs", str(mnt), "-o",
                          "rw,noauto,user,config=%s" % cfg, "-t",
                          "fuse.linkupfs"], [bindir])
    assert r.returncode == 0, r.stderr
    check_mounted_then_unmount(mock, mnt, seen)
    assert kept_in_store(cfg) >= 2


@pytest.mark.valgrind
def test_mount_8_reports_a_config_file_others_can_read_and_mounts_nothing(
        mock, fstab_setup):
    bindir, cfg, mnt, seen = fstab_setup
    cfg.chmod(0o644)
    r = mount_like_fstab(["mount", "-t", "fuse", "%s/linkupfs#linkupfs" % bindir,
                          str(mnt), "-o", "noauto,user,config=%s" % cfg])
    seen.update(daemons_of(mnt))
    assert r.returncode != 0
    assert "linkupfs: %s is accessible by group or others" % cfg in r.stderr
    assert not is_mounted(mnt) and not daemons_of(mnt)


def documented_fstab_line():
    """The line of contrib/fstab.example, the same in README.md and the
    man page."""
    lines = [ln for ln in (REPO / "contrib" / "fstab.example").read_text()
             .splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(lines) == 1, lines
    assert "\n    %s\n" % lines[0] in (REPO / "README.md").read_text()
    assert lines[0] in "\n".join(section(render_man(MAN_SOURCE)[0], "EXAMPLES"))
    return lines[0].split()


def test_the_documented_fstab_line_mounts_reading_the_config_in_its_place(
        mock, fstab_setup, tmp_path):
    bindir, cfg, mnt, seen = fstab_setup
    source, _, fstype, options = documented_fstab_line()[:4]
    assert (source, fstype) == ("linkupfs", "fuse.linkupfs")
    # the file where linkupfs looks by default; XDG_CONFIG_HOME, unlike
    # HOME, goes through mount(8) (HOME: see the next test)
    xdg = tmp_path / "xdg"
    (xdg / "linkupfs").mkdir(parents=True)
    shutil.copy(cfg, xdg / "linkupfs" / "config")
    (xdg / "linkupfs" / "config").chmod(0o600)
    r = mount_like_fstab(["mount", "-t", "fuse", "%s/linkupfs#linkupfs" % bindir,
                          str(mnt), "-o", options],
                         env={"XDG_CONFIG_HOME": xdg})
    assert r.returncode == 0, r.stderr
    check_mounted_then_unmount(mock, mnt, seen)


@pytest.fixture
def a_user():
    """A user of our own (name, passwd entry, home directory under /tmp
    that only it can enter), removed afterwards with all it left."""
    if os.geteuid() != 0:
        pytest.skip("making a user needs root")
    import pwd
    home = tempfile.mkdtemp(prefix="linkupfs-home-")
    name = "lfs-%d-%s" % (os.getpid(), os.path.basename(home)[-6:].lower())
    r = subprocess.run(["useradd", "-M", "-N", "-d", home, "-s",
                        "/usr/sbin/nologin", name], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        shutil.rmtree(home)
        pytest.fail("useradd %s: %s" % (name, r.stderr), pytrace=False)
    pw = pwd.getpwnam(name)
    os.chown(home, pw.pw_uid, pw.pw_gid)
    try:
        yield name, pw, Path(home)
    finally:
        for line in open("/proc/self/mountinfo").read().splitlines():
            if home in line:
                subprocess.run(["fusermount3", "-uz", line.split()[4]],
                               capture_output=True)
        for d in Path("/proc").iterdir():   # what it still runs
            try:
                if d.name.isdigit() and d.stat().st_uid == pw.pw_uid:
                    os.kill(int(d.name), signal.SIGKILL)
            except OSError:
                pass
        subprocess.run(["userdel", name], capture_output=True, timeout=30)
        shutil.rmtree(home, ignore_errors=True)


def test_fstab_mount_by_a_user_finds_their_config_file_without_config_option(
        mock, a_user):
    name, pw, home = a_user
    check_fuse_available()
    (home / "bin").mkdir()
    shutil.copy(BIN, home / "bin" / "linkupfs")
    (home / "linkedin").mkdir()
    cfg = home / ".config" / "linkupfs" / "config"
    cfg.parent.mkdir(parents=True)
    cfg.write_text("api_key = %s\nlogin_token = %s\napi_url = %s\n"
                   % (mock.api_key, mock.login_token, mock.url))
    cfg.chmod(0o600)
    for p in [home / "bin", home / "bin" / "linkupfs", home / "linkedin",
              home / ".config", cfg.parent, cfg]:
        os.chown(p, pw.pw_uid, pw.pw_gid)

    # what mount(8) does for a "user" fstab line: mount.fuse3 as the user,
    # without HOME (mount.fuse3 then sets /root) nor XDG_CONFIG_HOME, and
    # no credentials in the environment; in a namespace whose /dev/fuse
    # the user may open (Debian's 0666), whatever this machine's is
    env = {k: v for k, v in scrubbed_env().items()
           if k not in ("HOME", "XDG_CONFIG_HOME")}
    env["PATH"] = "%s:/usr/sbin:/usr/bin:/sbin:/bin" % (home / "bin")
    mnt = home / "linkedin"
    ns = Namespace(home.parent / (name + "-ns"), name)
    try:
        r = ns.run(["mount.fuse3", "linkupfs", str(mnt), "-o",
                    "rw,noexec,nosuid,nodev", "-t", "fuse.linkupfs"],
                   text=True, env=env, timeout=30)
        assert r.returncode == 0, r.stderr
        # the first request carried the credentials of the user's own file
        first = mock.log()[0]
        assert first["auth_ok"] and first["path"] == "inbox", first
        assert is_mounted(mnt, ns)
        r = ns.run(["ls", "-a", str(mnt)], text=True, env=env)
        assert ".stats" in r.stdout.split(), r.stderr
        r = ns.run(["fusermount3", "-u", str(mnt)], text=True, env=env)
        assert r.returncode == 0 and not is_mounted(mnt, ns), r.stderr
    finally:
        if is_mounted(mnt, ns):
            ns.run(["fusermount3", "-uz", str(mnt)], env=env)
        ns.close()
