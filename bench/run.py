#!/usr/bin/python3
"""The linkupfs benchmark suite (issue 5): one table, every figure measured
in the same run, medians over repeated runs.

    /usr/bin/python3 bench/run.py [--scale F] [--repeat N] [--latency MS]
        [--slow-latency MS] [--slow-repeat N] [--only 1,3,...]
        [--bin ./linkupfs] [--driver build/release/bench/parse_render]
        [--json FILE]

`make bench` builds ./linkupfs and the parse/render driver and runs this
(BENCH_SCALE, REPEAT, LATENCY, SLOW_LATENCY, SLOW_REPEAT pass through).

It starts tests/mock_api.py on the generated "bench" data set (by default 200
conversations, 100 000 messages, one of 20 000: "bench-big"), mounts the real
binary with tests/conftest.py's Mount (page_size=100, TZ=UTC), and runs:

  1  cold `cat transcript.txt` of bench-big at LATENCY and SLOW_LATENCY ms,
     against the limit (minimum requests x single-request latency measured
     now with a direct keep-alive POST) and against bench/export.sh
  2  parallel=K rows, K = 1, 2, 4, 8 (n/a while `--help` shows no parallel=)
  3  warm `grep -r` over the whole mount against the same files copied to a
     tmpfs directory (/dev/shm): kernel page cache dropped (linkupfs' cache
     still full), then kernel page cache warm; and the same grep over the
     exporter's output on disk
  4  16 readers of 16 cold conversations against one reader alone, and the
     mock's TCP connections against the 16 workers
  5  `ls -l MOUNT` + `stat` of every conversation directory: inbox requests
     against ceil(conversations / 100), conversation requests against 0
  6  cache_size=8M, transcripts read until 10 x cache_size: peak RSS against
     cache_size + 16 MiB; cache bytes per transcript byte held
  7  callgrind instructions per message, parse + render against cJSON_Parse
     alone on the same 100-message page
  8  start-up: time until the first stat of the root answers from the FUSE
     mount, and requests made before anything is read (one: the inbox's
     first page, which checks the credentials and serves the first `ls`)

Peak RSS is VmHWM of the linkupfs process, CPU its utime + stime, both from
/proc. Requests, credits and connections are the mock's counters. Progress
goes to stderr, the table (Markdown) to stdout.
"""

import argparse
import hashlib
import http.client
import json
import math
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(REPO, "tests")
EXPORTER = os.path.join(REPO, "bench", "export.sh")
PAGE_SIZE = 100
INBOX_PAGE = 100        # ROOT_INBOX_PAGE in fs/root.c
INBOX_LIMIT = 200       # linkupfs' default inbox_limit
BIG = "bench-big"
GREP_PATTERN = "message 000042"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024
UTC = {"TZ": "UTC"}

Mock = Mount = scrubbed_env = None     # from tests/conftest.py, in main()

sys.path.insert(0, TESTS)
from lib import statfile  # noqa: E402 - tests/lib, shared with the tests

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


# ------------------------------------------------------------------ bench

class Bench:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.table = Table()
        self.mounts = []
        self.raw = {}
        say("starting the mock (bench data set, scale %s)" % args.scale)
        self.mock = Mock(latency_ms=0, dataset="bench", scale=args.scale,
                         start_timeout=120)
        self.convs = self.mock.conversations()
        self.by_key = {c["key"]: c for c in self.convs}
        self.big = self.by_key[BIG]
        self.env = scrubbed_env({"LINKUP_API_KEY": self.mock.api_key,
                                 "LINKUP_LOGIN_TOKEN": self.mock.login_token,
                                 "LINKUP_API_URL": self.mock.url,
                                 "PAGE_SIZE": str(PAGE_SIZE), "TZ": "UTC"})
        help_text = subprocess.run([args.bin, "--help"], capture_output=True,
                                   text=True).stdout
        self.parallel = "parallel=" in help_text
        say("%d conversations, %d messages, %s: %d; parallel=K option: %s"
            % (len(self.convs), sum(c["count"] for c in self.convs), BIG,
               self.big["count"], "yes" if self.parallel else "no"))

    # -- helpers

    def latency(self, ms):
        self.mock.set(latency_ms=ms)

    def mount(self, *opts):
        m = Mount(self.mock, self.tmp, "page_size=%d" % PAGE_SIZE, *opts, env=UTC)
        self.mounts.append(m)
        return m

    def unmount(self, m):
        rc = m.unmount()
        self.mounts.remove(m)
        if rc not in (0, None):
            self.table.note("linkupfs at %s exited with %s" % (m.path, rc))

    def cleanup(self):
        for m in list(self.mounts):
            m.unmount()
        self.mounts = []
        self.mock.stop()

    @staticmethod
    def pages(count):
        """Requests of a cold walk: the chain ends on the page that says
        has_next_page false, so an empty conversation still costs one."""
        return max(1, math.ceil(count / PAGE_SIZE))

    def single_latency(self, ms, n=7):
        """Median time of one conversation request, keep-alive, as the
        client sees it (the mock's sleep plus its work on 100 messages)."""
        self.latency(ms)
        conn = http.client.HTTPConnection("127.0.0.1", self.mock.port, timeout=30)
        hdr = {"Content-Type": "application/json", "x-api-key": self.mock.api_key}
        body = {"conversation_id": self.big["id"], "total_results": PAGE_SIZE,
                "login_token": self.mock.login_token}
        times = []
        try:
            for i in range(n + 1):
                if i:
                    # a page from inside the chain, as most of a walk is
                    body["cursor"] = str(self.big["last_time"] - i * 7000 * 731)
                t = time.monotonic()
                conn.request("POST", "/v1/messages/conversation",
                             json.dumps(body).encode(), hdr)
                r = conn.getresponse()
                data = r.read()
                if i:
                    times.append(time.monotonic() - t)
                assert r.status == 200 and b'"success"' in data, data[:200]
        finally:
            conn.close()
        return statistics.median(times)

    def save_page(self, path):
        """A 100-message conversation answer, as the API sends it."""
        status, _, data = self.mock.post("/v1/messages/conversation", {
            "conversation_id": self.big["id"], "total_results": PAGE_SIZE,
            "login_token": self.mock.login_token})
        assert status == 200
        with open(path, "wb") as f:
            f.write(data)

    def run_exporter(self, out, ref=None):
        args = [EXPORTER, out] + ([ref] if ref else [])
        r = subprocess.run(args, env=self.env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError("export.sh failed (%d): %s" % (r.returncode, r.stderr[-2000:]))

    def grep(self, top):
        t = time.monotonic()
        r = subprocess.run(["grep", "-r", GREP_PATTERN, top],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=dict(os.environ, LC_ALL="C"))
        wall = time.monotonic() - t
        if r.returncode not in (0, 1):
            raise RuntimeError("grep -r %s: %s" % (top, r.stderr[-500:]))
        return wall, r.stdout.count(b"\n")

    def conv_files(self, m, key):
        """sha256 of every file of a conversation directory, by name."""
        d = os.path.join(m.path, key)
        return {n: read_all(os.path.join(d, n))[1] for n in sorted(os.listdir(d))
                if n.startswith("page-") or n == "transcript.txt"}

    # -- 1 and 2: the cold transcript

    def cold_transcript(self, ms, opts=(), keep_files=False):
        """One cold `cat transcript.txt` of bench-big; (Probe, size, files)."""
        # ttl=3600: at 300 ms the walk outlasts the default ttl of 60 s, and
        # the refresh checks that follow are not part of a cold read
        m = self.mount("ttl=3600", *opts)
        try:
            os.listdir(m.path)          # the inbox, not part of the figure
            path = os.path.join(m.path, BIG, "transcript.txt")
            self.latency(ms)
            with Probe(self.mock, m.pid) as p:
                out = subprocess.run(["cat", path], stdout=subprocess.PIPE,
                                     check=True).stdout
            p.size = len(out)
            p.lines = out.count(b"\n")
            p.cache_bytes = statfile.values(m.path)["cache_bytes"]
            p.files = self.conv_files(m, BIG) if keep_files else None
            return p
        finally:
            self.unmount(m)

    def export_big(self, ms):
        out = os.path.join(self.tmp, "export-big")
        self.latency(ms)
        with Probe(self.mock) as p:
            self.run_exporter(out, self.big["profile_url"])
        with open(os.path.join(out, BIG, "transcript.txt"), "rb") as f:
            p.lines = f.read().count(b"\n")
        shutil.rmtree(out)
        return p

    def scenario1(self, ms, repeat):
        need = self.pages(self.big["count"])
        one = self.single_latency(ms)
        limit = need * one
        fs = [self.cold_transcript(ms, keep_files=(i == 0 and ms == self.args.latency))
              for i in range(repeat)]
        ex = [self.export_big(ms) for _ in range(repeat)]
        f, e = merge(fs), merge(ex)
        self.raw["1@%d" % ms] = {"fs": f, "exporter": e, "single": one}
        if fs[0].lines != ex[0].lines:
            self.table.note("exporter transcript has %d lines, linkupfs %d"
                            % (ex[0].lines, fs[0].lines))
        ratio = f["wall"] / limit
        exact = all(p.requests == need for p in fs)
        self.table.add("1. cold `cat transcript.txt`, %d msgs, %d ms (n=%d)"
                       % (self.big["count"], ms, repeat), f,
                       "limit %d req x %.1f ms = %.2f s" % (need, one * 1000, limit),
                       ratio, "<= 1.10, req = %d" % need, ratio <= 1.10 and exact)
        self.table.add("1. exporter (curl + jq), same conversation, %d ms" % ms, e,
                       "linkupfs %.2f s" % f["wall"], f["wall"] / e["wall"],
                       "linkupfs/exporter < 1", f["wall"] < e["wall"])
        if ms == self.args.latency:
            self.seq = {"probe": fs[0], "fig": f, "limit": limit, "need": need}
            self.cache_per_byte = fs[0].cache_bytes / fs[0].size

    def scenario2(self):
        base = self.seq
        for k in (1, 2, 4, 8):
            label = "2. parallel=%d, cold transcript, %d ms" % (k, self.args.latency)
            if not self.parallel:
                if k == 1:
                    self.table.add(label + " (sequential: row 1)", base["fig"],
                                   "seq. limit %.2f s" % base["limit"],
                                   base["fig"]["wall"] / base["limit"],
                                   "reference", None)
                else:
                    self.table.add(label, {}, "n/a: no parallel= option", "n/a",
                                   "< 0.75 x seq. limit, same bytes", "n/a")
                continue
            ps = [self.cold_transcript(self.args.latency, ("parallel=%d" % k,),
                                       keep_files=(i == 0))
                  for i in range(self.args.repeat)]
            f = merge(ps)
            same = ps[0].files == base["probe"].files
            over = f["credits"] / base["fig"]["credits"] - 1
            self.raw["2@%d" % k] = dict(f, same=same, credit_overhead=over)
            ratio = f["wall"] / base["limit"]
            self.table.add(label + " (credits %+.0f%%, files %s)"
                           % (over * 100, "identical" if same else "DIFFER"), f,
                           "seq. limit %.2f s" % base["limit"], ratio,
                           "<= 1.10" if k == 1 else "< 0.75, same bytes",
                           same and (ratio <= 1.10 if k == 1 else ratio < 0.75))

    # -- 3: warm grep

    def scenario3(self):
        r = self.args.repeat
        shm = tempfile.mkdtemp(prefix="linkupfs-bench-", dir="/dev/shm")
        self.shm = shm
        m = self.mount("cache_size=1G")
        try:
            self.latency(0)
            os.listdir(m.path)
            with Probe(self.mock, m.pid) as cold:
                _, hits = self.grep(m.path)
            st = statfile.values(m.path)
            self.table.add("3. cold `grep -r` over the mount, 0 ms (filling)",
                           vars(cold), "%d matching lines; cache %.1f MiB, %d evictions"
                           % (hits, st["cache_bytes"] / MIB, st["cache_evictions"]))
            say("copying the mount to %s" % shm)
            for name in os.listdir(m.path):
                if name != ".stats":
                    shutil.copytree(os.path.join(m.path, name), os.path.join(shm, name))
            exp = os.path.join(self.tmp, "export-all")
            say("exporting everything with bench/export.sh (0 ms)")
            with Probe(self.mock) as ex:
                self.run_exporter(exp)
            self.table.add("3. exporter, whole account, 0 ms (for the grep below)",
                           vars(ex), "linkupfs cold grep %.2f s" % cold.wall,
                           cold.wall / ex.wall, "—")

            def timed(top, drop):
                if drop:
                    drop_page_cache([top])
                return self.grep(top)[0]

            for drop, label, target in ((True, "page cache dropped", 1.3),
                                        (False, "page cache warm", 1.1)):
                if not drop:
                    timed(m.path, False)
                    timed(shm, False)
                fsw, tw = [], []
                with Probe(self.mock, m.pid) as p:
                    for _ in range(r):
                        fsw.append(timed(m.path, drop))
                        tw.append(timed(shm, drop))
                f = {"wall": median(fsw), "requests": p.requests,
                     "credits": p.credits, "rss": p.rss, "cpu": p.cpu / r}
                ratio = f["wall"] / median(tw)
                self.raw["3 " + label] = {"fs": fsw, "tmpfs": tw}
                self.table.add("3. warm `grep -r` over the mount, %s (n=%d)" % (label, r),
                               f, "tmpfs copy %.3f s" % median(tw), ratio,
                               "<= %.1f, 0 req" % target,
                               ratio <= target and p.requests == 0)
                if not drop:
                    self.warm_fs = f["wall"]
            timed(exp, False)
            ew = [timed(exp, False) for _ in range(r)]
            self.table.add("3. same grep over the exporter's output on disk, page cache warm",
                           {"wall": median(ew)}, "linkupfs warm %.3f s" % self.warm_fs,
                           self.warm_fs / median(ew), "—")
            shutil.rmtree(exp)
        finally:
            self.unmount(m)
            shutil.rmtree(shm, ignore_errors=True)

    # -- 4: many readers

    def pick_readers(self, n):
        """n + 1 conversations with the same number of pages (the largest
        such group), so one reader alone and each of the n do equal work."""
        groups = {}
        for c in self.convs:
            if c["key"] != BIG:
                groups.setdefault(self.pages(c["count"]), []).append(c)
        fit = [p for p, cs in groups.items() if len(cs) >= n + 1]
        if not fit:
            return None
        return groups[max(fit)][:n + 1]

    def readers(self, m, convs):
        barrier = threading.Barrier(len(convs))
        errs = []

        def one(c):
            try:
                barrier.wait()
                read_all(os.path.join(m.path, c["key"], "transcript.txt"))
            except Exception as e:     # noqa: BLE001 - reported below
                errs.append("%s: %s" % (c["key"], e))
        ts = [threading.Thread(target=one, args=(c,)) for c in convs]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errs:
            raise RuntimeError("; ".join(errs))

    def scenario4(self, opts=(), label=""):
        n, ms = 16, self.args.latency
        convs = self.pick_readers(n)
        if not convs:
            self.table.add("4. 16 readers", {}, "n/a: too few equal conversations",
                           "n/a", "<= 1.3", "n/a")
            return
        pages = self.pages(convs[0]["count"])
        ones, manys, conns, exact = [], [], [], True
        for _ in range(self.args.repeat):
            m = self.mount(*opts)
            try:
                self.latency(ms)
                s0 = self.mock.stats()
                os.listdir(m.path)
                with Probe(self.mock, m.pid) as p1:
                    self.readers(m, convs[:1])
                with Probe(self.mock, m.pid) as pn:
                    self.readers(m, convs[1:])
                conns.append(self.mock.stats()["connections"] - s0["connections"])
                exact = exact and pn.requests == n * pages and p1.requests == pages
                ones.append(p1)
                manys.append(pn)
            finally:
                self.unmount(m)
        o, f = merge(ones), merge(manys)
        ratio = f["wall"] / o["wall"]
        self.raw["4" + label] = {"one": o, "many": f, "connections": conns}
        self.table.add("4. %d readers of %d cold conversations (%d pages each), %d ms%s"
                       % (n, n, pages, ms, label), f,
                       "one reader %.3f s" % o["wall"], ratio, "<= 1.3, req = %d"
                       % (n * pages), ratio <= 1.3 and exact)
        self.table.add("4. TCP connections opened by the mount: %d (max over runs)%s"
                       % (max(conns), label), {"requests": f["requests"] + o["requests"]},
                       "%d workers" % n, max(conns) / n, "<= %d connections" % n,
                       max(conns) <= n)

    # -- 5: listing

    def scenario5(self):
        ms = self.args.latency
        n_listed = min(len(self.convs), INBOX_LIMIT)
        want = math.ceil(n_listed / INBOX_PAGE)
        m = self.mount()
        try:
            self.latency(ms)
            self.mock.reset()
            self.latency(ms)
            with Probe(self.mock, m.pid) as p:
                subprocess.run(["ls", "-l", m.path], stdout=subprocess.DEVNULL,
                               check=True)
                dirs = [os.path.join(m.path, n) for n in os.listdir(m.path)
                        if n != ".stats"]
                subprocess.run(["stat"] + dirs, stdout=subprocess.DEVNULL,
                               check=True)
            log = self.mock.log()
            inbox = sum(1 for e in log if e["path"] == "inbox")
            conv = sum(1 for e in log if e["path"] == "conversation")
            self.table.add("5. `ls -l MOUNT` + `stat` of %d conversation dirs, %d ms"
                           % (len(dirs), ms), vars(p),
                           "ceil(%d / %d) = %d inbox req" % (n_listed, INBOX_PAGE, want),
                           "%d inbox + %d conv" % (inbox, conv),
                           "= %d + 0" % want, inbox == want and conv == 0)
        finally:
            self.unmount(m)

    # -- 6: memory

    def scenario6(self):
        budget = 8 * MIB
        m = self.mount("cache_size=8M")
        try:
            self.latency(0)
            names = [n for n in os.listdir(m.path) if n != ".stats"]
            total, passes = 0, 0
            with Probe(self.mock, m.pid) as p:
                while total < 10 * budget:
                    for n in names:
                        total += read_all(os.path.join(m.path, n, "transcript.txt"))[0]
                        if total >= 10 * budget:
                            break
                    passes += 1
                    drop_page_cache([m.path])
            st = statfile.values(m.path)
            rss = proc_rss_parts(m.pid)
            limit = (budget + 16 * MIB) / MIB
            self.table.add("6. cache_size=8M, %.0f MiB of transcripts read (%d passes, "
                           "%d evictions; at the end RssAnon %.1f + RssFile %.1f MiB)"
                           % (total / MIB, passes, st["cache_evictions"],
                              rss.get("RssAnon", 0), rss.get("RssFile", 0)),
                           vars(p), "cache_size + 16 MiB = %.0f MiB" % limit,
                           p.rss / limit, "<= 1.0", p.rss <= limit)
            self.table.add("6. cache bytes per transcript byte held (row 1's mount)",
                           {}, "cache_bytes / transcript size",
                           self.cache_per_byte if hasattr(self, "cache_per_byte") else None,
                           "report")
        finally:
            self.unmount(m)

    # -- 7: CPU per message

    def callgrind(self, mode, page, n):
        out = os.path.join(self.tmp, "callgrind.%s.out" % mode)
        r = subprocess.run(["valgrind", "--tool=callgrind", "--toggle-collect=bench_run",
                            "--callgrind-out-file=" + out, self.args.driver, mode,
                            str(n), page], capture_output=True, text=True,
                           env=dict(os.environ, TZ="UTC"))
        if r.returncode != 0:
            raise RuntimeError("callgrind %s: %s" % (mode, r.stderr[-2000:]))
        msgs = int(re.search(r"messages (\d+)", r.stdout).group(1))
        with open(out) as f:
            text = f.read()
        m = re.search(r"^(?:totals|summary): (\d+)", text, re.M)
        return int(m.group(1)) / (n * msgs), msgs

    def scenario7(self):
        n = 20
        if shutil.which("valgrind") is None or not os.access(self.args.driver, os.X_OK):
            self.table.add("7. parse + render Ir/message", {}, "n/a: valgrind or "
                           "the driver missing", "n/a", "<= 3", "n/a")
            return
        page = os.path.join(self.tmp, "page100.json")
        self.save_page(page)
        full, msgs = self.callgrind("full", page, n)
        base, _ = self.callgrind("cjson", page, n)
        ratio = full / base
        self.raw["7"] = {"full": full, "cjson": base}
        self.table.add("7. parse + render, %d-message page, callgrind: %.0f Ir/message"
                       % (msgs, full), {}, "cJSON_Parse alone %.0f Ir/message" % base,
                       ratio, "<= 3", ratio <= 3)

    # -- 8: start-up

    def scenario8(self):
        times, reqs, rss = [], [], []
        for i in range(max(3, self.args.repeat)):
            mp = os.path.join(self.tmp, "start-%d" % i)
            os.mkdir(mp)
            dev0 = os.stat(mp).st_dev
            s0 = self.mock.stats()["requests"]
            args = [self.args.bin, "-f", "-o", "api_url=%s,page_size=%d"
                    % (self.mock.url, PAGE_SIZE), mp]
            env = scrubbed_env({"LINKUP_API_KEY": self.mock.api_key,
                                "LINKUP_LOGIN_TOKEN": self.mock.login_token,
                                "XDG_CONFIG_HOME": os.path.join(self.tmp, "config")})
            os.makedirs(env["XDG_CONFIG_HOME"], exist_ok=True)
            t = time.monotonic()
            proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                while True:
                    if os.stat(mp).st_dev != dev0:
                        break
                    if proc.poll() is not None or time.monotonic() - t > 10:
                        raise RuntimeError("linkupfs did not mount %s" % mp)
                    time.sleep(0.0005)
                times.append(time.monotonic() - t)
                time.sleep(0.3)     # anything it would fetch by itself
                reqs.append(self.mock.stats()["requests"] - s0)
                rss.append(proc_rss_mib(proc.pid))
            finally:
                subprocess.run(["fusermount3", "-u", mp], stderr=subprocess.DEVNULL)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                    subprocess.run(["fusermount3", "-uz", mp], stderr=subprocess.DEVNULL)
        t = median(times)
        self.table.add("8. start-up: exec to first `stat` of the root (n=%d)" % len(times),
                       {"wall": t, "requests": max(reqs), "rss": median(rss)},
                       "50 ms", t / 0.050, "<= 1.0, 1 req",
                       t <= 0.050 and max(reqs) == 1)

    # -- all

    def run(self):
        only = self.args.only
        a = self.args
        steps = [
            ("1", lambda: self.scenario1(a.latency, a.repeat)),
            ("1", lambda: self.scenario1(a.slow_latency, a.slow_repeat)),
            ("2", self.scenario2),
            ("3", self.scenario3),
            ("4", self.scenario4),
            ("4", lambda: self.scenario4(("max_threads=64",), ", -o max_threads=64")),
            ("5", self.scenario5),
            ("6", self.scenario6),
            ("7", self.scenario7),
            ("8", self.scenario8),
        ]
        for num, fn in steps:
            if only and num not in only:
                continue
            if num == "2" and not hasattr(self, "seq"):
                self.scenario1(a.latency, a.repeat)
            say("scenario %s" % num)
            fn()


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / MIB
    return "%d CPUs (%s), %.1f GiB RAM, Linux %s" % (
        os.cpu_count(), model, mem, os.uname().release)


def main():
    global Mock, Mount, scrubbed_env
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default=os.path.join(REPO, "linkupfs"))
    p.add_argument("--driver", default=os.path.join(REPO, "build", "release",
                                                    "bench", "parse_render"))
    p.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", 1)))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--latency", type=int, default=50)
    p.add_argument("--slow-latency", type=int, default=300)
    p.add_argument("--slow-repeat", type=int, default=1)
    p.add_argument("--only", type=lambda s: set(s.split(",")), default=None,
                   help="comma-separated scenario numbers")
    p.add_argument("--json", help="also write the raw figures here")
    args = p.parse_args()
    args.bin = os.path.abspath(args.bin)
    args.driver = os.path.abspath(args.driver)
    os.environ["LINKUPFS_BIN"] = args.bin
    import conftest     # noqa: E402 - needs LINKUPFS_BIN set first
    Mock, Mount, scrubbed_env = conftest.Mock, conftest.Mount, conftest.scrubbed_env

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    tmp = tempfile.mkdtemp(prefix="linkupfs-bench-")
    bench = None
    try:
        bench = Bench(args, tmp)
        bench.run()
    finally:
        if bench:
            bench.cleanup()
            shutil.rmtree(getattr(bench, "shm", "/nonexistent"), ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print("linkupfs benchmark: %s" % machine())
    print("scale %s (%d conversations, %d messages, %s %d), page_size %d, "
          "repeat %d (slow %d), latency %d / %d ms, total %.0f s\n"
          % (args.scale, len(bench.convs), sum(c["count"] for c in bench.convs),
             BIG, bench.big["count"], PAGE_SIZE, args.repeat, args.slow_repeat,
             args.latency, args.slow_latency, time.monotonic() - T0))
    print(bench.table.render())
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"raw": bench.raw, "rows": bench.table.rows,
                       "notes": bench.table.notes}, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
