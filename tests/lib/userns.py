"""Programs run as an unprivileged user, the way a person mounts: in a
private mount namespace whose /dev/fuse has the mode a test chooses.

The real /dev/fuse is left alone (other test runs use it at the same time,
and on some machines it is 0600, where no user could mount at all): a
holder process (unshare -m) mounts a small tmpfs, makes there a device node
with /dev/fuse's number and the chosen mode, and binds it over /dev/fuse
for the namespace only. Programs enter with nsenter and become the user
with setpriv (no PAM, no login shell). The namespace lives while the
holder waits on its stdin: close() or the test process's death ends it,
and with it any mount left inside."""

import os
import pwd
import select
import subprocess
import time

from lib import mountinfo

HOLDER = r"""set -e
mount -t tmpfs -o size=64k,mode=0755 linkupfs-test-dev "$1"
mknod -m "$2" "$1/fuse" c "$3" "$4"
mount --bind "$1/fuse" /dev/fuse
echo ready
read -r _ || true
"""


class Namespace:
    """A mount namespace with /dev/fuse at `mode`, its programs run as
    `user` (a name) unless asked otherwise.
      .command(args, as_user=True) -> the argv that runs args inside
      .run(args, as_user=True, **subprocess kwargs) -> CompletedProcess
      .mountinfo -> its mount table (for conftest.is_mounted)
      .outside(path) -> the path as root outside sees it inside
      .uid, .gid -> the user's
      .close()"""

    def __init__(self, workdir, user, mode=0o666, timeout=10):
        pw = pwd.getpwnam(user)
        self.user, self.uid, self.gid = user, pw.pw_uid, pw.pw_gid
        os.makedirs(workdir, exist_ok=True)
        dev = os.stat("/dev/fuse").st_rdev
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "--",
             "sh", "-c", HOLDER, "sh", str(workdir), "%o" % mode,
             str(os.major(dev)), str(os.minor(dev))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        self.pid = self.proc.pid
        self.closed = False
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n") and self.proc.poll() is None and \
                time.monotonic() < deadline:
            if select.select([self.proc.stdout], [], [], 0.1)[0]:
                line += os.read(self.proc.stdout.fileno(), 64)
        if line != b"ready\n":
            err = self.close()
            raise RuntimeError("no mount namespace with a private /dev/fuse "
                               "(unshare -m as root): %r %s" % (line, err))

    @property
    def mountinfo(self):
        """Its mount table; once closed, an empty one (nothing is mounted in
        a namespace that is gone)."""
        return "/dev/null" if self.closed else "/proc/%d/mountinfo" % self.pid

    def command(self, args, as_user=True):
        argv = ["nsenter", "--target", str(self.pid), "--mount", "--"]
        if as_user:
            argv += ["setpriv", "--reuid", str(self.uid), "--regid",
                     str(self.gid), "--init-groups", "--"]
        return argv + [str(a) for a in args]

    def run(self, args, as_user=True, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("timeout", 60)
        return subprocess.run(self.command(args, as_user), **kw)

    def outside(self, path):
        return "/proc/%d/root%s" % (self.pid, os.path.abspath(str(path)))

    def fuse_mounts(self):
        """The mount points of the FUSE mounts inside."""
        with open(self.mountinfo, encoding="utf-8",
                  errors="surrogateescape") as f:
            parts = [ln.split() for ln in f]
        return [mountinfo.unescape(p[4]) for p in parts
                if p[p.index("-") + 1].startswith("fuse")]

    def close(self):
        """Detach what is still mounted inside, end the holder; its
        stderr."""
        if self.proc.poll() is None:
            for mnt in self.fuse_mounts():
                self.run(["fusermount3", "-uz", mnt], as_user=False)
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.closed = True
        err = self.proc.stderr.read().decode("utf-8", "replace")
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if not f.closed:
                f.close()
        return err
