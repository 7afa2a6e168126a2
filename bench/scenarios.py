"""The scenarios of the linkupfs benchmark (bench/run.py), numbered as
--only takes them; Scenarios is the part of run.Bench that runs them, over
its mock, mounts and helpers:

  1  cold `cat transcript.txt` of bench-big at LATENCY and SLOW_LATENCY ms,
     against the limit (minimum requests x single-request latency measured
     now with a direct keep-alive POST) and against bench/export.sh
  2  parallel=K rows, K = 1, 2, 4, 8 (n/a while `--help` shows no parallel=)
  3  warm `grep -r` over the whole mount against the same files copied to a
     tmpfs directory (/dev/shm): kernel page cache dropped (linkupfs' cache
     still full), then kernel page cache warm; and the same grep over the
     exporter's output on disk; after each, one more grep traced (perf and
     the kernel's fuse tracepoints): its FUSE requests by kind, the median
     time to each answer, and linkupfs' CPU per request
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
  9, 10, 11  the store and the read-ahead of tree: bench/store_scenarios.py
"""

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from measure import (MIB, FuseTrace, Probe, drop_page_cache, median, merge,
                     proc_rss_mib, proc_rss_parts, read_all, say)

TESTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "tests")
if TESTS not in sys.path:       # bench/run.py put it there already
    sys.path.insert(0, TESTS)
from lib import statfile  # noqa: E402 - tests/lib, shared with the tests

PAGE_SIZE = 100
INBOX_PAGE = 100        # ROOT_INBOX_PAGE in fs/root.c
BIG = "bench-big"
GREP_PATTERN = "message 000042"
UTC = {"TZ": "UTC"}


class Scenarios:
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
                     "credits": p.credits, "rss": p.rss, "cpu": p.cpu / r,
                     "ctxsw": p.ctxsw / r}
                ratio = f["wall"] / median(tw)
                self.raw["3 " + label] = {"fs": fsw, "tmpfs": tw}
                self.table.add("3. warm `grep -r` over the mount, %s (n=%d)" % (label, r),
                               f, "tmpfs copy %.3f s" % median(tw), ratio,
                               "<= %.1f, 0 req" % target,
                               ratio <= target and p.requests == 0)
                if not drop:
                    self.warm_fs = f["wall"]
                self.grep_requests(m, drop, label, f)
            timed(exp, False)
            ew = [timed(exp, False) for _ in range(r)]
            self.table.add("3. same grep over the exporter's output on disk, page cache warm",
                           {"wall": median(ew)}, "linkupfs warm %.3f s" % self.warm_fs,
                           self.warm_fs / median(ew), "—")
            shutil.rmtree(exp)
        finally:
            self.unmount(m)
            shutil.rmtree(shm, ignore_errors=True)

    def grep_requests(self, m, drop, label, timed):
        """One more grep, traced, not timed: the FUSE requests it sent by
        kind and the median time each took to be answered; with linkupfs'
        CPU and context switches per grep of the timed runs (timed), its
        CPU per request."""
        if drop:
            drop_page_cache([m.path])
        with FuseTrace(m.path) as tr:
            self.grep(m.path)
        n = sum(tr.counts.values())
        self.raw["3 requests " + label] = {"counts": dict(tr.counts),
                                           "ctxsw_per_grep": timed["ctxsw"],
                                           "rtt_median_us": {k: median(v) for k, v
                                                             in tr.rtt.items()}}
        self.table.add("3. FUSE requests of one warm `grep -r`, %s: %s (median time "
                       "to each answer)" % (label, tr.summary()), {"cpu": timed["cpu"]},
                       "linkupfs per grep: %.0f context switches; CPU per request %s"
                       % (timed["ctxsw"], "%.1f us" % (timed["cpu"] / n * 1e6)
                          if n else "n/a"))

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
        n_listed = len(self.convs)   # the whole inbox, by default
        want = math.ceil(n_listed / INBOX_PAGE)
        # counted from before the mount: it reads the inbox's first page
        # as it starts (the root's time), the listing the rest
        self.mock.reset()
        self.latency(ms)
        m = self.mount()
        try:
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
        from conftest import scrubbed_env  # imported by run.main() already
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
