#!/usr/bin/python3
"""Two or more linkupfs binaries side by side on scenario 3 (warm `grep -r`):
one mock (the bench data set), one mount of each binary, each filled by a
cold grep; then, round after round, a warm grep of each mount and of a
tmpfs copy in turn, so that the machine's load falls on every one alike.

    /usr/bin/python3 bench/ab.py [--scale F] [--rounds N] NAME=BINARY[@OPTS] ...

OPTS: comma-separated mount options, or FUSE flags starting with "-" (say
before=/tmp/old/linkupfs now=./linkupfs single=./linkupfs@-s). Prints per
mode (page cache warm, then dropped) and binary: median wall and its ratio
to the tmpfs copy, and, per grep, linkupfs' CPU time and context switches
(all its threads) and grep's own CPU time and context switches.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from measure import drop_page_cache, median, proc_cpu_s, proc_ctxsw

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))
import conftest  # noqa: E402
from scenarios import BIG, GREP_PATTERN, PAGE_SIZE  # noqa: E402,F401


def grep(top):
    """One `grep -r` over top: (wall, its CPU, its context switches)."""
    t = time.monotonic()
    p = subprocess.Popen(["grep", "-r", GREP_PATTERN, top], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=dict(os.environ, LC_ALL="C"))
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise RuntimeError("grep -r %s failed" % top)
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_nvcsw + ru.ru_nivcsw


def mount(mock, tmp, name, spec):
    path, _, more = spec.partition("@")
    opts = [x for x in more.split(",") if x and not x.startswith("-")]
    flags = [x for x in more.split(",") if x.startswith("-")]
    conftest.LINKUPFS_BIN = os.path.abspath(path)
    m = conftest.Mount(mock, tmp, "page_size=%d" % PAGE_SIZE, "rate_limit=0",
                       "cache_size=1G", *opts, extra_args=flags, env={"TZ": "UTC"})
    os.listdir(m.path)
    grep(m.path)                # fills its cache
    return m


def rounds(targets, mounts, n, drop):
    got = {k: [] for k in targets}
    for k, top in targets.items():      # settle atimes, .stats, listings
        grep(top)
    for _ in range(n):
        for k, top in targets.items():
            m = mounts.get(k)
            if drop:
                drop_page_cache([top])
            cpu, cs = (proc_cpu_s(m.pid), proc_ctxsw(m.pid)) if m else (0, 0)
            wall, gcpu, gcs = grep(top)
            if m:
                cpu, cs = proc_cpu_s(m.pid) - cpu, proc_ctxsw(m.pid) - cs
            got[k].append((wall, cpu, cs, gcpu, gcs))
    return got


def report(got, n, drop):
    base = median([g[0] for g in got["tmpfs"]])
    print("page cache %s, n=%d, load %s" % ("dropped" if drop else "warm", n,
          " ".join(open("/proc/loadavg").read().split()[:3])))
    for k, rows in got.items():
        col = [median([r[i] for r in rows]) for i in range(5)]
        line = "  %-10s wall %.3f s (%.2fx tmpfs)" % (k, col[0], col[0] / base)
        if k != "tmpfs":
            line += ", linkupfs CPU %.3f s, %d context switches" % (col[1], col[2])
        print(line + "; grep CPU %.3f s, %d context switches" % (col[3], col[4]))
    sys.stdout.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=float, default=1)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("bins", nargs="+", metavar="NAME=BINARY[@OPTS]")
    a = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="linkupfs-ab-")
    shm = tempfile.mkdtemp(prefix="linkupfs-ab-", dir="/dev/shm")
    mock = conftest.Mock(latency_ms=0, dataset="bench", scale=a.scale, start_timeout=120)
    mounts = {}
    try:
        for spec in a.bins:
            name, _, path = spec.partition("=")
            mounts[name] = mount(mock, tmp, name, path)
        first = next(iter(mounts.values()))
        for name in os.listdir(first.path):
            if name != ".stats":
                shutil.copytree(os.path.join(first.path, name), os.path.join(shm, name))
        targets = {k: m.path for k, m in mounts.items()}
        targets["tmpfs"] = shm
        for drop in (False, True):
            report(rounds(targets, mounts, a.rounds, drop), a.rounds, drop)
    finally:
        for m in mounts.values():
            m.unmount()
        mock.stop()
        shutil.rmtree(shm, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
