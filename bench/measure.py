"""What the linkupfs benchmark (bench/run.py) measures with, and its table.

Probe times one action and takes the mock's counters around it: requests,
credits and connections are the mock's counters. Peak RSS is VmHWM of the
linkupfs process, CPU its utime + stime, both from /proc (without a
process: the CPU of this script's finished children). FuseTrace counts the
FUSE requests the kernel sends one mount, by kind, with the time each took
to be answered. Table collects the
rows and renders them as Markdown; say() writes progress to stderr.
"""

import collections
import hashlib
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024

T0 = time.monotonic()


def say(msg):
    sys.stderr.write("[bench %6.1fs] %s\n" % (time.monotonic() - T0, msg))
    sys.stderr.flush()


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ------------------------------------------------------------------ probes

def proc_rss_mib(pid):
    """Peak resident set (VmHWM) of pid in MiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return None


def proc_rss_parts(pid):
    """Current RssAnon, RssFile (shared libraries), ... of pid in MiB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Rss"):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0]) / 1024.0
    return out


def proc_cpu_s(pid):
    """utime + stime of pid in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def proc_ctxsw(pid):
    """Context switches of every thread of pid (voluntary and not): each
    request that wakes a thread of linkupfs costs one or two."""
    n = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                n += sum(int(line.split()[1]) for line in f
                         if "ctxt_switches:" in line)
        except OSError:
            pass            # a thread that ended meanwhile
    return n


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def drop_page_cache(paths=()):
    """Drop the kernel's page cache (clean pages only: dentries, inodes and
    linkupfs' own cache stay). Without the right to, evict the files under
    paths one by one."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
        return
    except OSError:
        pass
    for top in paths:
        for d, _, files in os.walk(top):
            for name in files:
                try:
                    fd = os.open(os.path.join(d, name), os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)


def read_all(path, chunk=1 << 17):
    n = 0
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            b = os.read(fd, chunk)
            if not b:
                return n, h.hexdigest()
            n += len(b)
            h.update(b)
    finally:
        os.close(fd)


class Probe:
    """What one timed action cost: wall time, the mock's counters, and the
    linkupfs process's CPU and peak RSS (pid None: no process)."""

    def __init__(self, mock, pid=None):
        self.mock, self.pid = mock, pid

    def __enter__(self):
        self.s0 = self.mock.stats()
        self.cpu0 = proc_cpu_s(self.pid) if self.pid else children_cpu_s()
        self.ctxsw0 = proc_ctxsw(self.pid) if self.pid else 0
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.wall = time.monotonic() - self.t0
        s1 = self.mock.stats()
        self.requests = s1["requests"] - self.s0["requests"]
        self.credits = s1["credits"] - self.s0["credits"]
        self.connections = s1["connections"] - self.s0["connections"]
        if self.pid:
            self.cpu = proc_cpu_s(self.pid) - self.cpu0
            self.ctxsw = proc_ctxsw(self.pid) - self.ctxsw0
            self.rss = proc_rss_mib(self.pid)
        else:
            self.cpu = children_cpu_s() - self.cpu0
            self.ctxsw = None
            self.rss = None
        return False


class FuseTrace:
    """The FUSE requests the kernel sends the mount at path while the block
    runs, from its tracepoints fuse:fuse_request_send and _end (`perf
    record -a`, root; recent kernels only, 6.18 here): .counts {kind: n} and .rtt
    {kind: [microseconds from the request's sending to its answer]}, the
    daemon's time per request including its wake-up. .error says why there
    is none (no perf, no tracepoints, no right to trace)."""

    EVENT = re.compile(r"\s*([\d.]+):\s+fuse:fuse_request_(send|end): "
                       r"connection \d+ req (\d+)(?: opcode \d+ \(FUSE_(\w+)\))?")

    def __init__(self, path):
        st = os.stat(path).st_dev
        self.conn = (os.major(st) << 20) | os.minor(st)    # the kernel's dev_t
        self.counts, self.rtt, self.error = collections.Counter(), {}, None

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="linkupfs-trace-")
        self.data = os.path.join(self.dir, "perf.data")
        filt = "connection == %d" % self.conn
        self.perf = None
        if not shutil.which("perf"):
            self.error = "no perf"
            return self
        self.perf = subprocess.Popen(
            ["perf", "record", "-a", "-q", "-o", self.data,
             "-e", "fuse:fuse_request_send", "--filter", filt,
             "-e", "fuse:fuse_request_end", "--filter", filt],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.data) and self.perf.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)     # perf arms the events after it creates the file
        return self

    def __exit__(self, *exc):
        try:
            if self.perf:
                self.perf.send_signal(signal.SIGINT)
                err = self.perf.communicate(timeout=60)[1]
                # it writes its data, then dies of the signal it was sent
                if self.perf.returncode not in (0, -signal.SIGINT) \
                        or not os.path.exists(self.data):
                    self.error = "perf record: " + err.decode(errors="replace")[-200:]
                else:
                    self.parse()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def parse(self):
        text = subprocess.run(["perf", "script", "--ns", "-i", self.data, "-F",
                               "time,event,trace"], capture_output=True,
                              text=True).stdout
        sent = {}
        for line in text.splitlines():
            m = self.EVENT.match(line)
            if not m:
                continue
            t, ev, unique = float(m.group(1)), m.group(2), m.group(3)
            if ev == "send":
                sent[unique] = (t, m.group(4))
            elif unique in sent:
                t0, kind = sent.pop(unique)
                self.counts[kind] += 1
                self.rtt.setdefault(kind, []).append((t - t0) * 1e6)

    def summary(self):
        """"OPEN 2805 (12 us), ...": count and median time of each kind."""
        if self.error:
            return "n/a: " + self.error
        return ", ".join("%s %d (%.0f us)" % (k, n, statistics.median(self.rtt[k]))
                         for k, n in self.counts.most_common())


def merge(probes):
    """Medians of a list of probes as a dict."""
    return {k: median([getattr(p, k) for p in probes])
            for k in ("wall", "requests", "credits", "connections", "cpu", "rss")}


# ------------------------------------------------------------------ table

class Table:
    COLS = ("scenario", "wall s", "requests", "credits", "peak RSS MiB",
            "CPU s", "comparison", "ratio", "target", "met?")

    def __init__(self):
        self.rows = []
        self.notes = []

    def add(self, scenario, fig=None, comparison="—", ratio=None,
            target="—", met=None):
        fig = fig or {}

        def num(k, fmt):
            v = fig.get(k)
            if v is None:
                return "—"
            return fmt % v if not isinstance(v, str) else v
        row = (scenario, num("wall", "%.3f"), num("requests", "%d"),
               num("credits", "%d"), num("rss", "%.1f"), num("cpu", "%.2f"),
               comparison, "—" if ratio is None else
               (ratio if isinstance(ratio, str) else "%.2f" % ratio),
               target, {True: "met", False: "**NOT MET**", None: "—",
                        "n/a": "n/a"}.get(met, str(met)))
        self.rows.append(row)
        say("row: " + " | ".join(row))

    def note(self, text):
        self.notes.append(text)
        say("note: " + text)

    def render(self):
        lines = ["| " + " | ".join(self.COLS) + " |",
                 "|" + "|".join("---" for _ in self.COLS) + "|"]
        for r in self.rows:
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
        if self.notes:
            lines.append("")
            lines += ["- " + n for n in self.notes]
        return "\n".join(lines)

