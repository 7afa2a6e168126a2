"""The store's scenarios of the linkupfs benchmark (bench/run.py), mixed
into run.Bench beside bench/scenarios.py's:

  9  the store (issues 11 and 17), at LATENCY ms, with default options:
     store and disk bytes per transcript byte; a remount with nothing
     changed, `grep -r` over the mount (only the inbox requests; wall
     against the same grep on a mount with everything in memory); a
     remount after 10 conversations changed (inbox + one newest page each);
     an offline remount (-o offline: zero requests, identical bytes); a
     cold `cat transcript.txt` with a new store against one with
     -o nostore; what packing costs per byte (callgrind, the pack_speed
     driver): the checksum before issue 18 against XXH3, zstd both ways
  10 bytes the process writes (/proc/PID/io write_bytes) to keep bench-big
     (20 000 messages) read cold at LATENCY ms, against the bytes the
     store holds for it; the same for 2 500 messages (a second mock at
     scale / 8): the two ratios within 20% of each other
  11 `tree` over a cold mount against `grep -r` over another, at LATENCY
     ms: on the bench set, and on a set whose names sort against the
     inbox's order (where only a read-ahead in name order helps)
"""

import math
import os
import re
import shutil
import subprocess
import time

from measure import MIB, Probe, drop_page_cache, median, read_all, say
from scenarios import BIG, INBOX_PAGE, UTC

from lib import statfile  # noqa: E402 - tests/lib, on sys.path (run.py)


def settle(m, timeout=60):
    """.stats once every blob put is on disk (the writer gathers a batch
    for a few seconds)."""
    deadline = time.monotonic() + timeout
    while not statfile.store_settled(m.path):
        if time.monotonic() > deadline:
            raise RuntimeError("the store of %s did not settle" % m.path)
        time.sleep(0.1)
    return statfile.fresh(m.path)


def write_bytes(pid):
    with open("/proc/%d/io" % pid) as f:
        return int(dict(ln.split(": ") for ln in f.read().splitlines())["write_bytes"])


def disk_bytes(cache_home):
    top = os.path.join(cache_home, "linkupfs")
    return sum(os.path.getsize(os.path.join(top, n)) for n in os.listdir(top))


class StoreScenarios:
    """Mixed into run.Bench: uses its mock, mounts, table and args."""

    def cache_home(self, name):
        path = os.path.join(self.tmp, name)
        os.makedirs(path, exist_ok=True)
        return path

    # -- 9

    def scenario9(self):
        ms = self.args.latency
        home = self.cache_home("cache-9")
        want = math.ceil(len(self.convs) / INBOX_PAGE)   # the whole inbox
        opts = ("cache_size=1G", "ttl=3600")
        m = self.mount(*opts, cache_home=home)
        try:
            self.latency(0)
            os.listdir(m.path)
            self.grep(m.path)                       # fills the store
            warm = median([self.grep(m.path)[0] for _ in range(self.args.repeat)])
            mem = []
            for _ in range(self.args.repeat):       # as a remount finds it
                drop_page_cache([m.path])
                mem.append(self.grep(m.path)[0])
            mem = median(mem)
            st = settle(m)
            files = self.all_files(m)
            text = sum(read_all(os.path.join(m.path, n, "transcript.txt"))[0]
                       for n in os.listdir(m.path) if n != ".stats")
            self.save_body(m)
        finally:
            self.unmount(m)
        disk = disk_bytes(home)
        self.table.add("9. store bytes per transcript byte (%.1f MiB for %.1f MiB; "
                       "cache's: scenario 6)" % (st["store_bytes"] / MIB, text / MIB),
                       {}, "store_bytes / transcripts", st["store_bytes"] / text,
                       "report")
        self.table.add("9. store on disk per transcript byte (store.db and its "
                       "journal, %.1f MiB)" % (disk / MIB), {},
                       "file sizes / transcripts", disk / text, "<= 2.0",
                       disk / text <= 2.0)
        self.latency(ms)
        p = self.remount_grep(opts, home)
        m = self.mount(*opts, cache_home=home)
        try:
            same = self.all_files(m) == files
        finally:
            self.unmount(m)
        ratio = p.wall / mem
        self.raw["9 remount"] = dict(vars(p), memory=mem, warm=warm, same=same)
        self.table.add("9. remount, default options, nothing changed, `grep -r`, %d ms "
                       "(files %s; page cache warm: %.3f s)"
                       % (ms, "identical" if same else "DIFFER", warm), vars(p),
                       "in-memory, page cache dropped %.3f s" % mem, ratio,
                       "<= 3, req <= %d" % want,
                       ratio <= 3 and p.requests <= want and same)
        changed = [c["key"] for c in self.convs if c["key"] != BIG][:10]
        for key in changed:
            self.mock.add_message(key, "bench: a new message in %s" % key)
        p = self.remount_grep(opts, home)
        self.table.add("9. remount, %d conversations changed (1 new message each), "
                       "`grep -r`, %d ms" % (len(changed), ms), vars(p),
                       "inbox %d + %d newest pages" % (want, len(changed)),
                       p.requests / (want + len(changed)),
                       "req = %d" % (want + len(changed)),
                       p.requests == want + len(changed))
        m = self.mount(*(opts + ("offline",)), cache_home=home)
        try:
            with Probe(self.mock, m.pid) as p:
                got = self.all_files(m)
        finally:
            self.unmount(m)
        same = all(got.get(k) == v for k, v in files.items()
                   if k.split("/")[0] not in changed)
        self.table.add("9. offline remount (-o offline), every transcript and page "
                       "(%d files, %s)" % (len(got), "identical" if same else "DIFFER"),
                       vars(p), "0 requests", p.requests, "0 req, same bytes",
                       p.requests == 0 and same)
        plain = self.cold_transcript(ms, ("nostore",))
        kept = self.cold_transcript(ms)
        ratio = kept.wall / plain.wall
        self.raw["9 cold"] = {"plain": vars(plain), "store": vars(kept)}
        self.table.add("9. cold `cat transcript.txt` of %s with a new store, %d ms"
                       % (BIG, ms), vars(kept), "-o nostore %.2f s" % plain.wall,
                       ratio, "<= 1.10", ratio <= 1.10)
        self.pack_costs()

    def all_files(self, m):
        """sha256 of every transcript and page file of the mount."""
        out = {}
        for n in sorted(os.listdir(m.path)):
            if n != ".stats":
                out.update({n + "/" + k: v for k, v in self.conv_files(m, n).items()})
        return out

    def remount_grep(self, opts, home):
        """Mount, `grep -r`; the Probe of the grep, with the requests and
        credits of the mount and the grep together."""
        s0 = self.mock.stats()
        m = self.mount(*opts, cache_home=home)
        try:
            with Probe(self.mock, m.pid) as p:
                self.grep(m.path)
        finally:
            self.unmount(m)
        s1 = self.mock.stats()
        p.requests = s1["requests"] - s0["requests"]
        p.credits = s1["credits"] - s0["credits"]
        return p

    def save_body(self, m):
        """What one chunk body holds: a page's text and JSON lines."""
        self.body = os.path.join(self.tmp, "body.bin")
        with open(self.body, "wb") as out:
            for name in ("page-0002.txt", "page-0002.jsonl"):
                with open(os.path.join(m.path, BIG, name), "rb") as f:
                    out.write(f.read())

    def pack_run(self, mode, n):
        """(instructions per byte under callgrind, MB/s on the clock)."""
        drv = self.args.pack_driver
        with open(self.body, "rb") as f:
            r = subprocess.run([drv, mode, str(n * 50)], stdin=f,
                               capture_output=True, text=True, check=True)
        got = dict(re.findall(r"(\w+) ([\d.]+)", r.stdout))
        mbs = float(got["bytes"]) * n * 50 / float(got["seconds"]) / 1e6
        out = os.path.join(self.tmp, "callgrind.pack.%s.out" % mode)
        with open(self.body, "rb") as f:
            subprocess.run(["valgrind", "--tool=callgrind", "--toggle-collect=bench_run",
                            "--callgrind-out-file=" + out, drv, mode, str(n)],
                           stdin=f, capture_output=True, check=True)
        with open(out) as f:
            total = int(re.search(r"^(?:totals|summary): (\d+)", f.read(), re.M).group(1))
        return total / (n * int(got["bytes"])), mbs, int(got["bytes"]), int(got["packed"])

    def pack_costs(self):
        drv = getattr(self.args, "pack_driver", None)
        if not drv or not os.access(drv, os.X_OK) or shutil.which("valgrind") is None:
            self.table.note("9. packing costs: n/a (valgrind or %s missing)" % drv)
            return
        old, old_mbs, size, packed = self.pack_run("mix", 20)
        new, new_mbs, _, _ = self.pack_run("xxh3", 20)
        self.raw["9 checksum"] = {"mix": [old, old_mbs], "xxh3": [new, new_mbs]}
        self.table.add("9. checksum of a %d-byte body: XXH3 %.3f Ir/byte, %.0f MB/s "
                       "(callgrind; clock)" % (size, new, new_mbs), {},
                       "the mix before issue 18: %.3f Ir/byte, %.0f MB/s" % (old, old_mbs),
                       new / old, "report (Ir ratio)")
        comp, comp_mbs, _, _ = self.pack_run("compress", 4)
        exp, exp_mbs, _, _ = self.pack_run("expand", 4)
        self.raw["9 zstd"] = {"compress": [comp, comp_mbs], "expand": [exp, exp_mbs]}
        self.table.add("9. zstd level 1 on that body: %.1fx smaller; compress %.1f "
                       "Ir/byte, %.0f MB/s; expand %.1f Ir/byte, %.0f MB/s"
                       % (size / packed, comp, comp_mbs, exp, exp_mbs), {},
                       "a put / a get of a kept body", None, "report")

    # -- 10

    def kept_cold(self, mock, m):
        """Read BIG's transcript cold on m (of mock); (bytes written, bytes
        the store holds for it)."""
        os.listdir(m.path)
        kept0 = settle(m)["store_bytes"]        # the inbox's pages
        wrote0 = write_bytes(m.pid)
        mock.set(latency_ms=self.args.latency)
        read_all(os.path.join(m.path, BIG, "transcript.txt"))
        st = settle(m)
        mock.set(latency_ms=0)
        return write_bytes(m.pid) - wrote0, st["store_bytes"] - kept0

    def scenario10(self):
        ratios = []
        small = self.Mock(latency_ms=0, dataset="bench", scale=self.args.scale / 8,
                          start_timeout=120)
        try:
            for mock in (self.mock, small):
                count = [c for c in mock.conversations() if c["key"] == BIG][0]["count"]
                m = self.Mount(mock, self.tmp, "page_size=100", "rate_limit=0",
                               "ttl=3600", env=UTC)
                self.mounts.append(m)
                try:
                    wrote, kept = self.kept_cold(mock, m)
                finally:
                    self.unmount(m)
                ratios.append(wrote / kept)
                self.raw["10 %d" % count] = {"wrote": wrote, "kept": kept}
                big = mock is self.mock         # the target's conversation
                self.table.add("10. bytes written to keep %s (%d messages) read cold, "
                               "%d ms: %.2f MB for %.2f MB kept"
                               % (BIG, count, self.args.latency, wrote / 1e6, kept / 1e6),
                               {}, "write_bytes / store_bytes", wrote / kept,
                               "<= 1.5" if big else "report",
                               wrote / kept <= 1.5 if big else None)
        finally:
            small.stop()
        spread = max(ratios) / min(ratios)
        self.table.add("10. linear: the ratio at %d messages against at %d"
                       % (self.big["count"], self.big["count"] // 8), {},
                       "larger / smaller ratio", spread, "<= 1.2", spread <= 1.2)

    # -- 11

    def cold_walk(self, mock, tool):
        """(wall, requests, read-ahead walks) of tool over a cold mount."""
        m = self.Mount(mock, self.tmp, "page_size=100", "rate_limit=0", "ttl=3600",
                       env=dict(UTC, LC_ALL="C"))
        self.mounts.append(m)
        try:
            os.listdir(m.path)
            mock.set(latency_ms=self.args.latency)
            s0 = mock.stats()["requests"]
            t = time.monotonic()
            r = subprocess.run(tool + [m.path], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=dict(os.environ, LC_ALL="C"))
            wall = time.monotonic() - t
            mock.set(latency_ms=0)
            if r.returncode not in (0, 1):
                raise RuntimeError("%s: %s" % (tool, r.stderr[-500:]))
            return (wall, mock.stats()["requests"] - s0,
                    int(statfile.fresh(m.path)["readahead_walks"]))
        finally:
            self.unmount(m)

    def tree_against_grep(self, mock, label):
        grep = self.cold_walk(mock, ["grep", "-r", "-q", "no such text anywhere"])
        tree = self.cold_walk(mock, ["tree", "-a"])
        ratio = tree[0] / grep[0]
        self.raw["11 " + label] = {"grep": grep, "tree": tree}
        self.table.add("11. cold `tree` over %s, %d ms (%d read-ahead walks)"
                       % (label, self.args.latency, tree[2]),
                       {"wall": tree[0], "requests": tree[1]},
                       "cold `grep -r` %.2f s, %d req, %d walks" % grep, ratio,
                       "<= 1.2", ratio <= 1.2)

    def scenario11(self):
        if shutil.which("tree") is None:
            self.table.note("11. n/a: tree is missing (make deps)")
            return
        self.tree_against_grep(self.mock, "the bench set")
        n = max(8, int(100 * self.args.scale))
        mock = self.Mock(latency_ms=0, dataset="bench", start_timeout=120,
                         extra_args=("--bench-convs", "1", "--bench-messages", "0"))
        try:
            say("11: %d conversations named against the inbox's order" % n)
            last = self.big["last_time"]
            for i in range(n):
                slug = "t-%04d" % (n - 1 - i)
                mock.add_conversation(key=slug, name=slug, messages=500,
                                      profile_url="https://www.linkedin.com/in/%s/" % slug,
                                      last_time=last - i * 3600000)
            self.tree_against_grep(mock, "%d conversations named against the inbox's "
                                   "order (500 messages each)" % n)
        finally:
            mock.stop()
