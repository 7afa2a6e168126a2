"""A normal user mounts linkupfs, as people use FUSE tools (issue 18): a
user made for this run, with the config file in their home, the mount in
their home, the store in their ~/.cache, fusermount3 -u to unmount; the
mount private to them (root cannot read it); and a /dev/fuse they may not
open named in one line with its fix. Their programs run in a private mount
namespace whose /dev/fuse has the mode each test chooses (tests/lib/userns.py);
the mock API runs as root."""

import io
import os
import pwd
import shutil
import stat
import subprocess
import tarfile
import time

import pytest

import sample_data as sd
from conftest import is_mounted, run_linkupfs
from lib.fsread import read
from lib.userns import Namespace

# useradd and userdel exit with 10 while another run holds /etc/passwd's lock
PASSWD_BUSY = 10


def passwd_tool(*args):
    for _ in range(50):
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        if r.returncode != PASSWD_BUSY:
            return r
        time.sleep(0.1)
    return r


@pytest.fixture(scope="session")
def user():
    """A user of its own for this run (the pid makes the name unique among
    concurrent runs; one left by a killed run of the same pid is removed
    first), deleted with its home at the end, whatever happened."""
    name = "lfstest%d" % os.getpid()
    try:
        pwd.getpwnam(name)
        passwd_tool("userdel", "--remove", name)
    except KeyError:
        pass
    r = passwd_tool("useradd", "--create-home", "--user-group",
                    "--shell", "/bin/sh", name)
    if r.returncode != 0:
        pytest.fail("useradd %s: %s" % (name, r.stderr), pytrace=False)
    try:
        yield pwd.getpwnam(name)
    finally:
        r = passwd_tool("userdel", "--remove", name)
        assert r.returncode == 0, r.stderr
        with pytest.raises(KeyError):
            pwd.getpwnam(name)


@pytest.fixture
def home(user):
    """The user's home as a new user has it, with ~/linkedin (empty) and
    ~/run (the logs of this test) theirs."""
    h = user.pw_dir
    for name in os.listdir(h):
        if name in (".config", ".cache", "linkedin", "run", "backup"):
            shutil.rmtree(os.path.join(h, name))
    for name in ("linkedin", "run"):
        os.mkdir(os.path.join(h, name), 0o700)
        os.chown(os.path.join(h, name), user.pw_uid, user.pw_gid)
    return h


def namespace(tmp_path, user, mode):
    ns = Namespace(tmp_path / ("dev-%o" % mode), user.pw_name, mode)
    return ns


@pytest.fixture
def userns(tmp_path, user):
    """The user's programs, where /dev/fuse is 0666 as on Debian."""
    ns = namespace(tmp_path, user, 0o666)
    yield ns
    ns.close()


def user_env(user):
    """What the user's session has: their HOME and names, no XDG_ variable
    (the defaults under HOME apply), no credential in the environment."""
    return {"HOME": user.pw_dir, "USER": user.pw_name,
            "LOGNAME": user.pw_name, "XDG_CONFIG_HOME": None,
            "XDG_CACHE_HOME": None, "XDG_RUNTIME_DIR": None,
            "LINKUP_API_KEY": None, "LINKUP_LOGIN_TOKEN": None}


def write_config(user, mock, mode):
    """~/.config/linkupfs/config with the mock's credentials, theirs."""
    d = os.path.join(user.pw_dir, ".config", "linkupfs")
    os.makedirs(d, 0o700, exist_ok=True)
    for p in (os.path.dirname(d), d):
        os.chown(p, user.pw_uid, user.pw_gid)
    path = os.path.join(d, "config")
    with open(path, "w") as f:
        f.write("# linkupfs, as a user keeps it\napi_key = %s\n"
                "login_token = %s\napi_url = %s\n"
                % (mock.api_key, mock.login_token, mock.url))
    os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(path, mode)
    return path


def untar(data):
    """{path: bytes} and {path: TarInfo} of a tar stream."""
    files, infos = {}, {}
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t.getmembers():
            name = os.path.normpath(m.name)
            infos[name] = m
            if m.isfile():
                files[name] = t.extractfile(m).read()
    return files, infos


def tree(top):
    """{path: bytes} of every file under top but .stats."""
    out = {}
    for d, _, names in os.walk(top):
        for n in names:
            rel = os.path.normpath(os.path.relpath(os.path.join(d, n), top))
            if rel != ".stats":
                out[rel] = read(os.path.join(d, n))
    return out


def test_a_config_file_others_can_read_is_refused_and_nothing_is_asked(
        mock, user, home, userns):
    path = write_config(user, mock, 0o644)
    mnt = os.path.join(home, "linkedin")
    rc, out, err = run_linkupfs(["-f", mnt], env=user_env(user), ns=userns)
    assert rc != 0
    assert err.splitlines() == [
        "linkupfs: %s is accessible by group or others (mode 0644); it holds "
        "credentials: run chmod 600 %s" % (path, path)], err
    assert not is_mounted(mnt, userns) and mock.log() == []


def test_a_user_mounts_in_their_home_reads_everything_and_unmounts(
        mock, user, home, userns, mount_factory):
    write_config(user, mock, 0o600)     # the only place the credentials are
    mnt = os.path.join(home, "linkedin")
    m = mount_factory(mock, "page_size=100", "store", env=user_env(user),
                      mountpoint=mnt, tmp_path=os.path.join(home, "run"),
                      ns=userns)
    ref = mount_factory(mock, "page_size=100")      # root's, to compare with

    # every kind of file, read by the user with tar: the same bytes as
    # root's own mount shows, every one theirs and read-only
    r = userns.run(["tar", "-C", mnt, "--exclude=./.stats", "-cf", "-", "."])
    assert r.returncode == 0, r.stderr
    files, infos = untar(r.stdout)
    assert files == tree(ref.path)
    assert {"conversation.json", "transcript.txt", "messages.jsonl",
            "page-0001.txt", "page-0001.jsonl"} <= \
        {os.path.basename(p) for p in files} and len(files) > 100
    for p, info in infos.items():
        assert (info.uid, info.gid) == (user.pw_uid, user.pw_gid), p
        assert info.mode == (0o555 if info.isdir() else 0o444), p
    r = userns.run(["cat", os.path.join(mnt, ".stats")], text=True)
    assert r.returncode == 0 and "\nerrors: 0\n" in r.stdout, r.stderr
    r = userns.run(["grep", "-rl", sd.OWNER_NAME, mnt], text=True)
    assert os.path.join(mnt, sd.ALES_DIR, "transcript.txt") in r.stdout.split()

    # their backup (the README's command): read-only directories are no
    # obstacle to rsync, and a second run within the ttl sends nothing
    backup = os.path.join(home, "backup") + "/"
    for sent in (len(files), 0):
        r = userns.run(["rsync", "-a", "--itemize-changes", "--exclude=/.stats",
                        mnt + "/", backup], text=True)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert len([ln for ln in r.stdout.splitlines()
                    if ln.startswith(">f")]) == sent, r.stdout
    assert tree(backup) == files

    # private to them: root gets EACCES without allow_other
    for call in (os.listdir, os.stat):
        with pytest.raises(PermissionError):
            call(userns.outside(mnt))
    with pytest.raises(PermissionError):
        read(userns.outside(os.path.join(mnt, ".stats")))

    # the store: in their ~/.cache, theirs, private
    cache = os.path.join(home, ".cache")
    store = os.path.join(cache, "linkupfs")
    for p, mode in ((cache, 0o700), (store, 0o700)):
        st = os.stat(p)
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (user.pw_uid, mode), p
    names = os.listdir(store)
    assert "store.db" in names and os.path.getsize(
        os.path.join(store, "store.db")) > 0
    for n in names:
        st = os.stat(os.path.join(store, n))
        assert st.st_uid == user.pw_uid and st.st_mode & 0o077 == 0, n

    # fusermount3 -u as the user: unmounted, and linkupfs exits 0
    r = userns.run(["fusermount3", "-u", mnt], text=True)
    assert r.returncode == 0, r.stderr
    assert m.proc.wait(30) == 0
    assert not is_mounted(mnt, userns)


def test_a_dev_fuse_the_user_may_not_open_gets_one_line_with_the_fix(
        mock, user, home, tmp_path):
    ns = namespace(tmp_path, user, 0o600)
    try:
        write_config(user, mock, 0o600)
        mnt = os.path.join(home, "linkedin")
        rc, out, err = run_linkupfs(["-f", mnt], env=user_env(user), ns=ns)
    finally:
        ns.close()
    assert rc != 0 and out == ""
    assert err.splitlines() == [
        "linkupfs: cannot open /dev/fuse: Permission denied (mode 0600): "
        "mounting as a user needs read and write access to it; as root, "
        "run chmod 0666 /dev/fuse (Debian's default)"], err
    assert mock.log() == []     # found before any request
