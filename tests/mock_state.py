"""The shared state of the mock LinkupAPI (tests/mock_api.py): the data set,
the request log and counters, what each request is charged, the rate limit,
and the faults waiting for a request (tests/mock_faults.py applies them).

Credits are charged as v1 charges them: every API request given a complete
answer below 500 costs credits, errors included (400, 401, 403, 404, 429,
an error answered with 200, a body that is not JSON or is truncated); a
success 1 per 10 results or fraction (at least 1: normal, slow,
cursor_stuck, no_cursor, empty_has_next, wrong_shape), anything else 1.
A 5xx, a hang, a drip, a reset or a huge body (no complete answer a client
keeps) costs nothing.

v2 (/v2/messages, SPEC section 7): errors cost nothing (credits_consumed
0), a success what its metadata.credits_consumed says (1 per 10 results or
fraction, at least 1, as v1), and stats' credits_consumed sums the figures
the mock sent in complete answers (wrong_shape's too: its metadata
survives, and linkupfs counts it).  A v2 answer cut short (truncated,
reset, drip) or replaced (huge) is charged 0: its figure never reaches a
client, and what the real API charges for it is undocumented.

Rate limit (off unless --rate-limit or /_control/set asks): at most N
requests admitted in any SECONDS (a sliding window over the requests
admitted; refused ones do not count).  Past it: HTTP 429
{"status":"error","message":"API Rate limit exceeded"}, charged 1 credit,
counted in stats as answers_429 (as every 429 answer, faults included).
"""

import collections
import threading
import time

import sample_data


def credits_for(n):
    return max(1, (n + 9) // 10)


def parse_rate(text):
    """"N/SECONDS" -> (N, SECONDS); "0" or None -> None."""
    if text in (None, "", "0"):
        return None
    n, _, sec = str(text).partition("/")
    n, sec = int(n), float(sec)
    if n < 1 or sec <= 0:
        raise ValueError("rate limit must be N/SECONDS with N, SECONDS > 0")
    return n, sec



class State:
    """Everything the handlers share; self.lock guards all mutable fields
    (dataset contents included: add_message mutates conversations)."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.api_key = args.api_key
        self.login_token = args.login_token
        self.account_id = args.account_id
        self.start_latency = args.latency_ms
        self.start_rate = parse_rate(args.rate_limit)
        self.dataset = self.load_dataset()
        self.release = threading.Event()
        self.reset(data=False)

    def load_dataset(self):
        a = self.args
        if a.dataset == "bench":
            return sample_data.build("bench", scale=a.scale, convs=a.bench_convs,
                                     messages=a.bench_messages, big=a.bench_big)
        return sample_data.build(a.dataset)

    def reset(self, data=False):
        with self.lock:
            self.log = []
            self.seq = 0
            self.requests = 0
            self.credits = 0
            self.credits_consumed = 0   # v2: sum of metadata figures sent
            self.account_inactive = False
            self.answers_429 = 0
            self.rate_limit = self.start_rate   # (N, seconds) or None
            self.admitted = collections.deque()  # times of admitted requests
            self.connections = 0        # that carried an API request
            self.tcp_connections = 0    # all accepted, control ones too
            self.max_active = getattr(self, "active", 0)
            self.active = getattr(self, "active", 0)
            self.faults = []
            self.latency_ms = self.start_latency
            self.inclusive_cursor = False
            self.inbox_null_cursor = False
            if data:
                self.dataset = self.load_dataset()
        self.release_all()

    def release_all(self):
        """Wake every hanging/dripping connection."""
        with self.lock:
            old, self.release = self.release, threading.Event()
        old.set()

    def new_connection(self):
        with self.lock:
            self.tcp_connections += 1

    def api_connection(self):
        with self.lock:
            self.connections += 1
            return self.connections

    def begin(self, path, conn, version=1):
        with self.lock:
            self.seq += 1
            self.requests += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            entry = {"seq": self.seq, "path": path, "conversation": None,
                     "cursor": None, "total_results": None, "status": None,
                     "fault": None, "auth_ok": False, "credits": 0,
                     "t_start": time.monotonic(), "t_end": None, "conn": conn,
                     "version": version}
            self.log.append(entry)
            return entry

    def end(self, entry):
        with self.lock:
            self.active -= 1
            entry["t_end"] = time.monotonic()

    def charge(self, entry, credits):
        """Count a request's credits before its answer goes out, so a client
        that reads /_control/stats right after the answer sees them."""
        with self.lock:
            entry["credits"] = credits
            self.credits += credits

    def answered(self, entry, status, credits=1):
        """An error answer about to go out: v1 charges it below 500, v2
        never."""
        entry["status"] = status
        with self.lock:
            if status == 429:
                self.answers_429 += 1
        if status < 500 and entry.get("version", 1) == 1:
            self.charge(entry, credits)

    def consumed(self, entry, credits):
        """A v2 answer about to go out whole with this credits_consumed."""
        self.charge(entry, credits)
        with self.lock:
            self.credits_consumed += credits

    def admit(self):
        """False when the rate limit refuses this request now."""
        with self.lock:
            if self.rate_limit is None:
                return True
            n, sec = self.rate_limit
            now = time.monotonic()
            while self.admitted and self.admitted[0] <= now - sec:
                self.admitted.popleft()
            if len(self.admitted) >= n:
                return False
            self.admitted.append(now)
            return True

    def take_fault(self, path, ref):
        with self.lock:
            for f in self.faults:
                if f["path"] not in (None, path):
                    continue
                if f["match"] is not None and (ref is None or f["match"] not in ref):
                    continue
                if f.get("skip", 0) > 0:    # let the first N through
                    f["skip"] -= 1
                    continue
                if f["count"] > 0:
                    f["count"] -= 1
                    if f["count"] == 0:
                        self.faults.remove(f)
                return dict(f)
        return None

    def stats(self):
        with self.lock:
            return {"requests": self.requests, "credits": self.credits,
                    "credits_consumed": self.credits_consumed,
                    "account_inactive": self.account_inactive,
                    "connections": self.connections,
                    "tcp_connections": self.tcp_connections,
                    "active": self.active,
                    "max_active": self.max_active,
                    "latency_ms": self.latency_ms,
                    "inclusive_cursor": self.inclusive_cursor,
                    "answers_429": self.answers_429,
                    "rate_limit": list(self.rate_limit) if self.rate_limit else None,
                    "faults_pending": len(self.faults)}
