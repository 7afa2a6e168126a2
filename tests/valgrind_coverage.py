"""make valgrind-coverage: do the tests marked `valgrind` (the valgrind
run, tests/conftest.py) still reach every line and branch of linkupfs's C
code that the whole mounted suite reaches?

A pytest plugin (-p valgrind_coverage) for a run of the suite with a
linkupfs built with gcov (COV_BUILD, build/cov): after each test, the .gcda
counts its linkupfs processes left at exit move to COV_DATA/tNNNN/
(build/cov-data), and COV_DATA/index.tsv says which test that was and
whether the valgrind run has it. Then `python3 tests/valgrind_coverage.py COV_BUILD COV_DATA` reads
each test's counts with gcov and prints each line or branch that some test
reaches and no test of the valgrind run does, with the tests that reach it
(quickest first); it exits 1 when there is any. A process killed with
SIGKILL leaves no counts, in either set.
"""

import collections
import glob
import json
import os
import subprocess
import sys
import time

# ------------------------------------------------------------ the plugin

_state = {"n": 0, "t0": 0.0}


def _move_counts(tag):
    build, data = os.environ["COV_BUILD"], os.environ["COV_DATA"]
    for path in glob.glob(os.path.join(build, "**", "*.gcda"), recursive=True):
        if os.path.abspath(path).startswith(os.path.abspath(data) + os.sep):
            continue  # COV_DATA inside COV_BUILD: what we moved already
        dest = os.path.join(data, tag, os.path.relpath(path, build))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.replace(path, dest)


def _in_valgrind_run(item):
    if item.get_closest_marker("timing") or item.get_closest_marker("procfs"):
        return False
    mark = item.get_closest_marker("valgrind")
    if mark is None:
        return False
    spec = getattr(item, "callspec", None)
    version = spec.params.get("api_version", 1) if spec else 1
    return not mark.args or version in mark.args


def pytest_runtest_logstart(nodeid, location):
    _state["t0"] = time.monotonic()


def pytest_runtest_teardown(item, nextitem):
    _state["item"] = item


def pytest_runtest_logfinish(nodeid, location):
    """After the teardown: every linkupfs the test started has exited."""
    _state["n"] += 1
    tag = "t%04d" % _state["n"]
    _move_counts(tag)
    item = _state.pop("item", None)
    marked = int(item is not None and _in_valgrind_run(item))
    with open(os.path.join(os.environ["COV_DATA"], "index.tsv"), "a") as f:
        f.write("%s\t%s\t%d\t%.1f\n" % (tag, nodeid, marked,
                                        time.monotonic() - _state["t0"]))


# ------------------------------------------------------------ the report

def reached(build, tagdir):
    """{"file:line", "file:line:bN"} that the counts in tagdir show."""
    out = set()
    gcdas = glob.glob(os.path.join(tagdir, "**", "*.gcda"), recursive=True)
    by_dir = collections.defaultdict(list)
    for g in gcdas:
        gcno = os.path.join(build, os.path.relpath(g, tagdir))[:-5] + ".gcno"
        if not os.path.exists(g[:-5] + ".gcno"):
            os.symlink(os.path.abspath(gcno), g[:-5] + ".gcno")
        by_dir[os.path.dirname(g)].append(g)
    for objdir, files in by_dir.items():
        r = subprocess.run(["gcov", "--json-format", "--stdout", "-b",
                            "-o", objdir] + files,
                           capture_output=True, text=True, check=True)
        for doc in filter(str.strip, r.stdout.splitlines()):
            for f in json.loads(doc)["files"]:
                if f["file"].startswith("/"):
                    continue  # system headers' inline functions
                for ln in f["lines"]:
                    at = "%s:%d" % (f["file"], ln["line_number"])
                    if ln["count"]:
                        out.add(at)
                    for i, b in enumerate(ln.get("branches", ())):
                        if b["count"]:
                            out.add("%s:b%d" % (at, i))
    return out


def report(build, data):
    tests = []
    with open(os.path.join(data, "index.tsv")) as f:
        for row in f:
            tag, nodeid, marked, secs = row.rstrip("\n").split("\t")
            tests.append((nodeid, marked == "1", float(secs),
                          reached(build, os.path.join(data, tag))))
    marked = set().union(*(r for _, m, _, r in tests if m))
    every = set().union(*(r for _, _, _, r in tests))
    missing = sorted(every - marked)
    print("valgrind run: %d of %d tests, %.0f of %.0f s here; reaches %d of "
          "the %d lines and branches the suite reaches"
          % (sum(m for _, m, _, _ in tests), len(tests),
             sum(s for _, m, s, _ in tests if m), sum(s for _, _, s, _ in tests),
             len(marked & every), len(every)))
    for at in missing:
        who = sorted((s, n) for n, _, s, r in tests if at in r)
        print("%s: not reached; reached by %s" % (
            at, ", ".join("%s (%.1f s)" % (n, s) for s, n in who[:3])))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(report(sys.argv[1], sys.argv[2]))
