"""The .stats file of a mount: one "name: value" line per counter."""

import os


def strings(mnt):
    """{name: value} of mount point mnt's .stats, values as written."""
    with open(os.path.join(mnt, ".stats"), "rb") as f:
        text = f.read().decode()
    return dict(line.split(": ", 1) for line in text.splitlines())


def values(mnt):
    """The same, with each value of digits only as an int."""
    return {k: int(v) if v.isdigit() else v for k, v in strings(mnt).items()}


def numbers(mnt):
    """Only the counters: {name: int} of the values of digits only."""
    return {k: v for k, v in values(mnt).items() if isinstance(v, int)}


def cache_bytes(mnt):
    """The bytes the mount's cache holds now."""
    return numbers(mnt)["cache_bytes"]


_asked = [0]


def fresh(mnt):
    """values() as they are now: the kernel keeps the .stats it read until
    the mount's next callback, so first look up a name that is not there
    (a new one each time: the kernel remembers absent names too)."""
    _asked[0] += 1
    os.path.exists(os.path.join(mnt, ".no-such-file-%d-%d" % (os.getpid(), _asked[0])))
    return values(mnt)


def store_settled(mnt):
    """Whether every blob put in the mount's store is on disk (its writer
    thread takes a few seconds to gather a batch), as fresh() tells."""
    return fresh(mnt).get("store_pending", 0) == 0


def api_lets_go(mnt):
    """Whether the mount would send a request to the API now: it is
    online, or it is down and its back-off has run out (issue 16)."""
    s = strings(mnt)
    return s["api"] == "online" or (
        s["api"] == "down" and s["api_next_try_seconds"] == "0.0")
