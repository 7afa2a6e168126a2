"""The read path on a real mount: layout, names, text, sizes, the cursor
chain, the cache, everyday tools."""

import errno
import json
import mmap
import os
import shutil
import subprocess
import threading

import pytest

import expected
import sample_data as sd
from lib import statfile
from lib.fsread import read
import mock_answers

# every test here runs once per LinkupAPI version (tests/conftest.py)
API_VERSIONS = (1, 2)

UTC = {"TZ": "UTC"}


@pytest.fixture
def m(mock, mount_factory):
    return mount_factory(mock, "page_size=100", env=UTC)


def conv_requests(mock, match=None):
    return [e for e in mock.api_log("conversation")
            if match is None or match in (e["conversation"] or "")]


def test_root_lists_every_inbox_conversation_under_its_slug(mock, m, data):
    names = sorted(os.listdir(m.path))
    assert ".stats" in names
    convs = [n for n in names if n != ".stats"]
    assert len(convs) == len(data.conversations)
    for want in (sd.ALES_DIR, sd.LONG_DIR, sd.EMPTY_DIR, sd.HOSTILE_DIR,
                 "dup-name", "dup-name-2", "person-01", "person-20"):
        assert want in convs
    # no slug: a stable name from the id; never "..", never a "/"
    derived = [n for n in convs if n.startswith("conv-")]
    assert len(derived) == 2
    for n in convs:
        assert n not in (".", "..") and "/" not in n and len(n.encode()) <= 255


def test_names_are_stable_across_mounts(mock, mount_factory):
    a = mount_factory(mock, env=UTC)
    first = sorted(os.listdir(a.path))
    a.unmount()
    b = mount_factory(mock, env=UTC)
    assert sorted(os.listdir(b.path)) == first


def test_mount_reads_the_inbox_once_and_listing_the_root_reuses_it(mock, m):
    at_mount = mock.log()
    assert [e["path"] for e in at_mount] == ["inbox"]
    os.listdir(m.path)
    assert mock.log() == at_mount


@pytest.mark.valgrind(2)
def test_ls_l_of_root_walks_no_conversation(mock, m):
    out = subprocess.run(["ls", "-lt", m.path], capture_output=True,
                         text=True, check=True).stdout
    assert sd.LONG_DIR in out
    assert conv_requests(mock) == []


def test_ls_t_lists_most_recent_conversation_first(m, data):
    out = subprocess.run(["ls", "-t", m.path], capture_output=True,
                         text=True, check=True).stdout.split()
    out = [n for n in out if n != ".stats"]
    assert out[:3] == [sd.ALES_DIR, sd.LONG_DIR, sd.HOSTILE_DIR]
    st = os.stat(os.path.join(m.path, sd.ALES_DIR))
    assert int(st.st_mtime) == sd.ALES_LAST // 1000


def test_long_conversation_has_one_page_file_per_chain_request(mock, m):
    d = os.path.join(m.path, sd.LONG_DIR)
    names = os.listdir(d)
    n = expected.page_count(sd.LONG_COUNT, 100)
    assert n == 13
    pages = sorted(x for x in names if x.endswith(".txt") and x.startswith("page-"))
    assert pages == ["page-%04d.txt" % i for i in range(1, n + 1)]
    jsonl = sorted(x for x in names if x.endswith(".jsonl") and x.startswith("page-"))
    assert jsonl == ["page-%04d.jsonl" % i for i in range(1, n + 1)]
    for x in ("conversation.json", "transcript.txt", "messages.jsonl"):
        assert x in names
    assert len(conv_requests(mock)) == n  # the walk: one request per page


def test_transcript_is_every_message_oldest_first_in_the_text_format(m, data):
    conv = data.find(sd.LONG_ID)
    want = "".join(expected.render(x) for x in expected.messages(conv))
    got = read(os.path.join(m.path, sd.LONG_DIR, "transcript.txt")).decode()
    assert got == want
    assert got.startswith("[")
    assert "message 0001 " in got.splitlines()[0]
    assert "message 1234 " in got.splitlines()[-1]


def test_accents_emoji_multiline_and_system_messages(m, data):
    conv = data.find(sd.ALES_ID)
    got = read(os.path.join(m.path, sd.ALES_DIR, "transcript.txt")).decode()
    want = "".join(expected.render(x) for x in expected.messages(conv))
    assert got == want
    lines = got.splitlines()
    assert lines[-1] == "[2025-04-21 21:13:45] Titouan Prioux: 😃"
    assert lines[-2] == "[2025-04-21 20:54:58] Alés Préw (SYSTEM)"
    assert "  - mardi 14h" in lines
    assert "\r" not in got


def test_page_files_hold_page_size_messages_each_counted_from_the_oldest(m, data):
    conv = data.find(sd.LONG_ID)
    want = expected.pages(conv, 100)
    d = os.path.join(m.path, sd.LONG_DIR)
    assert len(want) == 13
    for i, text in enumerate(want, 1):
        assert read(os.path.join(d, "page-%04d.txt" % i)).decode() == text
    assert "message 0001 " in want[0].splitlines()[0]
    assert want[12].count("\n") == 34     # the last page: what is left


def test_transcript_and_messages_jsonl_equal_the_pages_in_shell_order(m):
    d = os.path.join(m.path, sd.LONG_DIR)
    for pages, whole in (("page-*.txt", "transcript.txt"),
                         ("page-*.jsonl", "messages.jsonl")):
        out = subprocess.run("cat " + pages, shell=True, cwd=d,
                             capture_output=True, check=True).stdout
        assert out == read(os.path.join(d, whole)), whole


def test_stat_size_is_exact_for_every_file(m):
    for name in (sd.LONG_DIR, sd.ALES_DIR, sd.EMPTY_DIR, sd.HOSTILE_DIR):
        d = os.path.join(m.path, name)
        for f in os.listdir(d):
            p = os.path.join(d, f)
            assert os.stat(p).st_size == len(read(p)), p


def test_empty_conversation_has_no_pages_and_an_empty_transcript(m):
    d = os.path.join(m.path, sd.EMPTY_DIR)
    assert sorted(os.listdir(d)) == ["conversation.json", "messages.jsonl",
                                     "transcript.txt"]
    assert read(os.path.join(d, "transcript.txt")) == b""
    assert read(os.path.join(d, "messages.jsonl")) == b""


def test_json_lines_are_the_api_messages_oldest_first_matching_the_text(m, data,
                                                                       api_version):
    d = os.path.join(m.path, sd.LONG_DIR)
    conv = data.find(sd.LONG_ID)
    urns = [conv.message(i)["entity_urn"] for i in range(len(conv))]
    seen = []
    for i in range(1, 14):
        lines = read(os.path.join(d, "page-%04d.jsonl" % i)).split(b"\n")
        assert lines[-1] == b""         # every line ends with a newline
        msgs = [json.loads(x) for x in lines[:-1]]
        assert all(set(x) >= {"text", "timestamp", "entity_urn"} for x in msgs)
        seen += [x["entity_urn"] for x in msgs]
        txt = read(os.path.join(d, "page-%04d.txt" % i)).decode()
        assert txt.count("\n[") + 1 == len(msgs)
    assert seen == urns
    whole = [json.loads(x) for x in read(os.path.join(d, "messages.jsonl")).splitlines()]
    assert [x["entity_urn"] for x in whole] == urns
    # the message as the API gave it: v2's sender_info adds profile_url
    given = conv.message(0)
    if api_version == 2:
        given = mock_answers.v2_message(conv, given)
        assert whole[0]["sender_info"]["profile_url"] == conv.profile_url
    assert whole[0] == given


def test_conversation_json_has_the_metadata(m, data, api_version):
    meta = json.loads(read(os.path.join(m.path, sd.ALES_DIR,
                                        "conversation.json")))
    assert meta["conversation_id"] == sd.ALES_ID
    assert meta["profile_url"] == sd.ALES_URL
    assert meta["participant"]["name"] == sd.ALES_NAME
    assert meta["participant"]["headline"] == data.find(sd.ALES_ID).headline
    conv = data.find(sd.ALES_ID)
    if api_version == 2:    # v2 counts every message, not the other's
        assert meta["total_other_member_message_count"] is None
        assert meta["total_message_count"] == len(conv)
    else:
        assert meta["total_other_member_message_count"] == conv.other_count
        assert "total_message_count" not in meta


def test_grep_r_finds_messages_across_the_mount(m):
    out = subprocess.run(["grep", "-r", "message 0777 ", m.path],
                         capture_output=True, text=True)
    assert out.returncode == 0
    files = {line.split(":", 1)[0] for line in out.stdout.splitlines()}
    d = os.path.join(m.path, sd.LONG_DIR)
    # pages count from the oldest: 701..800 is page 8
    assert files == {os.path.join(d, f) for f in
                     ("transcript.txt", "messages.jsonl", "page-0008.txt",
                      "page-0008.jsonl")}


def test_tail_shows_the_newest_messages(m):
    out = subprocess.run(["tail", "-n", "1",
                          os.path.join(m.path, sd.LONG_DIR, "transcript.txt")],
                         capture_output=True, text=True, check=True).stdout
    assert "message 1234 " in out


def test_cp_copies_exact_bytes(m, tmp_path):
    src = os.path.join(m.path, sd.ALES_DIR, "transcript.txt")
    dst = tmp_path / "copy.txt"
    shutil.copy(src, dst)
    assert dst.read_bytes() == read(src)
    assert dst.stat().st_size == os.stat(src).st_size


def test_mmap_reader_sees_the_content(m):
    d = os.path.join(m.path, sd.LONG_DIR)
    # a full page never changes: the kernel caches it, MAP_SHARED works
    full = os.path.join(d, "page-0001.txt")
    with open(full, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        assert mm[:] == read(full)
    # a file that may grow is read through linkupfs (direct_io): MAP_PRIVATE
    # sees it whole, MAP_SHARED is refused with ENODEV (README, Limitations)
    p = os.path.join(d, "transcript.txt")
    data = read(p)
    with open(p, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY) as mm:
        assert mm[:] == data
    with open(p, "rb") as f:
        with pytest.raises(OSError) as e:
            mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        assert e.value.errno == errno.ENODEV


def test_second_read_makes_no_request(mock, m):
    p = os.path.join(m.path, sd.LONG_DIR, "transcript.txt")
    first = read(p)
    before = len(mock.log())
    # a new open, and a file's bytes read through another path
    assert read(p) == first
    read(os.path.join(m.path, sd.LONG_DIR, "page-0005.txt"))
    assert len(mock.log()) == before


def test_concurrent_cold_readers_make_one_walk(mock, m):
    p = os.path.join(m.path, sd.LONG_DIR, "transcript.txt")
    os.listdir(m.path)
    results = []

    def reader():
        results.append(read(p))

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and len(set(results)) == 1
    cursors = [e["cursor"] for e in conv_requests(mock)]
    assert len(cursors) == 13 and len(set(cursors)) == 13


def test_two_conversations_are_fetched_at_the_same_time(mock_factory, mount_factory):
    mk = mock_factory(latency_ms=300)
    mm = mount_factory(mk, "page_size=100", env=UTC)
    os.listdir(mm.path)
    mk.reset()
    names = [sd.ALES_DIR, sd.HOSTILE_DIR, "person-01", "person-02"]
    threads = [threading.Thread(target=read, args=(
        os.path.join(mm.path, n, "transcript.txt"),)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert mk.stats()["max_active"] >= 2


def test_tiny_cache_still_serves_every_read_and_refetches_one_page(
        mock, mount_factory, data):
    # without the store: with it (the default) the page comes back from the
    # disk, no request (tests/test_store.py)
    mm = mount_factory(mock, "page_size=100,cache_size=1K,nostore", env=UTC)
    d = os.path.join(mm.path, sd.LONG_DIR)
    conv = data.find(sd.LONG_ID)
    want = "".join(expected.render(x) for x in expected.messages(conv))
    assert read(os.path.join(d, "transcript.txt")).decode() == want
    before = len(conv_requests(mock))
    # page 7 was evicted: coming back costs the chunks that hold it, and
    # pages (from the oldest) straddle two chain requests (from the newest)
    assert read(os.path.join(d, "page-0007.txt")).decode() == \
        expected.pages(conv, 100)[6]
    assert len(conv_requests(mock)) - before == 2
    stats = read(os.path.join(mm.path, ".stats")).decode()
    assert "cache_budget: 1024" in stats


@pytest.mark.valgrind(2)
def test_repeated_boundary_messages_are_dropped_by_entity_urn(
        mock, mount_factory, data):
    mock.set(inclusive_cursor=True)
    mm = mount_factory(mock, "page_size=100", env=UTC)
    conv = data.find(sd.LONG_ID)
    want = "".join(expected.render(x) for x in expected.messages(conv))
    got = read(os.path.join(mm.path, sd.LONG_DIR, "transcript.txt")).decode()
    assert got == want


def test_hostile_text_reaches_no_terminal_raw(m):
    d = os.path.join(m.path, sd.HOSTILE_DIR)
    raw = read(os.path.join(d, "transcript.txt"))
    text = raw.decode("utf-8")  # valid UTF-8: invalid bytes were repaired
    for ch in text:
        o = ord(ch)
        assert ch in "\n\t" or not (o < 0x20 or 0x7f <= o <= 0x9f), repr(ch)
    assert "\\x1b[2J" in text and "\\x1b]0;pwned title\\x07" in text
    assert "\ufffd" in text
    assert "0123456789abcdef" * 4096 in text
    assert os.stat(os.path.join(d, "transcript.txt")).st_size == len(raw)
    # the sender's newline does not start a line of its own
    assert not any(line.startswith("Name") for line in text.splitlines())


def test_every_message_text_reaches_the_transcript_and_no_bidi_control_raw(m, data):
    transcript = os.path.join(m.path, sd.HOSTILE_DIR, "transcript.txt")
    raw = read(transcript)
    conv = data.find(sd.HOSTILE_ID)
    assert raw.decode("utf-8") == "".join(expected.render(x)
                                          for x in expected.messages(conv))
    # a NUL (JSON "\u0000") shows as \x00 and hides nothing after it
    out = subprocess.run(["grep", "-c", "nul at start", transcript],
                         capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "1"
    assert b": \\x00nul at start\n" in raw
    assert b"C0: nul\\x00 soh\\x01" in raw
    assert b"access <U+202E>resu<U+2066> granted<U+2069> \xe2\x80\x8fmark" in raw
    assert b"Bidi <U+202E>esrever: " in raw
    # "Trojan Source": no file or name of the mount carries a bidi control
    bidi = [chr(c).encode() for c in sorted(expected.BIDI_CONTROLS)]
    for top, dirs, files in os.walk(m.path):
        for name in dirs + files:
            assert not any(b in name.encode() for b in bidi), name
        for name in files:
            body = read(os.path.join(top, name))
            assert not any(b in body for b in bidi), os.path.join(top, name)


def test_stats_reports_requests_credits_and_cache(mock, m):
    read(os.path.join(m.path, sd.ALES_DIR, "transcript.txt"))
    stats = dict(line.split(": ", 1) for line in
                 read(os.path.join(m.path, ".stats")).decode().splitlines())
    for key in ("requests", "requests_retried", "credits_spent", "cache_hits",
                "cache_misses", "cache_bytes", "cache_budget",
                "cache_evictions", "errors"):
        assert key in stats
    assert int(stats["requests"]) == len(mock.log())
    assert int(stats["credits_spent"]) == mock.stats()["credits"]
    assert int(stats["cache_budget"]) == 64 * 1024 * 1024


def test_stats_is_current_after_each_call_and_a_warm_read_stays_in_the_kernel(mock, m):
    page = os.path.join(m.path, sd.LONG_DIR, "page-0002.txt")
    s0 = statfile.numbers(m.path)
    first = read(page)
    s1 = statfile.numbers(m.path)        # at once: no waiting for a timeout
    assert s1["requests"] == len(mock.log()) > s0["requests"]
    assert s1["cache_misses"] > s0["cache_misses"]
    for _ in range(3):      # the kernel keeps the bytes: linkupfs is not asked
        assert read(page) == first
    s2 = statfile.numbers(m.path)
    assert (s2["requests"], s2["cache_hits"], s2["cache_misses"]) == \
        (s1["requests"], s1["cache_hits"], s1["cache_misses"])
    read(os.path.join(m.path, sd.ALES_DIR, "page-0001.txt"))
    assert statfile.numbers(m.path)["requests"] == len(mock.log()) > s2["requests"]


def test_files_are_read_only_and_owned_by_the_user(m):
    p = os.path.join(m.path, sd.ALES_DIR, "transcript.txt")
    st = os.stat(p)
    assert st.st_mode & 0o777 == 0o444 and st.st_uid == os.getuid()
    assert os.stat(os.path.join(m.path, sd.ALES_DIR)).st_mode & 0o777 == 0o555
    before = read(p)
    # before and after the kernel learns that opens need no answer (fs_open)
    for _ in range(2):
        for mode in ("wb", "r+b", "ab"):
            with pytest.raises(OSError) as e:
                with open(p, mode) as f:    # root may open; writing fails
                    f.write(b"x")
            assert e.value.errno in (errno.EROFS, errno.EACCES), mode
        assert read(p) == before


def test_conversation_option_adds_one_by_profile_url(mock, mount_factory):
    mm = mount_factory(mock, "inbox_limit=0",
                       "conversation=" + sd.LONG_URL, env=UTC)
    assert sorted(os.listdir(mm.path)) == [".stats", sd.LONG_DIR]
    assert len(read(os.path.join(mm.path, sd.LONG_DIR, "page-0001.txt"))) > 0


def test_unmount_ends_the_process(mock, mount_factory):
    mm = mount_factory(mock, env=UTC)
    os.listdir(mm.path)
    assert mm.unmount() == 0
    assert mm.proc.poll() == 0
