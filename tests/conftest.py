"""pytest fixtures and helpers for the linkupfs functional tests.

Run with /usr/bin/python3 -m pytest -q tests (Debian's python3-pytest,
standard library otherwise).  tests/ is on sys.path, so a test module may
`import sample_data as sd` and `from conftest import Mount, wait_for, ...`;
helpers that need no pytest (reading files, .stats, the mount table) are
in tests/lib (`from lib.fsread import read`), which bench/run.py uses too.

Constants
  LINKUPFS_BIN      env LINKUPFS_BIN, else <repo>/linkupfs
  MOCK_API          path of tests/mock_api.py
  VALGRIND          env LINKUPFS_VALGRIND set (make valgrind): Mount and
                    run_linkupfs run linkupfs under valgrind memcheck
                    (tests/valgrind.supp); mount_factory's teardown and
                    run_linkupfs fail the test on a memory error or a definite
                    or indirect leak; it runs the tests marked `valgrind`
                    (below), less those marked `timing` or `procfs`

The valgrind run (make valgrind): @pytest.mark.valgrind on a test puts it
in that run; @pytest.mark.valgrind(2) (or (1), (1, 2)) runs it there at
those API versions only. Memcheck finds what ASan+UBSan+LSan, which run
every test, do not (a branch on an uninitialised byte, uninitialised bytes
handed to the kernel or to a library, misuse inside libfuse, libcurl,
SQLite or cJSON), so it needs each C code path once, not each test: the
marked tests reach every line and branch of linkupfs that the whole mounted
suite reaches, in a third of its time (a v2 run of the same test adds only
v2's parser; most tests repeat paths others reach). A test that reaches a
path no marked test reaches gets the marker: `make valgrind-coverage`
(tests/valgrind_coverage.py) lists such lines and the tests that reach
them.

Mock API (tests/mock_api.py, one process per Mock; v1 and v2 at once)
  Mock(latency_ms=0, dataset="sample", scale=None, api_key=..., login_token=...,
       account_id=..., extra_args=(), start_timeout=30)
      .url ("http://127.0.0.1:PORT"), .port, .api_key, .login_token,
      .account_id (v2)
      .control(name, **json) -> decoded JSON answer of /_control/<name>
      .log() -> list of request dicts (seq, path, conversation, cursor,
               total_results, status, fault, auth_ok, credits, t_start, t_end,
               conn, version: 1 or 2; a v2 call's path is its action's,
               "conversation" or "inbox", or "login")
      .api_log(path=None) -> log entries of that path ("conversation"/"inbox")
      .stats() -> {"requests", "credits", "connections" (TCP connections that
                   carried an API request; control calls do not count),
                   "tcp_connections", "active", "max_active", ...}
      .fault(kind, count=1, path=None, match=None, **params)
      .clear_faults(), .reset(), .set(**kw) (latency_ms, inclusive_cursor,
       inbox_null_cursor), .add_message(conversation, text, sender=None,
       timestamp=None) -> the message dict, .add_conversation(**kw)
      .conversations() -> [{key, id, profile_url, name, count, last_time}]
      .post(path, body, api_key=..., timeout=10) -> (status, headers, bytes):
       a raw API call (for tests of the mock and ad hoc checks)
      .stop() -> exit code (SIGTERM, wait, SIGKILL after 5 s)
  fixture mock          function scope, latency 0, sample data
  fixture data          module scope: sample_data.build_sample(), read only
  fixture mock_factory  mock_factory(**Mock kwargs) -> Mock; all stopped at
                        teardown

API version (issue 12): a test module that sets API_VERSIONS = (1, 2) runs
each of its tests that mounts (through mount_factory or mnt) once per
version, ids [v1] and [v2]; @pytest.mark.api_versions(1) on a test keeps it
to the versions named (for what only one version has, e.g. v1's
has_next_page without a cursor).  Other modules run v1 only.
  fixture api_version   1, or the version of this parametrised run
  mount_factory(mock, ..., api_version=<the fixture's>)

Mounted filesystem (fails, never skips, if /dev/fuse, fusermount3 or the
binary is missing)
  Mount(mock, tmp_path, *opts, env=None, extra_args=(), mountpoint=None,
        timeout=MOUNT_TIMEOUT, api_version=1, ns=None)
      runs LINKUPFS_BIN -f -o api_url=<mock.url>,<opts...> <extra_args> MNT
      (api_version=2: the option api_version=2 first, LINKUP_ACCOUNT_ID of
      the mock in the environment and no LINKUP_LOGIN_TOKEN)
      MNT = tmp_path/"mnt" (then "mnt-2", ... for further mounts in the same
      tmp_path); environment = os.environ without LINKUP_*, plus
      XDG_CONFIG_HOME=tmp_path/"config" (empty dir),
      XDG_CACHE_HOME=tmp_path/"cache" ("cache-2", ...: a store of its own
      for each mount, the store being on by default; a test of what a
      remount finds passes env={"XDG_CACHE_HOME": ...} of an earlier mount,
      .cache_home), LINKUP_API_KEY and LINKUP_LOGIN_TOKEN of the mock, then
      `env` applied (value None removes the variable); stdout+stderr to
      tmp_path/"linkupfs.log" (-2, ...).
      ns (a tests/lib/userns.Namespace): linkupfs runs in that mount
      namespace as its user (tmp_path and the mount point must be theirs),
      and mounted()/unmount() look and act there.
      Waits until MNT appears in /proc/self/mountinfo (10 ms steps; this,
      unlike os.path.ismount, never calls into the filesystem) or the process
      exits (RuntimeError with the log).
      .path (str), .pid, .proc, .log_path, .log() -> str, .cache_home (str:
       the XDG_CACHE_HOME it ran with; its store is .cache_home/linkupfs)
      .unmount(timeout=10) -> exit code (fusermount3 -u, wait; kill -9 and
       fusermount3 -uz as last resort), .mounted() -> bool
      .sanitizer_report() -> the ASan/UBSan/TSan report in the log, or ""
      .allow_crash = True: a test that kills the process on purpose
  fixture mount_factory  mount_factory(mock, *opts, env=None, extra_args=(),
                         tmp_path=<the test's>, mountpoint=None) -> Mount; every mount is unmounted at
                         teardown even when the test failed, and the test
                         fails if the process died of a signal, had to be
                         killed (unless .allow_crash) or its log holds a
                         sanitizer report
  fixture mnt           mount of `mock` with page_size=100

Data: tests/sample_data.py (constants such as ALES_DIR, LONG_COUNT,
SAMPLE_INBOX_ORDER, SAMPLE_TABLE); fault kinds and control endpoints: the
docstring of tests/mock_api.py.

Helpers
  run_linkupfs(args, env=None, timeout=10, ns=None) -> (returncode, stdout,
      stderr)
      runs LINKUPFS_BIN with args (for start-up failure tests); env applied
      as for Mount on a scrubbed environment (and an empty XDG_CONFIG_HOME
      and XDG_CACHE_HOME unless given, removed after; XDG_CONFIG_HOME=None:
      none); afterwards unmounts any argument that is a mount point, and
      kills the process if it outlived the timeout. ns: as for Mount.
  wait_for(predicate, timeout=10, interval=0.01, fail=True) -> the first
      truthy value of predicate(); on timeout AssertionError (fail=True) or
      the last value (fail=False).
  is_mounted(path, ns=None) -> bool, via /proc/self/mountinfo (or ns's)

Signals: a run started with SIGINT ignored (a background job of a shell
without job control, as some CI runners start it) would pass that on to
every program a test starts, and a test's Ctrl-C (SIGINT) to a reader would
do nothing; so pytest then handles SIGINT itself, and what it starts gets the
default again (exec resets a handled signal, not an ignored one).
"""

import http.client
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
MOCK_API = str(TESTS_DIR / "mock_api.py")
LINKUPFS_BIN = os.environ.get("LINKUPFS_BIN") or str(TESTS_DIR.parent / "linkupfs")
MOUNT_TIMEOUT = float(os.environ.get("LINKUPFS_MOUNT_TIMEOUT", "10"))
# LINKUPFS_VALGRIND=1 (make valgrind): every linkupfs runs under valgrind
# memcheck, and a test fails if the log shows a memory error or a definite
# or indirect leak. Start-up and exit are ~20-50x slower, hence the larger
# time limits; tests marked `timing` (asserting durations) or `procfs`
# (looking at /proc/PID of linkupfs) are left out of that run.
VALGRIND = os.environ.get("LINKUPFS_VALGRIND", "") not in ("", "0")
VALGRIND_EXIT = 99
if VALGRIND:
    MOUNT_TIMEOUT = max(MOUNT_TIMEOUT, 60)

sys.path.insert(0, str(TESTS_DIR))
import mock_api  # noqa: E402
import sample_data as sd  # noqa: E402
from lib import mountinfo  # noqa: E402

DEFAULT_API_KEY = mock_api.DEFAULT_API_KEY
DEFAULT_LOGIN_TOKEN = mock_api.DEFAULT_LOGIN_TOKEN
DEFAULT_ACCOUNT_ID = mock_api.DEFAULT_ACCOUNT_ID
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "WARNING: ThreadSanitizer")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "timing: asserts how long something takes; left out of "
        "the valgrind run (make valgrind), where everything is 20-50x slower")
    config.addinivalue_line(
        "markers", "procfs: reads the linkupfs process's own /proc/PID "
        "(environ, memory); left out of the valgrind run, where that process "
        "is valgrind's and its environ a copy linkupfs cannot scrub")
    config.addinivalue_line(
        "markers", "api_versions(*versions): in a module with API_VERSIONS, "
        "run this test under these API versions only")
    config.addinivalue_line(
        "markers", "valgrind(*versions): run this test in the valgrind run "
        "(make valgrind), there at these API versions only if any are named")


def pytest_generate_tests(metafunc):
    """API_VERSIONS of a module: its mounting tests once per version."""
    versions = getattr(metafunc.module, "API_VERSIONS", None)
    if not versions or "api_version" not in metafunc.fixturenames:
        return
    mark = metafunc.definition.get_closest_marker("api_versions")
    if mark is not None:
        versions = [v for v in versions if v in mark.args]
    mark = metafunc.definition.get_closest_marker("valgrind")
    if VALGRIND and mark is not None and mark.args:
        versions = [v for v in versions if v in mark.args]
    metafunc.parametrize("api_version", list(versions), indirect=True,
                         ids=["v%d" % v for v in versions])


@pytest.fixture
def api_version(request):
    """The LinkupAPI version mounts speak: 1 unless parametrised."""
    return getattr(request, "param", 1)


def valgrind_prefix(log_base, user=False):
    """The valgrind command line that runs linkupfs, logging to
    log_base.valgrind-PID.log; [] unless LINKUPFS_VALGRIND is set. user:
    a user's linkupfs, whose libfuse forks to run fusermount3 (setuid: not
    traced), leaving a log that stops at the exec: forks are not logged."""
    if not VALGRIND:
        return []
    return ["valgrind", "--error-exitcode=%d" % VALGRIND_EXIT,
            "--child-silent-after-fork=%s" % ("yes" if user else "no"),
            "--leak-check=full", "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect", "--track-fds=no",
            "--num-callers=30", "--suppressions=%s" % (TESTS_DIR / "valgrind.supp"),
            "--log-file=%s.valgrind-%%p.log" % log_base]


def valgrind_problems(log_base, returncode, complete=True):
    """What the valgrind logs of log_base show: memory errors, definite or
    indirect leaks, the error exit code; a list of strings, empty if clean.
    complete=False (the process was killed): no summary is expected."""
    if not VALGRIND:
        return []
    problems = []
    if returncode == VALGRIND_EXIT:
        problems.append("exit code %d: valgrind found errors" % VALGRIND_EXIT)
    logs = sorted(Path(os.path.dirname(log_base)).glob(
        os.path.basename(log_base) + ".valgrind-*.log"))
    if not logs and complete:
        problems.append("no valgrind log %s.valgrind-*.log" % log_base)
    for log in logs:
        text = log.read_text("utf-8", "replace")
        bad = []
        for what in ("ERROR SUMMARY", "definitely lost", "indirectly lost"):
            m = re.search(r"== %s: ([0-9,]+)" % what, text)
            if m is None and what == "ERROR SUMMARY" and complete:
                bad.append("no ERROR SUMMARY (did it exit?)")
            elif m is not None and m.group(1) != "0":
                bad.append("%s: %s" % (what, m.group(1)))
        if bad:
            problems.append("%s: %s\n%s" % (log, ", ".join(bad), text[-12000:]))
    return problems


# Answers that are not what the API sends, as mock faults: test_errors.py
# breaks the first page with them, test_faults.py the middle of a chain.
BROKEN_ANSWERS = [
    pytest.param(kind, params, id=name) for kind, params, name in (
        ("not_json", {}, "not_json"),
        ("truncated", {}, "truncated"),
        ("html", {"status": 200}, "html200"),
        ("wrong_shape", {"variant": "no_data"}, "no_data"),
        ("wrong_shape", {"variant": "messages_not_array"}, "messages_not_array"),
        ("wrong_shape", {"variant": "null_data"}, "null_data"),
    )]


def wait_for(predicate, timeout=10, interval=0.01, fail=True):
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value:
        if time.monotonic() >= deadline:
            if fail:
                raise AssertionError("condition %r not met within %.1f s"
                                     % (getattr(predicate, "__name__", predicate), timeout))
            return value
        time.sleep(interval)
        value = predicate()
    return value


# ------------------------------------------------------------------ mock

class Mock:
    def __init__(self, latency_ms=0, dataset="sample", scale=None,
                 api_key=DEFAULT_API_KEY, login_token=DEFAULT_LOGIN_TOKEN,
                 account_id=DEFAULT_ACCOUNT_ID, extra_args=(), start_timeout=30):
        self.api_key = api_key
        self.login_token = login_token
        self.account_id = account_id
        args = [sys.executable, MOCK_API, "--port", "0",
                "--latency-ms", str(latency_ms), "--dataset", dataset,
                "--api-key", api_key, "--login-token", login_token,
                "--account-id", account_id]
        if scale is not None:
            args += ["--scale", str(scale)]
        args += list(extra_args)
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=self._stderr, stdin=subprocess.DEVNULL)
        self.port = self._read_port(start_timeout)
        self.url = "http://127.0.0.1:%d" % self.port

    def _read_port(self, timeout):
        deadline = time.monotonic() + timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("mock API did not start: %r\n%s"
                                   % (buf, self.stderr_text()))
            if select.select([fd], [], [], min(left, 0.1))[0]:
                chunk = os.read(fd, 256)
                if not chunk:
                    continue
                buf += chunk
        line = buf.split(b"\n", 1)[0].decode()
        word, port = line.split()
        assert word == "LISTENING", line
        return int(port)

    def stderr_text(self):
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def control(self, name, /, **body):
        # positional-only: add_conversation sends a "name" field
        data = json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_control/" + name, data=data,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def log(self):
        return self.control("log")

    def api_log(self, path=None):
        return [e for e in self.log() if path is None or e["path"] == path]

    def stats(self):
        return self.control("stats")

    def fault(self, kind, count=1, path=None, match=None, **params):
        return self.control("fault", kind=kind, count=count, path=path,
                            match=match, **params)

    def clear_faults(self):
        return self.control("clear_faults")

    def reset(self, data=False):
        return self.control("reset", data=data)

    def set(self, **kw):
        return self.control("set", **kw)

    def add_message(self, conversation, text, sender=None, timestamp=None):
        body = {"conversation": conversation, "text": text, "sender": sender}
        if timestamp is not None:
            body["timestamp"] = timestamp
        return self.control("add_message", **body)

    def add_conversation(self, **kw):
        return self.control("add_conversation", **kw)

    def conversations(self):
        return self.control("conversations")

    def post(self, path, body, api_key=None, timeout=10, raw=None):
        """One API request on a fresh connection: (status, headers, bytes).
        body is JSON-encoded unless raw bytes are given."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            hdr = {"Content-Type": "application/json",
                   "x-api-key": self.api_key if api_key is None else api_key}
            conn.request("POST", path, raw if raw is not None else json.dumps(body).encode(), hdr)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        return self.proc.returncode


@pytest.fixture
def mock_factory():
    started = []

    def make(**kw):
        m = Mock(**kw)
        started.append(m)
        return m
    yield make
    for m in started:
        m.stop()


@pytest.fixture
def mock(mock_factory):
    return mock_factory()


@pytest.fixture(scope="module")
def data():
    """The sample data set the mock serves by default, to compare what a
    mount shows with; the tests only read it."""
    return sd.build_sample()


# ------------------------------------------------------------------ mount

def is_mounted(path, ns=None):
    # realpath of the parent only: a stat of the mount point itself would
    # call into the filesystem, which may be hung in the test at hand
    path = os.path.abspath(str(path)).rstrip("/") or "/"
    path = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
    if ns is not None:
        return mountinfo.fields(path, ns.mountinfo) is not None
    return mountinfo.fields(path) is not None


def check_fuse_available():
    problems = []
    if not os.path.exists("/dev/fuse"):
        problems.append("/dev/fuse is missing (load the fuse module or run the "
                        "container with --device /dev/fuse --cap-add SYS_ADMIN)")
    if shutil.which("fusermount3") is None:
        problems.append("fusermount3 is not installed (apt-get install fuse3)")
    if not os.access(LINKUPFS_BIN, os.X_OK):
        problems.append("%s is not built (run make, or set LINKUPFS_BIN)" % LINKUPFS_BIN)
    if problems:
        pytest.fail("cannot run mounted tests: " + "; ".join(problems), pytrace=False)


def scrubbed_env(overrides=None, config_home=None):
    # No LINKUP_* of the caller's, and no proxy: the mock is on loopback.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LINKUP_") and not k.lower().endswith("_proxy")}
    if config_home is not None:
        env["XDG_CONFIG_HOME"] = str(config_home)
    for k, v in (overrides or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def _fusermount(path, lazy=False, ns=None):
    args = ["fusermount3", "-uz" if lazy else "-u", str(path)]
    if ns is not None:
        args = ns.command(args, as_user=False)
    return subprocess.run(args, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode


def _free_name(tmp_path, base, suffix=""):
    p = tmp_path / (base + suffix)
    n = 2
    while p.exists():
        p = tmp_path / ("%s-%d%s" % (base, n, suffix))
        n += 1
    return p


class Mount:
    def __init__(self, mock, tmp_path, *opts, env=None, extra_args=(),
                 mountpoint=None, timeout=MOUNT_TIMEOUT, api_version=1,
                 ns=None):
        check_fuse_available()
        self.ns = ns
        tmp_path = Path(tmp_path)
        self.mock = mock
        self.mountpoint = Path(mountpoint) if mountpoint else _free_name(tmp_path, "mnt")
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        self.path = str(self.mountpoint)
        config = tmp_path / "config"
        config.mkdir(exist_ok=True)
        base = {"LINKUP_API_KEY": mock.api_key, "LINKUP_LOGIN_TOKEN": mock.login_token}
        self.api_version = api_version
        if api_version == 2:
            base = {"LINKUP_API_KEY": mock.api_key, "LINKUP_ACCOUNT_ID": mock.account_id}
            opts = ("api_version=2",) + tuple(opts)
        cache = _free_name(tmp_path, "cache")
        cache.mkdir()
        base["XDG_CACHE_HOME"] = str(cache)
        base.update(env or {})
        self.env = scrubbed_env(base, config)
        self.cache_home = self.env.get("XDG_CACHE_HOME")
        self.log_path = _free_name(tmp_path, "linkupfs", ".log")
        o = ",".join(["api_url=" + mock.url] + [str(x) for x in opts])
        self.args = (valgrind_prefix(self.log_path, ns is not None) +
                     [LINKUPFS_BIN, "-f", "-o", o] + list(extra_args) + [self.path])
        if ns is not None:
            self.args = ns.command(self.args)
        self._logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdout=self._logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env)
        self.pid = self.proc.pid
        self.killed = False         # True once unmount() had to SIGKILL it
        self.allow_crash = False    # a test that kills it on purpose sets this
        self.returncode = None
        self._wait_mounted(timeout)

    def _wait_mounted(self, timeout):
        deadline = time.monotonic() + timeout
        while not self.mounted():
            if self.proc.poll() is not None:
                self._logf.close()
                raise RuntimeError("linkupfs exited with %d before mounting %s:\n%s"
                                   % (self.proc.returncode, self.path, self.log()))
            if time.monotonic() > deadline:
                self.unmount()
                raise RuntimeError("linkupfs did not mount %s within %.0f s:\n%s"
                                   % (self.path, timeout, self.log()))
            time.sleep(0.01)

    def mounted(self):
        return is_mounted(self.path, self.ns)

    def log(self):
        try:
            return Path(self.log_path).read_text("utf-8", "replace")
        except OSError:
            return ""

    def sanitizer_report(self):
        text = self.log()
        for mark in SANITIZER_MARKS:
            i = text.find(mark)
            if i >= 0:
                return text[max(0, text.rfind("\n", 0, i - 200)):][:8000]
        return ""

    def unmount(self, timeout=10):
        """Unmount and wait for the process; its exit code (negative: signal)."""
        if VALGRIND:
            timeout = max(timeout, 60)  # the leak check at exit takes a while
        if self.proc.poll() is None or self.mounted():
            deadline = time.monotonic() + timeout
            while self.mounted() and _fusermount(self.path, ns=self.ns) != 0:
                if time.monotonic() > deadline - timeout / 2:
                    break
                time.sleep(0.1)
            try:
                self.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.killed = True
                self.proc.kill()
                self.proc.wait()
            if self.mounted():
                _fusermount(self.path, lazy=True, ns=self.ns)
        if not self._logf.closed:
            self._logf.close()
        self.returncode = self.proc.returncode
        return self.returncode


@pytest.fixture
def mount_factory(tmp_path, api_version):
    mounts = []

    def make(mock, *opts, env=None, extra_args=(), tmp_path=tmp_path, **kw):
        kw.setdefault("api_version", api_version)
        m = Mount(mock, tmp_path, *opts, env=env, extra_args=extra_args, **kw)
        mounts.append(m)
        return m
    yield make
    problems = []
    for m in mounts:
        try:
            problems += _teardown_problems(m)
        except Exception as e:  # the mounts after it are still unmounted
            problems.append("tearing down %s: %r" % (m.path, e))
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def _teardown_problems(m):
    """Unmount m; what its exit and its log show is wrong."""
    problems = []
    rc = m.unmount()
    if m.allow_crash:
        pass
    elif rc is not None and rc < 0 and not m.killed:
        problems.append("linkupfs (%s) died of signal %d:\n%s"
                        % (m.path, -rc, m.log()[-4000:]))
    elif m.killed:
        problems.append("linkupfs (%s) did not exit after unmount; killed:\n%s"
                        % (m.path, m.log()[-4000:]))
    report = m.sanitizer_report()
    if report:
        problems.append("sanitizer report from linkupfs (%s):\n%s" % (m.path, report))
    if not m.allow_crash:
        problems += valgrind_problems(m.log_path, rc, complete=not m.killed)
    return problems


@pytest.fixture
def mnt(mock, mount_factory):
    return mount_factory(mock, "page_size=100")


def _path_args(args):
    """Arguments that may be a mount point (not options, not "/")."""
    return [str(a) for a in args
            if str(a) and not str(a).startswith("-") and "=" not in str(a)
            and os.path.abspath(str(a)) != "/"]


def run_linkupfs(args, env=None, timeout=10, ns=None):
    """Run LINKUPFS_BIN args... (in ns, as its user, if given);
    (returncode, stdout, stderr) as text."""
    check_fuse_available()
    env = dict(env or {})
    tmpdir = None
    if "XDG_CONFIG_HOME" not in env or "XDG_CACHE_HOME" not in env:
        tmpdir = tempfile.TemporaryDirectory(prefix="linkupfs-cfg-")
        env.setdefault("XDG_CONFIG_HOME", tmpdir.name)
        env.setdefault("XDG_CACHE_HOME", os.path.join(tmpdir.name, "cache"))
    vg_dir = tempfile.TemporaryDirectory(prefix="linkupfs-vg-") if VALGRIND else None
    vg_base = os.path.join(vg_dir.name, "run") if vg_dir else None
    if VALGRIND:
        timeout *= 6
        if ns is not None:  # valgrind writes its log as the user
            os.chown(vg_dir.name, ns.uid, ns.gid)
    argv = (valgrind_prefix(vg_base, ns is not None) + [LINKUPFS_BIN] +
            [str(a) for a in args])
    proc = subprocess.Popen(argv if ns is None else ns.command(argv),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=scrubbed_env(env))
    killed = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        for a in _path_args(args):
            if is_mounted(a, ns):
                _fusermount(a, ns=ns)
        try:
            out, err = proc.communicate(timeout=3)
        except subprocess.TimeoutExpired:
            killed = True
            proc.kill()
            out, err = proc.communicate()
    finally:
        for a in _path_args(args):
            if is_mounted(a, ns):
                if _fusermount(a, ns=ns) != 0:
                    _fusermount(a, lazy=True, ns=ns)
        if tmpdir:
            tmpdir.cleanup()
    if vg_dir:
        problems = valgrind_problems(vg_base, proc.returncode, complete=not killed)
        vg_dir.cleanup()
        if problems:
            pytest.fail("valgrind, linkupfs %s:\n%s" % (" ".join(map(str, args)),
                                                       "\n".join(problems)), pytrace=False)
    return (proc.returncode, out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"))
