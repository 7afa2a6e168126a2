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
binary with tests/conftest.py's Mount (page_size=100, TZ=UTC; each mount a
store of its own, the default, unless a scenario shares one), and runs the
scenarios of bench/scenarios.py (1 cold transcript, 2 parallel=K, 3 warm
grep, 4 many readers, 5 listing, 6 memory, 7 CPU per message, 8 start-up)
and bench/store_scenarios.py (9 the store across remounts and what packing
costs, 10 bytes written per byte kept, 11 tree against grep -r), measured
with bench/measure.py,
then the targets of issue 10 at the API's limits, bench/limits.py
(--only L1,L2,L6: L2 runs L3 and L4, L1 runs L5; minutes each). Progress
goes to stderr, the
table (Markdown) to stdout.
"""

import argparse
import http.client
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(REPO, "tests")
EXPORTER = os.path.join(REPO, "bench", "export.sh")

Mock = Mount = scrubbed_env = None     # from tests/conftest.py, in main()

sys.path.insert(0, TESTS)
from measure import MIB, T0, Table, read_all, say  # noqa: E402
from scenarios import BIG, GREP_PATTERN, PAGE_SIZE, UTC, Scenarios  # noqa: E402
from limits import LimitScenarios  # noqa: E402
from store_scenarios import StoreScenarios  # noqa: E402


# ------------------------------------------------------------------ bench

class Bench(Scenarios, LimitScenarios, StoreScenarios):
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.table = Table()
        self.mounts = []
        self.raw = {}
        self.Mock, self.Mount = Mock, Mount    # for bench/limits.py
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

    def mount(self, *opts, cache_home=None):
        # rate_limit=0: these scenarios measure linkupfs against its own
        # limits at the mock's latency, as BENCHMARKS.md's runs did; pacing
        # at the API's 300/60 has scenarios of its own (issue 10). A store
        # of its own (conftest's Mount) unless cache_home names one.
        env = dict(UTC, XDG_CACHE_HOME=cache_home) if cache_home else UTC
        m = Mount(self.mock, self.tmp, "page_size=%d" % PAGE_SIZE,
                  "rate_limit=0", *opts, env=env)
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
            ("9", self.scenario9),
            ("10", self.scenario10),
            ("11", self.scenario11),
            # issue 10, at 300 requests/minute and 300 ms (bench/limits.py)
            ("L1", self.scenario_l1),       # and L5
            ("L2", self.scenario_l234),     # and L3, L4
            ("L6", self.scenario_l6),
        ]
        for num, fn in steps:
            if only and num not in only and not (
                    num == "L2" and only & {"L3", "L4"}) and not (
                    num == "L1" and "L5" in only):
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
    p.add_argument("--pack-driver", default=os.path.join(REPO, "build", "release",
                                                         "bench", "pack_speed"))
    p.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", 1)))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--latency", type=int, default=50)
    p.add_argument("--slow-latency", type=int, default=300)
    p.add_argument("--slow-repeat", type=int, default=1)
    p.add_argument("--only", type=lambda s: set(s.split(",")), default=None,
                   help="comma-separated scenario numbers (1..11, L1..L6)")
    p.add_argument("--json", help="also write the raw figures here")
    args = p.parse_args()
    args.bin = os.path.abspath(args.bin)
    args.driver = os.path.abspath(args.driver)
    args.pack_driver = os.path.abspath(args.pack_driver)
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
