"""linkupfs left mounted all day (issue 4): fresh data after the ttl and on
a check asked for (the user.linkup.check attribute), what a refresh costs, the credit budget, extended attributes, the
read-only mount, conversation= and the log format.  All on a real mount of the
mock API, times in UTC."""

import errno
import json
import math
import os
import re
import shutil
import stat
import subprocess
import time

import pytest

import sample_data as sd
from conftest import wait_for
from lib import statfile
from lib.fsread import errno_of, read

# every test here runs once per LinkupAPI version (tests/conftest.py)
API_VERSIONS = (1, 2)

UTC = {"TZ": "UTC"}
LONG_PAGES = 13
HELLO = "hello from the test"
NEW_FACE = {"key": "fresh-face", "name": "Fresh Face",
            "profile_url": sd.LI + "fresh-face/", "messages": 3}
XATTRS = ("user.linkup.conversation_id", "user.linkup.profile_url",
          "user.linkup.participant", "user.linkup.unread")
XATTR_WRITE_ERRNOS = (errno.EROFS, errno.EPERM, errno.EACCES, errno.ENOTSUP)


# ------------------------------------------------------------------ helpers

def line_of(msg):
    """How a plain one-line TEXT message renders (TZ=UTC)."""
    when = time.strftime("%Y-%m-%d %H:%M:%S",
                         time.gmtime(msg["timestamp"] // 1000))
    return "[%s] %s: %s\n" % (when, msg["sender"], msg["text"])


def mark(mock):
    """The sequence number of the newest request the mock has seen."""
    log = mock.log()
    return log[-1]["seq"] if log else 0


def since(mock, seq, path=None):
    """Requests after mark() returned seq (of one path if given)."""
    return [e for e in mock.log()
            if e["seq"] > seq and (path is None or e["path"] == path)]


def cursors(entries):
    return [e["cursor"] for e in entries]


def check_now(path):
    """Ask for a check now, as a user does on the read-only mount (touch(1)
    gets EROFS): read the user.linkup.check attribute."""
    return os.getxattr(path, "user.linkup.check").decode()


def text_files(d):
    """{name: bytes} of every .txt file of a conversation directory."""
    return {n: read(os.path.join(d, n)) for n in sorted(os.listdir(d))
            if n.endswith(".txt")}


def page_names(d, ext=".txt"):
    return sorted(n for n in os.listdir(d)
                  if n.startswith("page-") and n.endswith(ext))


def credit_lines(mm):
    return [ln for ln in mm.log().splitlines()
            if re.search(r"credit[ _]limit", ln, re.I)]


def conv_dir(mm, name=sd.ALES_DIR, *rest):
    return os.path.join(mm.path, name, *rest)


# ------------------------------------------------------------------ 1. fresh data

def test_new_message_appears_in_transcript_and_the_last_page_after_the_ttl(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=1", env=UTC)
    d = os.path.join(m.path, sd.ALES_DIR)
    old = read(os.path.join(d, "transcript.txt"))
    seq = mark(mock)
    msg = mock.add_message(sd.ALES_ID, HELLO)
    want = line_of(msg)
    assert want.startswith("[2025-04-21 21:13:46] Alés Préw: ")
    t = os.path.join(d, "transcript.txt")
    got = wait_for(lambda: (lambda b: b if want.encode() in b else None)(read(t)),
                   timeout=10)
    assert got == old + want.encode()
    assert read(os.path.join(d, "page-0001.txt")).endswith(want.encode())
    assert os.stat(t).st_size == len(read(t))
    # the check asks for the newest page only: one page holds all 38
    conv = since(mock, seq, "conversation")
    assert conv and set(cursors(conv)) == {None}, conv


@pytest.mark.valgrind(1)
def test_check_after_the_ttl_with_nothing_new_refetches_no_older_page(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=1", env=UTC)
    d = os.path.join(m.path, sd.LONG_DIR)
    before = text_files(d)
    seq = mark(mock)
    t0 = time.monotonic()
    t = os.path.join(d, "transcript.txt")
    # the check is the inbox's head (10 entries, 1 credit): it says the
    # conversation did not change, so no page of it is asked for
    wait_for(lambda: read(t) and since(mock, seq, "inbox"), timeout=10)
    after = text_files(d)
    took = time.monotonic() - t0
    inbox = since(mock, seq, "inbox")
    assert since(mock, seq, "conversation") == []
    assert all(e["total_results"] == 10 and e["credits"] == 1 for e in inbox)
    assert len(inbox) <= 1 + took / 1.0             # one check per ttl
    assert after == before


def test_check_attribute_on_a_conversation_checks_at_once_even_with_a_long_ttl(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=3600", env=UTC)
    d = os.path.join(m.path, sd.ALES_DIR)
    t = os.path.join(d, "transcript.txt")
    old = read(t)
    msg = mock.add_message(sd.ALES_ID, HELLO)
    assert read(t) == old       # trusted for the ttl: no check yet
    assert check_now(d) == "changed"
    assert read(t) == old + line_of(msg).encode()
    assert read(os.path.join(d, "page-0001.txt")).endswith(line_of(msg).encode())


@pytest.mark.valgrind(1)
def test_check_with_nothing_new_costs_exactly_one_request(mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=3600", env=UTC)
    d = os.path.join(m.path, sd.LONG_DIR)
    before = text_files(d)
    seq = mark(mock)
    assert check_now(os.path.join(d, "transcript.txt")) == "unchanged"
    after = text_files(d)
    reqs = since(mock, seq)
    assert [(e["path"], e["cursor"]) for e in reqs] == [("conversation", None)]
    assert after == before


@pytest.mark.valgrind(2)
def test_check_on_the_mount_rereads_the_inbox(mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=3600", env=UTC)
    assert NEW_FACE["key"] not in os.listdir(m.path)
    mock.add_conversation(**NEW_FACE)
    assert NEW_FACE["key"] not in os.listdir(m.path)  # trusted for the ttl
    seq = mark(mock)
    assert check_now(m.path) == "changed"
    assert since(mock, seq, "inbox")
    names = os.listdir(m.path)
    assert NEW_FACE["key"] in names and sd.ALES_DIR in names
    d = os.path.join(m.path, NEW_FACE["key"])
    assert read(os.path.join(d, "transcript.txt")).count(b"\n") == 3


@pytest.mark.valgrind(1)
def test_new_inbox_conversation_appears_after_the_ttl(mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=1", env=UTC)
    os.listdir(m.path)
    mock.add_conversation(**NEW_FACE)
    wait_for(lambda: NEW_FACE["key"] in os.listdir(m.path), timeout=10)


# ------------------------------------------------------------------ 2. refresh cost

@pytest.mark.parametrize("k", [1, 100, 150])
def test_refresh_fetches_only_the_new_messages_and_matches_a_fresh_mount(
        mock, mount_factory, k):
    m = mount_factory(mock, "page_size=100,ttl=3600", env=UTC)
    d = os.path.join(m.path, sd.LONG_DIR)
    before = text_files(d)
    assert len(before) == LONG_PAGES + 1
    old_cursors = {c for c in cursors(mock.api_log("conversation")) if c}
    seq = mark(mock)
    added = [mock.add_message(sd.LONG_ID, "new message %d of %d" % (i + 1, k))
             for i in range(k)]
    check_now(d)
    files = text_files(d)   # transcript.txt and every page file
    for n in page_names(d, ".jsonl") + ["messages.jsonl"]:
        read(os.path.join(d, n))
    conv = since(mock, seq, "conversation")
    budget = math.ceil(k / 100) + 2
    assert len(conv) <= budget, "%d requests for %d new: %s" % (
        len(conv), k, cursors(conv))
    again = [c for c in cursors(conv) if c in old_cursors]
    assert again == [], "pages fetched again after the refresh: %s" % again
    pages = math.ceil((sd.LONG_COUNT + k) / 100)
    assert page_names(d) == ["page-%04d.txt" % i for i in range(1, pages + 1)]
    # pages count from the oldest: the complete ones never change, the last
    # one only grew, and the new messages are at the end of it all
    last = "page-%04d.txt" % LONG_PAGES
    for name in page_names(d)[:LONG_PAGES - 1]:
        assert files[name] == before[name], "%s changed" % name
    assert files[last].startswith(before[last])
    assert files["transcript.txt"].startswith(before["transcript.txt"])
    assert files["transcript.txt"].endswith("".join(line_of(x) for x in added).encode())
    assert b"".join(files[n] for n in page_names(d)) == files["transcript.txt"]
    # nothing was pushed out of a 64M cache: a refresh replaces nothing
    assert statfile.strings(m.path)["cache_evictions"] == "0"
    fresh = mount_factory(mock, "page_size=100", env=UTC)
    fd = os.path.join(fresh.path, sd.LONG_DIR)
    assert sorted(os.listdir(d)) == sorted(os.listdir(fd))
    want = text_files(fd)
    for name in want:
        assert files[name] == want[name], "%s differs from a fresh mount" % name


@pytest.mark.valgrind(2)
def test_json_lines_after_a_refresh_hold_what_a_fresh_mount_shows(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=3600", env=UTC)
    d = os.path.join(m.path, sd.LONG_DIR)
    read(os.path.join(d, "transcript.txt"))
    for i in range(150):
        mock.add_message(sd.LONG_ID, "new message %d" % i)
    check_now(d)
    fresh = mount_factory(mock, "page_size=100", env=UTC)
    fd = os.path.join(fresh.path, sd.LONG_DIR)
    names = page_names(fd, ".jsonl")
    assert page_names(d, ".jsonl") == names and len(names) == 14
    for n in names + ["messages.jsonl"]:
        assert read(os.path.join(d, n)) == read(os.path.join(fd, n)), n
        got = [json.loads(x) for x in read(os.path.join(d, n)).splitlines()]
        assert got and all("entity_urn" in x for x in got), n


def test_kernel_page_cache_never_serves_stale_bytes_after_a_refresh(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=3600", env=UTC)
    d = os.path.join(m.path, sd.ALES_DIR)
    paths = [os.path.join(d, n) for n in ("transcript.txt", "page-0001.txt")]
    old = {}
    for p in paths:
        with open(p, "rb") as f:
            old[p] = f.read()
        assert os.stat(p).st_size == len(old[p])
    msg = mock.add_message(sd.ALES_ID, HELLO)
    check_now(d)
    for p in paths:
        with open(p, "rb") as f:
            new = f.read()
        assert new == old[p] + line_of(msg).encode(), p
        assert os.stat(p).st_size == len(new), p


@pytest.mark.valgrind(1)
def test_files_stay_whole_after_many_small_refreshes(mock, mount_factory):
    # a day of one-message refreshes: each adds a fetched chunk; a read
    # spanning them all must still return every byte (a short read is EOF)
    m = mount_factory(mock, "page_size=100,ttl=3600", env=UTC)
    d = os.path.join(m.path, sd.ALES_DIR)
    read(os.path.join(d, "transcript.txt"))
    added = []
    for i in range(80):
        added.append(mock.add_message(sd.ALES_ID, "refresh %d" % i))
        check_now(d)
    files = text_files(d)
    last = files["transcript.txt"].decode().splitlines()[-1]
    assert last + "\n" == line_of(added[-1]), "transcript ends early: %r" % last
    assert files["transcript.txt"].endswith(
        "".join(line_of(x) for x in added).encode())
    for name, data in files.items():
        assert os.stat(os.path.join(d, name)).st_size == len(data), name
    fresh = mount_factory(mock, "page_size=100", env=UTC)
    assert files == text_files(os.path.join(fresh.path, sd.ALES_DIR))


# ------------------------------------------------------------------ 3. budget

@pytest.mark.valgrind(2)
def test_credit_limit_stops_requests_with_edquot_and_cached_pages_stay(
        mock, mount_factory):
    limit = 25
    m = mount_factory(mock, "page_size=100,inbox_limit=0,credit_limit=%d" % limit,
                      "conversation=" + sd.ALES_URL,
                      "conversation=" + sd.LONG_URL, env=UTC)
    # the mount fetched each one's newest page: 4 + 10 credits; Alés'
    # 37 messages are all there
    assert mock.stats()["credits"] == 14
    a = os.path.join(m.path, sd.ALES_DIR, "transcript.txt")
    ales = read(a)
    d = os.path.join(m.path, sd.LONG_DIR)
    # the long one's pages need its whole chain: two more requests are
    # made while less than 25 are spent (24, then 34), the next is refused
    assert errno_of(read, os.path.join(d, "page-0001.txt")) == errno.EDQUOT
    spent = mock.stats()["credits"]
    assert spent == 34
    n = len(mock.log())
    assert errno_of(read, os.path.join(d, "page-0002.txt")) == errno.EDQUOT
    assert errno_of(read, os.path.join(d, "transcript.txt")) == errno.EDQUOT
    assert len(mock.log()) == n         # nothing was sent
    assert read(a) == ales
    lines = credit_lines(m)
    assert 1 <= len(lines) <= 3, m.log()
    assert all(ln.startswith("linkupfs: ") for ln in lines), lines
    s = statfile.strings(m.path)
    assert int(s["credits_spent"]) == spent == mock.stats()["credits"]
    assert s.get("credits_left") == str(max(0, limit - spent)), s


@pytest.mark.valgrind(1)
def test_cached_files_stay_readable_after_the_ttl_once_the_budget_is_spent(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100,ttl=1,credit_limit=4,inbox_limit=0",
                      "conversation=" + sd.ALES_URL, env=UTC)
    t = os.path.join(m.path, sd.ALES_DIR, "transcript.txt")
    old = read(t)                       # 37 messages: 4 credits, all spent
    n = len(mock.log())
    time.sleep(1.2)     # nothing to poll: the ttl must pass, a check be due
    assert read(t) == old
    assert os.stat(t).st_size == len(old)
    assert len(mock.log()) == n


@pytest.mark.valgrind(2)
def test_credits_spent_follow_the_api_rule_per_request(mock, mount_factory):
    m = mount_factory(mock, "page_size=100,credit_limit=1000", env=UTC)
    read(os.path.join(m.path, sd.LONG_DIR, "transcript.txt"))
    read(os.path.join(m.path, sd.ALES_DIR, "transcript.txt"))
    # 1 credit per 10 results or fraction: 12 full pages, then 34 and 37
    conv = sum(e["credits"] for e in mock.api_log("conversation"))
    assert conv == 12 * 10 + 4 + 4
    spent = mock.stats()["credits"]
    s = statfile.strings(m.path)
    assert int(s["credits_spent"]) == spent
    assert s.get("credits_left") == str(1000 - spent), s


def test_stats_without_a_limit_say_none(mnt):
    s = statfile.strings(mnt.path)
    assert s["credit_limit"] == "none"
    assert s.get("credits_left", "none") == "none"
    assert "credits_spent" in s


# ------------------------------------------------------------------ 4. xattrs, mtimes

@pytest.mark.valgrind
def test_xattrs_on_a_conversation_directory_and_its_files(mnt):
    d = conv_dir(mnt)
    want = {"user.linkup.conversation_id": sd.ALES_ID.encode(),
            "user.linkup.profile_url": sd.ALES_URL.encode(),
            "user.linkup.participant": sd.ALES_NAME.encode(),
            "user.linkup.unread": b"2"}
    for name in ("", "conversation.json", "transcript.txt", "messages.jsonl",
                 "page-0001.txt", "page-0001.jsonl"):
        p = os.path.join(d, name) if name else d
        assert set(XATTRS) <= set(os.listxattr(p)), p
        for k, v in want.items():
            assert os.getxattr(p, k) == v, (p, k)
    assert os.getxattr(os.path.join(d, "page-0001.txt"), "user.linkup.page") == b"1"
    assert os.getxattr(os.path.join(d, "page-0001.txt"), "user.linkup.messages") == b"37"
    assert os.getxattr(os.path.join(d, "transcript.txt"), "user.linkup.messages") == b"37"


def test_xattrs_give_page_number_and_message_count(mnt):
    d = conv_dir(mnt, sd.LONG_DIR)
    for name in ("page-0003.txt", "page-0003.jsonl"):
        p = os.path.join(d, name)
        assert os.getxattr(p, "user.linkup.page") == b"3"
        assert os.getxattr(p, "user.linkup.messages") == b"100"
        assert {"user.linkup.page", "user.linkup.messages"} <= set(os.listxattr(p))
    # pages count from the oldest: the last one holds what is left
    assert os.getxattr(os.path.join(d, "page-0013.txt"), "user.linkup.messages") == b"34"
    assert os.getxattr(os.path.join(d, "page-0013.jsonl"), "user.linkup.messages") == b"34"
    assert os.getxattr(os.path.join(d, "transcript.txt"),
                       "user.linkup.messages") == str(sd.LONG_COUNT).encode()
    assert int(os.getxattr(d, "user.linkup.unread")) == 0


def test_missing_xattr_is_enodata_and_xattrs_cannot_be_changed(mnt):
    d = conv_dir(mnt)
    t = os.path.join(d, "transcript.txt")
    for p in (d, t):
        assert errno_of(os.getxattr, p, "user.linkup.nope") == errno.ENODATA
    assert errno_of(os.getxattr, t, "user.linkup.page") == errno.ENODATA
    assert errno_of(os.getxattr, d, "user.linkup.page") == errno.ENODATA
    for p in (d, t):
        assert errno_of(os.setxattr, p, "user.linkup.unread", b"0") in XATTR_WRITE_ERRNOS
        assert errno_of(os.setxattr, p, "user.mine", b"x") in XATTR_WRITE_ERRNOS
        assert errno_of(os.removexattr, p, "user.linkup.unread") in XATTR_WRITE_ERRNOS
    assert os.getxattr(d, "user.linkup.unread") == b"2"


@pytest.mark.valgrind(2)
def test_getfattr_dumps_the_attributes(mnt):
    if not shutil.which("getfattr"):
        pytest.skip("getfattr missing: tests/deps.sh installs attr")
    p = conv_dir(mnt, sd.LONG_DIR, "page-0003.txt")
    r = subprocess.run(["getfattr", "-d", "--absolute-names", p],
                       capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"))
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    for want in ('user.linkup.conversation_id="%s"' % sd.LONG_ID,
                 'user.linkup.profile_url="%s"' % sd.LONG_URL,
                 'user.linkup.participant="%s"' % sd.LONG_NAME,
                 'user.linkup.unread="0"', 'user.linkup.page="3"',
                 'user.linkup.messages="100"'):
        assert want in out, r.stdout


def test_file_mtime_is_the_time_of_its_newest_message(mnt):
    d = conv_dir(mnt)
    for name in ("page-0001.txt", "transcript.txt"):
        assert int(os.stat(os.path.join(d, name)).st_mtime) == sd.ALES_LAST // 1000
    # page 2 of the long one ends with message 200 (pages count from
    # the oldest)
    newest2 = (sd.LONG_FIRST + (200 - 1) * 60000) // 1000
    assert int(os.stat(conv_dir(mnt, sd.LONG_DIR, "page-0002.txt")).st_mtime) == newest2


# ------------------------------------------------------------------ 5. read-only, conversation=, config

def erofs_cases(m):
    """(what, call) pairs: every way to change the mount a user may try."""
    d = os.path.join(m.path, sd.ALES_DIR)
    f = os.path.join(d, "transcript.txt")
    return [
        ("rm", lambda: os.unlink(f)),
        ("mv", lambda: os.rename(d, os.path.join(m.path, "renamed"))),
        ("ln -s", lambda: os.symlink("/etc/passwd", os.path.join(d, "link"))),
        ("touch NEW", lambda: open(os.path.join(d, "new.txt"), "a").close()),
        ("open O_WRONLY", lambda: os.close(os.open(f, os.O_WRONLY))),
        ("mkdir", lambda: os.mkdir(os.path.join(m.path, sd.LONG_DIR + "-x"))),
        ("rmdir", lambda: os.rmdir(d)),
    ]


@pytest.mark.valgrind(1)
def test_every_change_fails_with_erofs_even_for_root(mock, mount_factory):
    assert os.geteuid() == 0  # the kernel's answer, not a permission check
    m = mount_factory(mock, "page_size=100", env=UTC)
    os.listdir(m.path)
    for what, call in erofs_cases(m):
        assert errno_of(call) == errno.EROFS, what
    assert sd.ALES_DIR in os.listdir(m.path)


def test_the_mount_is_flagged_read_only(mock, mount_factory):
    m = mount_factory(mock, env=UTC)
    opts = subprocess.run(["findmnt", "-no", "OPTIONS", m.path],
                          capture_output=True, text=True, check=True).stdout
    assert "ro" in opts.strip().split(",")
    assert os.statvfs(m.path).f_flag & os.ST_RDONLY
    st = os.stat(m.path)
    assert stat.S_IMODE(st.st_mode) == 0o555


@pytest.mark.parametrize("form", ["slug", "url", "id"])
@pytest.mark.valgrind(2)
def test_conversation_option_takes_a_slug_a_profile_url_or_an_id(
        mock, mount_factory, form):
    ref = {"slug": sd.LONG_DIR, "url": sd.LONG_URL, "id": sd.LONG_ID}[form]
    # in -o, a comma separates options: the URN's own are escaped
    m = mount_factory(mock, "page_size=100,inbox_limit=0",
                      "conversation=" + ref.replace(",", "\\,"), env=UTC)
    # checked at mount: one request, the newest page, then reused
    reqs = since(mock, 0)
    assert [e["path"] for e in reqs] == ["conversation"]
    assert reqs[0]["cursor"] is None
    names = [n for n in os.listdir(m.path) if n != ".stats"]
    assert len(names) == 1
    if form != "id":  # by id alone, a name derived from the id (SPEC 3)
        assert names == [sd.LONG_DIR]
    # pages count from the oldest: the newest message is on the last one,
    # and the walk to it reuses the page fetched at mount
    assert b"message 1234 " in read(os.path.join(m.path, names[0],
                                                 "page-%04d.txt" % LONG_PAGES))
    got = cursors(since(mock, 0))
    assert len(got) == LONG_PAGES and len(set(got)) == LONG_PAGES


@pytest.mark.valgrind(1)
def test_conversation_slug_as_ls_shows_it_finds_an_accented_profile(
        mock, mount_factory):
    m = mount_factory(mock, "page_size=100,inbox_limit=0",
                      "conversation=" + sd.ALES_DIR, env=UTC)
    assert [e["conversation"] for e in since(mock, 0)] == [sd.ALES_URL]
    assert sd.ALES_NAME.encode() in read(os.path.join(m.path, sd.ALES_DIR,
                                                      "page-0001.txt"))


@pytest.mark.valgrind(1, 2)
def test_conversation_the_api_does_not_know_is_not_listed(mock, mount_factory):
    m = mount_factory(mock, "page_size=100,inbox_limit=0",
                      "conversation=no-such-person-xyz",
                      "conversation=" + sd.LONG_URL, env=UTC)
    assert sorted(os.listdir(m.path)) == [".stats", sd.LONG_DIR]
    bad = os.path.join(m.path, "no-such-person-xyz")
    assert errno_of(os.stat, bad) == errno.ENOENT
    stats = read(os.path.join(m.path, ".stats")).decode()
    assert "conversations_not_found: 1\n" in stats
    assert len([ln for ln in m.log().splitlines()
                if "no-such-person-xyz" in ln and "not listed" in ln]) == 1
    assert len(since(mock, 0, "conversation")) == 2  # never asked again


@pytest.mark.valgrind(1)
def test_listing_a_conversation_the_api_stopped_knowing_is_eio_not_empty(
        mock, mount_factory, api_version):
    m = mount_factory(mock, "page_size=100", env=UTC)
    os.listdir(m.path)
    # v1 answers 404; v2's 404 is INVALID_ACCOUNT, and the mock says
    # "not found" as an INVALID_PARAMS (tests/mock_answers.py)
    kw = {"status": 404} if api_version == 1 else {
        "status": 400, "message": "Conversation not found"}
    mock.fault("status", count=-1, path="conversation", match=sd.ALES_ID, **kw)
    # ENOENT from getdents would read as an empty directory
    assert errno_of(os.listdir, os.path.join(m.path, sd.ALES_DIR)) == errno.EIO
    mock.clear_faults()


@pytest.mark.valgrind(2)
def test_conversation_lines_in_the_config_file_appear_at_the_root(
        mock, mount_factory, tmp_path):
    cfg = tmp_path / "config" / "linkupfs" / "config"
    cfg.parent.mkdir(parents=True)
    cfg.write_text("# added by hand\nconversation = %s\nconversation = %s\n"
                   % (sd.LONG_URL, sd.HOSTILE_URL))
    cfg.chmod(0o600)
    m = mount_factory(mock, "page_size=100,inbox_limit=0", env=UTC)
    assert sorted(os.listdir(m.path)) == [".stats", sd.HOSTILE_DIR, sd.LONG_DIR]
    assert b"goodbye" in read(os.path.join(m.path, sd.HOSTILE_DIR, "transcript.txt"))


# ------------------------------------------------------------------ 6. logs

@pytest.mark.valgrind(1)
def test_error_lines_in_the_foreground_log_are_one_prefixed_line_each(
        mock, mount_factory):
    # the mount's check of the first conversation fails, and so does the
    # read after it
    mock.fault("status", count=2, path="conversation", match="aa0262324",
               status=400, message="Bad\nrequest \x1b[31mred\x1b[0m\r\nthird")
    m = mount_factory(mock, "page_size=100,inbox_limit=0,credit_limit=20,timeout=5",
                      "conversation=" + sd.ALES_URL,
                      "conversation=" + sd.LONG_URL, env=UTC)
    assert errno_of(read, os.path.join(m.path, sd.ALES_DIR, "transcript.txt")) == errno.EIO
    # the long one's pages need its whole chain: the budget runs out
    assert errno_of(read, os.path.join(m.path, sd.LONG_DIR,
                                       "page-0003.txt")) == errno.EDQUOT
    log = m.log()
    assert log.strip(), "no error was logged"
    lines = log.splitlines()
    bad = [ln for ln in lines if ln and not ln.startswith("linkupfs: ")]
    assert bad == [], log
    assert "\x1b" not in log and "\r" not in log
    assert any("400" in ln or "Bad" in ln for ln in lines), log
    assert credit_lines(m), log


@pytest.mark.valgrind
def test_debug_logs_each_http_request_without_secrets(mock, mount_factory,
                                                      api_version):
    m = mount_factory(mock, "page_size=100", extra_args=["-d"], env=UTC)
    read(os.path.join(m.path, sd.ALES_DIR, "page-0001.txt"))
    lines = [ln for ln in m.log().splitlines() if ln.startswith("linkupfs: POST ")]
    inbox, conv = ("/v1/messages/inbox", "/v1/messages/conversation") \
        if api_version == 1 else ("/v2/messages", "/v2/messages")
    assert re.match(r"linkupfs: POST %s: HTTP 200, \d+ ms$" % inbox,
                    lines[0]), lines
    assert len(lines) == 2 and ("%s: HTTP 200" % conv) in lines[1], lines
    for secret in (mock.api_key, mock.login_token, mock.account_id):
        assert secret not in m.log()
