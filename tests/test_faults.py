"""The fault matrix of issue 3 on a real mount: what the user sees when the
API, the network or the data misbehave.

Every failing case checks, in this order: the errno the read returns, the
time it took (against BOUND below), the requests the mock saw (so retries are
counted), that linkupfs logged exactly one line and is still alive, then that
nothing wrong was cached: once the mock recovers (clear_faults) the next read
asks the server again, only for what it does not know yet, and returns the
right bytes. A failure that says the API cannot be reached or is failing
(a transport error, a timeout, a 5xx, an HTML page: the classifier of
fs/model/link.h) also takes the mount's one link state down, which is
logged once and makes later requests wait out a short back-off (1 s after
one failure): "recovers" waits for it, as .stats tells, before it reads.

Mounts use page_size=100 and timeout=3 (TIMEOUT) so that a hang costs
seconds, not minutes.  Faults are aimed at one conversation with match=;
chain faults use "skip" (tests/mock_api.py) so that they hit page 3 of
long-talker-42 (13 pages) after pages 1 and 2 were answered normally.

Set FAULT_TABLE=/some/file to have each case append one JSON line (api
version, fault, errno, seconds, requests, recovered): the table of the
issue's note.

Every test runs against LinkupAPI v1 and v2 (API_VERSIONS, conftest.py):
the mock answers each fault in the version's shape (tests/mock_faults.py).
What one version alone has is marked api_versions: v1's refused
credentials (401, expired login token), v1's has_next_page without a
cursor (in v2 a missing cursor is the chain's end), v2's error codes.
"""

import errno
import json
import os
import socket
import time

import pytest

import expected
import mock_state
import sample_data as sd
from conftest import BROKEN_ANSWERS, wait_for
from lib import statfile
from lib.fsread import read, transcript

API_VERSIONS = (1, 2)
VERSION = {"now": 1}     # the running test's, for note()

UTC = {"TZ": "UTC"}
TIMEOUT = 3          # -o timeout= of every mount here, seconds
RETRIES = 4          # fs/main.c API_RETRIES: tries = 1 + RETRIES
TRIES = 1 + RETRIES
BACKOFF = 0.25 + 0.5 + 1.0 + 2.0   # api/http.c: 250 ms doubling, 4 waits
SLACK = 2.0          # process start-up noise, sanitizer builds, a busy CI
LONG_PAGES = 13      # long-talker-42 at page_size=100
MEM_BOUND_KB = 150 * 1024   # VmHWM of linkupfs after a 40 MiB answer

# The longest a failing read may take, seconds, by what the fault costs.
BOUND = {
    "answer": 1.0 + SLACK,              # one bad answer: no retry
    "retried": BACKOFF + SLACK,         # TRIES quick failures, backoff between
    "retry_after": RETRIES * 1 + SLACK,  # Retry-After: 1, honoured each time
    "timeout": TIMEOUT + SLACK,         # one request cut at timeout, no retry
    "huge": 3.0 + SLACK,                # 16 MiB read, then refused
}


def want_transcript(data, conv_id):
    conv = data.find(conv_id)
    return "".join(expected.render(x) for x in expected.messages(conv)).encode()


def attempt(fn):
    """(errno or 0, seconds) of fn()."""
    t0 = time.monotonic()
    try:
        fn()
        err = 0
    except OSError as e:
        err = e.errno
    return err, time.monotonic() - t0


def requests(mock, path="conversation"):
    return len(mock.api_log(path))


def note(fault, err, took, seen, recovered):
    out = os.environ.get("FAULT_TABLE")
    if out:
        with open(out, "a") as f:
            f.write(json.dumps({"api": VERSION["now"], "fault": fault,
                                "errno": errno.errorcode.get(err, str(err)),
                                "seconds": round(took, 2), "requests": seen,
                                "recovered": recovered}) + "\n")


def read_lines(log_lines):
    """The log lines of reads: not those of the link state (the API down,
    or back), logged once per change and tested in test_link.py."""
    return [ln for ln in log_lines if not ln.startswith("linkupfs: the API ")]


def fails(mm, mock, fn, want_errno, bound, want_requests, path="conversation",
          at_least=0.0):
    """Run a read that must fail; check errno, time, requests, one log line,
    the process alive. Returns (log line, seconds, requests)."""
    before_log = len(mm.log().splitlines())
    before = requests(mock, path)
    err, took = attempt(fn)
    seen = requests(mock, path) - before
    assert err == want_errno, "errno %s, want %s" % (
        errno.errorcode.get(err, err), errno.errorcode[want_errno])
    assert at_least <= took <= bound, "failed after %.2f s, bound %.2f" % (took, bound)
    assert seen == want_requests, "the mock saw %d requests" % seen
    assert mm.proc.poll() is None, "linkupfs died"
    lines = read_lines(mm.log().splitlines()[before_log:])
    assert len(lines) == 1, "want one log line, got %r" % lines
    return lines[0], took, seen


def link_back(mm):
    """Until the mount would ask the API again (its back-off ran out)."""
    wait_for(lambda: statfile.api_lets_go(mm.path), timeout=40)


def recovers(mm, mock, fn, want, path="conversation", want_requests=1):
    """After clear_faults the next read (after the back-off) asks again
    and gets want."""
    mock.clear_faults()
    link_back(mm)
    before = requests(mock, path)
    got = fn()
    assert got == want
    assert requests(mock, path) - before == want_requests
    assert mm.proc.poll() is None
    return True


@pytest.fixture(autouse=True)
def _version(api_version):
    VERSION["now"] = api_version


@pytest.fixture
def m(mock, mount_factory):
    mm = mount_factory(mock, "page_size=100,timeout=%d" % TIMEOUT, env=UTC)
    os.listdir(mm.path)  # the inbox: the faults below hit conversations
    return mm


# Where the API cannot be reached (a timeout, a connection refused or
# reset, a name that does not resolve), a mount with the store (the
# default) goes offline: it serves what the store holds and fails the rest
# fast with ENETDOWN, with a log line of its own (tests/test_store.py). The
# tests of the network below pin what a read meets without it: its errno,
# its time, one log line.
MEMORY_ONLY = "nostore"


@pytest.fixture
def m_memory(mock, mount_factory):
    mm = mount_factory(mock, "page_size=100,timeout=%d" % TIMEOUT,
                       MEMORY_ONLY, env=UTC)
    os.listdir(mm.path)
    return mm


def check_ales(mm, mock, data, fault, want_errno, bound, want_requests,
               at_least=0.0):
    """A fault on alés' one page; returns the log line."""
    want = want_transcript(data, sd.ALES_ID)
    line, took, seen = fails(mm, mock, lambda: read(transcript(mm)), want_errno,
                             bound, want_requests, at_least=at_least)
    assert sd.ALES_DIR in line
    ok = recovers(mm, mock, lambda: read(transcript(mm)), want)
    note(fault, want_errno, took, seen, ok)
    return line


def check_long_page3(mm, mock, data, fault, want_errno=errno.EIO):
    """A fault on page 3 of long-talker-42: pages 1-2 stay known, the
    recovered read fetches pages 3..13 only."""
    want = want_transcript(data, sd.LONG_ID)
    path = transcript(mm, sd.LONG_DIR)
    line, took, seen = fails(mm, mock, lambda: read(path), want_errno,
                             BOUND["answer"], 3)
    assert sd.LONG_DIR in line and "chain request 3" in line, line
    ok = recovers(mm, mock, lambda: read(path), want,
                  want_requests=LONG_PAGES - 2)
    note(fault, want_errno, took, seen, ok)
    return line


# ------------------------------------------------------------ rate limits

def test_rate_limit_with_retry_after_waits_as_told_then_fails_with_eio(
        mock, m, data):
    mock.fault("status", count=-1, path="conversation", match=sd.ALES_ID,
               status=429, retry_after=1)
    line = check_ales(m, mock, data, "429 Retry-After: 1, persistent",
                      errno.EIO, BOUND["retry_after"], TRIES,
                      at_least=RETRIES * 1.0 - 0.1)
    assert "429" in line and "%d times" % TRIES in line


@pytest.fixture
def unpaced(mock, mount_factory):
    """A mount with rate_limit=0: a 429 is then retried as a 5xx is (the
    paced behaviour, a window's wait, is in test_pacing.py)."""
    mm = mount_factory(mock, "page_size=100,timeout=%d,rate_limit=0" % TIMEOUT,
                       env=UTC)
    os.listdir(mm.path)
    return mm


def test_rate_limit_without_retry_after_once_backs_off_and_the_read_succeeds(
        mock, unpaced, data):
    m = unpaced
    mock.fault("status", count=1, path="conversation", match=sd.ALES_ID,
               status=429)
    t0 = time.monotonic()
    assert read(transcript(m)) == want_transcript(data, sd.ALES_ID)
    took = time.monotonic() - t0
    assert 0.2 <= took <= 0.25 + SLACK, took  # the first backoff, 250 ms
    assert [e["status"] for e in mock.api_log("conversation")] == [429, 200]
    note("429 no Retry-After, once", 0, took, 2, True)


def test_rate_limit_without_retry_after_persisting_fails_with_eio(
        mock, unpaced, data):
    m = unpaced
    mock.fault("status", count=-1, path="conversation", match=sd.ALES_ID,
               status=429)
    line = check_ales(m, mock, data, "429 no Retry-After, persistent",
                      errno.EIO, BOUND["retried"], TRIES,
                      at_least=BACKOFF - 0.1)
    assert "429" in line


# ---------------------------------------------------------- server errors

@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_once_is_retried_and_the_read_succeeds(mock, m, data,
                                                            status):
    mock.fault("status", count=1, path="conversation", match=sd.ALES_ID,
               status=status)
    t0 = time.monotonic()
    assert read(transcript(m)) == want_transcript(data, sd.ALES_ID)
    took = time.monotonic() - t0
    assert took <= 0.25 + SLACK, took
    assert [e["status"] for e in mock.api_log("conversation")] == [status, 200]
    assert m.proc.poll() is None
    assert "linkupfs:" not in m.log()  # recovered: nothing to report
    note("%d once" % status, 0, took, 2, True)


# 503 persistent on a conversation is in test_errors.py; here the others
@pytest.mark.parametrize("status", [500, 502])
def test_persistent_server_error_fails_with_eio_after_bounded_retries(
        mock, m, data, status):
    mock.fault("status", count=-1, path="conversation", match=sd.ALES_ID,
               status=status)
    line = check_ales(m, mock, data, "%d persistent" % status, errno.EIO,
                      BOUND["retried"], TRIES, at_least=BACKOFF - 0.1)
    assert str(status) in line and "giving up" in line


# ------------------------------------------------------ refused credentials

@pytest.mark.api_versions(1)
@pytest.mark.parametrize("status,message,names", [
    (401, "Invalid API key", "LINKUP_API_KEY"),
    (401, None, "LINKUP_LOGIN_TOKEN"),   # the mock's "session expired"
    (403, None, "LINKUP_LOGIN_TOKEN"),   # "LinkedIn token expired"
], ids=["401-bad-key", "401-session-expired", "403-token-expired"])
@pytest.mark.valgrind(1)
def test_refused_credential_gives_eacces_at_once_and_names_what_to_fix(
        mock, m, data, status, message, names):
    kw = {"message": message} if message else {}
    mock.fault("status", count=-1, path="conversation", match=sd.ALES_ID,
               status=status, **kw)
    line = check_ales(m, mock, data, "%d (%s)" % (status, names), errno.EACCES,
                      BOUND["answer"], 1)
    assert str(status) in line and names in line, line
    for secret in (mock.api_key, mock.login_token):
        assert secret not in m.log()


@pytest.mark.api_versions(2)
@pytest.mark.parametrize("status,code,errno_,names", [
    (403, "INVALID_API_KEY", errno.EACCES, "LINKUP_API_KEY"),
    (403, "ACCOUNT_INACTIVE", errno.EACCES, "LINKUP_ACCOUNT_ID"),
    (404, "INVALID_ACCOUNT", errno.EACCES, "LINKUP_ACCOUNT_ID"),
    (402, "INSUFFICIENT_CREDITS", errno.EDQUOT, "top up"),
], ids=["403-bad-key", "403-inactive", "404-account", "402-credits"])
def test_v2_error_code_gives_its_errno_at_once_and_names_what_to_fix(
        mock, m, data, status, code, errno_, names):
    mock.fault("status", count=-1, path="conversation", match=sd.ALES_ID,
               status=status, code=code)
    line = check_ales(m, mock, data, "%d %s" % (status, code), errno_,
                      BOUND["answer"], 1)
    assert str(status) in line and code in line and names in line, line
    for secret in (mock.api_key, mock.account_id):
        assert secret not in m.log()
    # v2 errors cost nothing; the recovered read what its answer said
    log = mock.api_log("conversation")
    assert [(e["status"], e["credits"]) for e in log] == [
        (status, 0), (200, mock_state.credits_for(len(data.find(sd.ALES_ID))))]
    assert int(statfile.values(m.path)["credits_spent"]) == mock.stats()["credits"]


def test_bad_request_gives_eio_and_logs_the_api_message(mock, m, data):
    msg = "total_results must be between 1 and 100"
    mock.fault("status", count=-1, path="conversation", match=sd.ALES_ID,
               status=400, message=msg)
    line = check_ales(m, mock, data, "400", errno.EIO, BOUND["answer"], 1)
    assert "400" in line and msg in line, line


@pytest.mark.valgrind(2)
def test_error_status_in_a_200_answer_gives_eio_without_retry(mock, m, data):
    mock.fault("error200", count=-1, path="conversation", match=sd.ALES_ID,
               message="Something went wrong on our side")
    line = check_ales(m, mock, data, "200 status:error", errno.EIO,
                      BOUND["answer"], 1)
    assert "Something went wrong on our side" in line, line


# ------------------------------------------------- broken or foreign answers

# page 1 of these is in test_errors.py; here they break the chain at page 3
@pytest.mark.parametrize("kind,params", BROKEN_ANSWERS + [
    pytest.param("wrong_shape", {"variant": "null_pagination"},
                 id="null_pagination")])
@pytest.mark.valgrind(2)
def test_broken_answer_mid_chain_gives_eio_and_keeps_the_pages_before_it(
        mock, m, data, kind, params):
    mock.fault(kind, count=-1, path="conversation", match=sd.LONG_ID, skip=2,
               **params)
    check_long_page3(m, mock, data, "%s at page 3" % params.get("variant", kind))


@pytest.mark.valgrind(1)
def test_null_pagination_on_the_first_page_is_not_taken_for_the_end(
        mock, m, data):
    # a conversation of 13 pages must not look like one of 1 page
    mock.fault("wrong_shape", count=-1, path="conversation", match=sd.LONG_ID,
               variant="null_pagination")
    want = want_transcript(data, sd.LONG_ID)
    path = transcript(m, sd.LONG_DIR)
    line, took, seen = fails(m, mock, lambda: read(path), errno.EIO,
                             BOUND["answer"], 1)
    ok = recovers(m, mock, lambda: read(path), want, want_requests=LONG_PAGES)
    note("null_pagination at page 1", errno.EIO, took, seen, ok)


@pytest.mark.valgrind(1)
def test_numbers_sent_as_strings_are_read_as_numbers(mock, m, data):
    mock.fault("wrong_shape", count=-1, path="conversation", match=sd.LONG_ID,
               variant="numbers_as_strings")
    t0 = time.monotonic()
    got = read(transcript(m, sd.LONG_DIR))
    took = time.monotonic() - t0
    assert got == want_transcript(data, sd.LONG_ID)
    assert requests(mock) == LONG_PAGES
    assert "linkupfs:" not in m.log()
    # and what was cached is right: no request, same bytes
    mock.clear_faults()
    assert read(transcript(m, sd.LONG_DIR)) == got
    assert requests(mock) == LONG_PAGES
    note("numbers as strings", 0, took, LONG_PAGES, True)


def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/%d/status" % pid)


@pytest.mark.procfs  # VmHWM: under valgrind, valgrind's own
def test_huge_answer_is_refused_with_eio_and_memory_stays_bounded(
        mock, m, data):
    mock.fault("huge", count=-1, path="conversation", match=sd.ALES_ID, mb=40)
    line = check_ales(m, mock, data, "huge body (40 MiB)", errno.EIO,
                      BOUND["huge"], 1)
    assert "larger than" in line, line
    hwm = vm_hwm_kb(m.pid)
    assert hwm < MEM_BOUND_KB, "VmHWM %d kB" % hwm


@pytest.mark.valgrind(2)
def test_proxy_html_error_page_is_retried_then_eio_with_a_clean_log_line(
        mock, m, data):
    mock.fault("html", count=-1, path="conversation", match=sd.ALES_ID,
               status=502)
    line = check_ales(m, mock, data, "HTML 502 from a proxy", errno.EIO,
                      BOUND["retried"], TRIES, at_least=BACKOFF - 0.1)
    assert "502" in line and "<" not in line, line


# ------------------------------------------------------------- the network

@pytest.mark.valgrind(1)
def test_server_that_never_answers_times_out_within_the_timeout(mock, m_memory, data):
    mock.fault("hang", count=-1, path="conversation", match=sd.ALES_ID,
               seconds=60)
    line = check_ales(m_memory, mock, data, "hang", errno.ETIMEDOUT,
                      BOUND["timeout"],
                      1, at_least=TIMEOUT - 0.5)
    assert "timed out" in line, line


def test_server_dripping_a_byte_a_second_times_out(mock, m_memory, data):
    mock.fault("drip", count=-1, path="conversation", match=sd.ALES_ID,
               seconds=60)
    line = check_ales(m_memory, mock, data, "drip 1 byte/s", errno.ETIMEDOUT,
                      BOUND["timeout"], 1, at_least=TIMEOUT - 0.5)
    assert "timed out" in line, line


def test_connection_reset_once_mid_body_is_retried_and_the_read_succeeds(
        mock, m, data):
    mock.fault("reset", count=1, path="conversation", match=sd.ALES_ID)
    t0 = time.monotonic()
    assert read(transcript(m)) == want_transcript(data, sd.ALES_ID)
    took = time.monotonic() - t0
    assert took <= 0.25 + SLACK, took
    assert [e["fault"] for e in mock.api_log("conversation")] == ["reset", None]
    note("reset mid-body, once", 0, took, 2, True)


def test_connection_reset_every_time_gives_eio_after_bounded_retries(
        mock, m_memory, data):
    mock.fault("reset", count=-1, path="conversation", match=sd.ALES_ID)
    check_ales(m_memory, mock, data, "reset mid-body, persistent", errno.EIO,
               BOUND["retried"], TRIES, at_least=BACKOFF - 0.1)


class Nowhere:
    """Stands for a mock at an address where no API answers."""

    def __init__(self, url):
        self.url = url
        self.api_key = "test-api-key-0123456789"
        self.login_token = "test-login-token-AQEDAR0xyz"
        self.account_id = "test-account-id-b3f1c2d4e5"


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    s.close()
    return port


def backing_off(mm, label):
    """While the mount backs off (its last try failed a moment ago): a
    listing fails at once with ENETDOWN and sends nothing."""
    before = int(statfile.strings(mm.path)["requests"])
    err, took = attempt(lambda: os.listdir(mm.path))
    assert err == errno.ENETDOWN, errno.errorcode.get(err, err)
    assert took < 1.0, took
    assert int(statfile.strings(mm.path)["requests"]) == before
    note(label + ", backing off", err, took, 0, "n/a")


@pytest.mark.timing     # the back-off (2 s) must outlast two system calls
def test_refused_connection_gives_eio_then_works_once_the_server_is_up(
        mock_factory, mount_factory, data):
    port = closed_port()
    mm = mount_factory(Nowhere("http://127.0.0.1:%d" % port),
                       "page_size=100,timeout=%d" % TIMEOUT, MEMORY_ONLY,
                       env=UTC)
    # no network mounts anyway: the mount's own try of the inbox failed
    assert statfile.strings(mm.path)["requests"] == str(TRIES)
    link_back(mm)       # 1 s after that one failure
    before_log = len(mm.log().splitlines())
    err, took = attempt(lambda: os.listdir(mm.path))
    assert err == errno.EIO
    assert BACKOFF - 0.1 <= took <= BOUND["retried"], took
    assert statfile.strings(mm.path)["requests"] == str(2 * TRIES)
    lines = read_lines(mm.log().splitlines()[before_log:])
    assert len(lines) == 1 and "refused" in lines[0], lines
    assert mm.proc.poll() is None
    backing_off(mm, "connection refused")   # 2 s after the second
    # the server comes up on that port: the next listing after the
    # back-off asks and works
    mock = mock_factory(extra_args=("--port", str(port)))
    assert mock.port == port
    link_back(mm)
    names = os.listdir(mm.path)
    assert sd.ALES_DIR in names and sd.LONG_DIR in names
    assert read(transcript(mm)) == want_transcript(data, sd.ALES_ID)
    note("connection refused", err, took, TRIES, True)


@pytest.mark.timing     # as above
@pytest.mark.valgrind(2)
def test_unresolvable_host_gives_eio_in_bounded_time_and_is_tried_again(
        mount_factory):
    mm = mount_factory(Nowhere("http://nonexistent.invalid:80"),
                       "page_size=100,timeout=%d" % TIMEOUT, MEMORY_ONLY,
                       env=UTC)
    at_mount = int(statfile.strings(mm.path)["requests"])   # it mounts anyway
    link_back(mm)
    before_log = len(mm.log().splitlines())
    err, took = attempt(lambda: os.listdir(mm.path))
    assert err == errno.EIO
    assert took <= BOUND["retried"], took
    tries = int(statfile.strings(mm.path)["requests"]) - at_mount
    assert 1 <= tries <= TRIES and at_mount == tries
    lines = read_lines(mm.log().splitlines()[before_log:])
    assert len(lines) == 1 and "resolve" in lines[0], lines
    assert mm.proc.poll() is None
    # the failure is remembered for the back-off, then tried again
    backing_off(mm, "name does not resolve")
    link_back(mm)
    err2, _ = attempt(lambda: os.listdir(mm.path))
    assert err2 == errno.EIO
    assert int(statfile.strings(mm.path)["requests"]) == 3 * tries
    note("name does not resolve", err, took, tries, "after the back-off")


# ------------------------------------------------------------- the chain

@pytest.mark.valgrind(1)
def test_cursor_that_does_not_move_mid_chain_ends_with_eio(mock, m, data):
    mock.fault("cursor_stuck", count=-1, path="conversation", match=sd.LONG_ID,
               skip=2)
    line = check_long_page3(m, mock, data, "cursor stuck at page 3")
    assert "cursor did not move" in line, line


@pytest.mark.api_versions(1)  # v2 has no has_next_page: no cursor is the end
@pytest.mark.valgrind(1)
def test_more_pages_announced_without_a_cursor_ends_with_eio(mock, m, data):
    mock.fault("no_cursor", count=-1, path="conversation", match=sd.LONG_ID,
               skip=2)
    line = check_long_page3(m, mock, data, "has_next_page, no cursor")
    assert "no cursor" in line, line


@pytest.mark.valgrind(2)
def test_empty_page_announcing_more_ends_with_eio(mock, m, data):
    mock.fault("empty_has_next", count=-1, path="conversation",
               match=sd.LONG_ID, skip=2)
    line = check_long_page3(m, mock, data, "empty page, has_next_page")
    assert "empty page" in line, line


# ------------------------------------------------------------- the inbox

@pytest.fixture
def fresh(mock, mount_factory):
    """A mount made while the inbox fault is armed: its own read of the
    inbox failed (it mounts anyway), so the first listing asks again."""
    return lambda *more: mount_factory(
        mock, "page_size=100,timeout=%d" % TIMEOUT, *more, env=UTC)


def list_root(mm):
    return sorted(os.listdir(mm.path))


def check_inbox(mm, mock, fault, want_errno, bound, want_requests,
                at_least=0.0):
    link_back(mm)   # the mount's own read met the fault: its back-off
    line, took, seen = fails(mm, mock, lambda: list_root(mm), want_errno,
                             bound, want_requests, path="inbox",
                             at_least=at_least)
    assert "inbox" in line, line
    mock.clear_faults()
    link_back(mm)
    names = list_root(mm)
    assert sd.ALES_DIR in names and sd.LONG_DIR in names and ".stats" in names
    assert len(names) == sd.SAMPLE_CONVERSATION_COUNT + 1
    note("inbox: " + fault, want_errno, took, seen, True)
    return line


def test_inbox_persistent_503_fails_the_listing_with_eio_then_recovers(
        mock, fresh):
    mock.fault("status", count=-1, path="inbox", status=503)
    line = check_inbox(fresh(), mock, "503 persistent", errno.EIO,
                       BOUND["retried"], TRIES, at_least=BACKOFF - 0.1)
    assert "503" in line


@pytest.mark.valgrind(1)
def test_inbox_not_json_fails_the_listing_with_eio_then_recovers(mock, fresh):
    mock.fault("not_json", count=-1, path="inbox")
    check_inbox(fresh(), mock, "not JSON", errno.EIO, BOUND["answer"], 1)


def test_inbox_that_never_answers_times_out_then_recovers(mock, fresh):
    mock.fault("hang", count=-1, path="inbox", seconds=60)
    line = check_inbox(fresh(MEMORY_ONLY), mock, "hang", errno.ETIMEDOUT, BOUND["timeout"],
                       1, at_least=TIMEOUT - 0.5)
    assert "timed out" in line


@pytest.mark.valgrind(1)
def test_inbox_cursor_that_does_not_move_ends_the_listing_with_eio(
        mock, fresh):
    # page 1 points back at itself: the listing must stop at the repeat,
    # not fetch the same page again until inbox_limit is used up
    mock.fault("cursor_stuck", count=-1, path="inbox")
    # page 1, read at mount, is reused: the listing asks for page 2 only
    check_inbox(fresh(), mock, "cursor stuck", errno.EIO, BOUND["answer"], 1)


@pytest.mark.valgrind(2)
def test_inbox_empty_page_announcing_more_fails_and_is_not_kept(mock, fresh):
    # an empty page with a next_cursor is no answer: listing nothing, and
    # keeping that empty root for good, would hide every conversation
    mock.fault("empty_has_next", count=-1, path="inbox")
    # the page read at mount is the one that fails the listing
    check_inbox(fresh(), mock, "empty page with next_cursor", errno.EIO,
                BOUND["answer"], 0)


# ------------------------------------------------- a failure inside read()

@pytest.mark.valgrind(1)
def test_evicted_page_that_cannot_be_fetched_again_fails_read_with_eio(
        mock, mount_factory, data):
    # page 5's size is known (the chain was walked) but its body was evicted
    # from a 1K cache: open() succeeds, read() is what must fail, then work
    # (with the store, the default, the body would come back from the disk)
    mm = mount_factory(mock, "page_size=100,cache_size=1K,timeout=%d" % TIMEOUT,
                       "nostore", env=UTC)
    d = os.path.join(mm.path, sd.LONG_DIR)
    assert len([n for n in os.listdir(d) if n.endswith(".txt")]) == LONG_PAGES + 1
    mock.fault("status", count=-1, path="conversation", match=sd.LONG_ID,
               status=503)
    before_log = len(mm.log().splitlines())
    before = requests(mock)
    with open(os.path.join(d, "page-0005.txt"), "rb") as f:
        err, took = attempt(lambda: f.read())
        seen = requests(mock) - before
        lines = read_lines(mm.log().splitlines()[before_log:])
        # The kernel reads a page once more when its readahead failed: the
        # 503s took the link down, so that second read is refused at once
        # (ENETDOWN, no request) while the mount backs off. One read() is
        # one try of the whole retry sequence (the README says so), logged
        # once, and the refusal, logged once.
        assert seen == TRIES, \
            "one read() made %d requests, %d log lines" % (seen, len(lines))
        assert err in (errno.EIO, errno.ENETDOWN)
        assert len(lines) == 1 + (err == errno.ENETDOWN), lines
        assert BACKOFF - 0.1 <= took <= BOUND["retried"], took
        # page 5 (messages 401..500 from the oldest) starts in the 9th
        # request of the chain (from the newest: 335..434)
        assert all("chain request 9:" in line for line in lines), lines
        assert "503" in lines[0], lines
        assert mm.proc.poll() is None
        mock.clear_faults()
        link_back(mm)
        f.seek(0)
        want = expected.pages(data.find(sd.LONG_ID), 100)[4].encode()
        assert f.read() == want   # the same open file recovers
    # (a 1K cache keeps no page: each READ the kernel sends fetches again
    # the two chain requests that hold page 5)
    assert seen + 2 <= requests(mock) - before <= seen + 4
    note("503 persistent at read() of an evicted page", err, took, seen, True)
