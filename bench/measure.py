"""What the linkupfs benchmark (bench/run.py) measures with, and its table.

Probe times one action and takes the mock's counters around it: requests,
credits and connections are the mock's counters. Peak RSS is VmHWM of the
linkupfs process, CPU its utime + stime, both from /proc (without a
process: the CPU of this script's finished children). Table collects the
rows and renders them as Markdown; say() writes progress to stderr.
"""

import hashlib
import os
import resource
import statistics
import sys
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
            self.rss = proc_rss_mib(self.pid)
        else:
            self.cpu = children_cpu_s() - self.cpu0
            self.rss = None
        return False


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

