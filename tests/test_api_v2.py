"""LinkupAPI v2 (issue 12): the same mount from the API that replaces v1.

The reading suites (test_costs, test_read_path, test_whole_reads,
test_faults) run against both versions through conftest's API_VERSIONS;
here is what is v2's own: the two trees diffed, credits as the API counts
them, the account_id and how to get one (linkupfs --import-token), and
what a refused account looks like at mount.
"""

import json
import os

import pytest

import mock_answers
import mock_state
import sample_data as sd
from conftest import is_mounted, run_linkupfs
from lib import statfile
from lib.fsread import read

UTC = {"TZ": "UTC"}
PAGE = 100


def tree(root):
    """{relative path: (is_dir, size, mtime)} of every entry but .stats."""
    out = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(d, name)
            rel = os.path.relpath(p, root)
            if rel == ".stats":
                continue
            st = os.stat(p)
            out[rel] = (name in dirs, st.st_size, int(st.st_mtime))
    return out


def conv_of(mnt, rel, data):
    """The sample conversation whose directory holds rel."""
    top = rel.split(os.sep, 1)[0]
    meta = json.loads(read(os.path.join(mnt.path, top, "conversation.json")))
    return data.find(meta["conversation_id"])


def without_v2_additions(rel, v2_bytes, conv):
    """v2's bytes of file rel less what v2 adds, which must be there: in a
    .jsonl line the sender_info.profile_url of each message whose sender
    has a known profile URL. Returns bytes to compare with v1's."""
    if not rel.endswith(".jsonl"):
        return v2_bytes
    lines = []
    for line in v2_bytes.split(b"\n"):
        if line:
            m = json.loads(line)
            url = m["sender_info"].get("profile_url")
            own = m["sender_info"]["first_name"] == sd.OWNER_FIRST
            assert url == (mock_answers.OWNER_PROFILE_URL if own else conv.profile_url)
            if url is not None:
                added = b',"profile_url":' + json.dumps(url).encode()
                assert line.count(added) == 1, line
                line = line.replace(added, b"")
        lines.append(line)
    return b"\n".join(lines)


@pytest.mark.valgrind
def test_every_file_is_the_same_under_v1_and_v2_but_what_v2_adds(
        mock, mount_factory, data):
    m1 = mount_factory(mock, "page_size=%d" % PAGE, env=UTC, api_version=1)
    m2 = mount_factory(mock, "page_size=%d" % PAGE, env=UTC, api_version=2)
    t1, t2 = tree(m1.path), tree(m2.path)
    assert sorted(t1) == sorted(t2)     # the same names, directories, pages
    assert len(t1) > 5 * sd.SAMPLE_CONVERSATION_COUNT
    differ = []
    for rel in sorted(t1):
        if t1[rel][0]:
            assert t1[rel] == t2[rel], rel      # directory mtimes too
            continue
        b1 = read(os.path.join(m1.path, rel))
        b2 = read(os.path.join(m2.path, rel))
        conv = conv_of(m1, rel, data)
        if rel.endswith("conversation.json"):
            j1, j2 = json.loads(b1), json.loads(b2)
            # v2 counts all messages (total_message_count) and not the
            # other member's (v1's total_other_member_message_count)
            assert j2.pop("total_message_count") == len(conv)
            assert j2.pop("total_other_member_message_count") is None
            assert j1.pop("total_other_member_message_count") == conv.other_count
            assert j1 == j2, rel
            differ.append(rel)
            continue
        rest = without_v2_additions(rel, b2, conv)
        assert rest == b1, rel
        if rest != b2:
            differ.append(rel)
        else:
            assert t1[rel] == t2[rel], rel      # size and mtime
    # only the JSON files differ, and every .jsonl with a message does
    assert all(r.endswith((".jsonl", "conversation.json")) for r in differ)
    assert os.path.join(sd.LONG_DIR, "messages.jsonl") in differ
    # the chains ended where v2 sends no cursor: one request a page
    v2_pages = [e for e in mock.api_log("conversation") if e["version"] == 2
                and sd.LONG_ID in (e["conversation"] or "")]
    assert len(v2_pages) == 13


@pytest.mark.valgrind
def test_v2_credits_in_stats_are_the_sum_of_credits_consumed(mock, mount_factory):
    mm = mount_factory(mock, "page_size=%d" % PAGE, env=UTC, api_version=2)
    # errors, which v2 never charges: a 500 retried, a 402 refused; and an
    # answer refused for its shape, charged what its metadata says
    mock.fault("status", count=1, path="conversation", match=sd.LONG_ID,
               status=500)
    mock.fault("status", count=-1, path="conversation", match=sd.ALES_ID,
               status=402)
    mock.fault("wrong_shape", count=1, path="conversation", match=sd.HOSTILE_ID,
               variant="messages_not_array")
    for name in os.listdir(mm.path):
        p = os.path.join(mm.path, name, "transcript.txt")
        if os.path.isdir(os.path.join(mm.path, name)):
            try:
                read(p)
            except OSError as e:
                assert (name, e.errno) in ((sd.ALES_DIR, 122),   # EDQUOT
                                           (sd.HOSTILE_DIR, 5)), (name, e)
    assert read(os.path.join(mm.path, sd.HOSTILE_DIR, "transcript.txt"))
    assert "top up" in mm.log()
    log = mock.log()
    assert log and all(e["version"] == 2 for e in log)
    assert {e["status"] for e in log} == {200, 402, 500}
    assert all(e["credits"] == 0 for e in log if e["status"] != 200)
    (shape,) = [e for e in log if e["fault"] == "wrong_shape"]
    assert shape["credits"] >= 1
    s = mock.stats()
    assert s["credits_consumed"] == s["credits"] == sum(e["credits"] for e in log)
    # 1 per 10 results: the long conversation's 13 pages cost 10 each
    assert sum(e["credits"] for e in log if sd.LONG_ID in (e["conversation"] or "")) \
        == sum(mock_state.credits_for(min(PAGE, 1234 - PAGE * i)) for i in range(13))
    assert int(statfile.values(mm.path)["credits_spent"]) == s["credits_consumed"]


def v2_env(mock, **kw):
    env = {"LINKUP_API_KEY": mock.api_key}
    env.update(kw)
    return env


@pytest.mark.valgrind
def test_import_token_prints_the_account_id_from_the_login_token(mock, tmp_path):
    rc, out, err = run_linkupfs(["--import-token", "-o", "api_url=" + mock.url],
                                env=v2_env(mock, LINKUP_LOGIN_TOKEN=mock.login_token))
    assert (rc, out, err) == (0, mock.account_id + "\n", "")
    (entry,) = mock.log()
    assert entry["path"] == "login" and entry["auth_ok"] and entry["credits"] == 0
    # from the config file too, and a second time gives the same id
    cfg = tmp_path / "cfg"
    (cfg / "linkupfs").mkdir(parents=True)
    (cfg / "linkupfs" / "config").write_text(
        "api_key = %s\nlogin_token = %s\n" % (mock.api_key, mock.login_token))
    os.chmod(cfg / "linkupfs" / "config", 0o600)
    rc, out, err = run_linkupfs(["--import-token", "-o", "api_url=" + mock.url],
                                env={"XDG_CONFIG_HOME": str(cfg)})
    assert (rc, out) == (0, mock.account_id + "\n"), err


@pytest.mark.valgrind
def test_import_token_with_a_dead_token_fails_and_says_why(mock):
    rc, out, err = run_linkupfs(["--import-token", "-o", "api_url=" + mock.url],
                                env=v2_env(mock, LINKUP_LOGIN_TOKEN="dead-token-123"))
    # v2 answers 400 INVALID_PARAMS, not a refusal of the key: 1
    assert rc == 1 and out == ""
    assert "login_token is invalid" in err and "dead-token-123" not in err
    rc, out, err = run_linkupfs(["--import-token", "-o", "api_url=" + mock.url],
                                env=v2_env(mock))
    # no token at all: a setting to fix (EX_CONFIG)
    assert rc == 78 and "LINKUP_LOGIN_TOKEN" in err and mock.log()[-1:] != []


@pytest.mark.valgrind
def test_v2_without_an_account_id_says_how_to_get_one(mock, tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    rc, out, err = run_linkupfs(
        ["-o", "api_url=%s,api_version=2" % mock.url, mnt],
        env=v2_env(mock, LINKUP_LOGIN_TOKEN=mock.login_token))
    assert rc != 0 and "LINKUP_ACCOUNT_ID" in err and "--import-token" in err
    assert mock.log() == [] and not is_mounted(mnt)


def test_account_id_is_refused_on_the_command_line(mock, tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    rc, out, err = run_linkupfs(
        ["-o", "api_url=%s,api_version=2,account_id=x" % mock.url, mnt],
        env=v2_env(mock))
    assert rc != 0 and "account_id is not accepted on the command line" in err
    assert "LINKUP_ACCOUNT_ID" in err and mock.log() == []


@pytest.mark.parametrize("setup,code", [
    ({"LINKUP_ACCOUNT_ID": "not-my-account-42"}, "INVALID_ACCOUNT"),
    ({"LINKUP_API_KEY": "wrong-key-123"}, "INVALID_API_KEY"),
    ("inactive", "ACCOUNT_INACTIVE"),
])
def test_a_refused_account_or_key_fails_the_mount_and_names_it(
        mock, tmp_path, setup, code):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    env = v2_env(mock, LINKUP_ACCOUNT_ID=mock.account_id)
    if setup == "inactive":
        mock.set(account_inactive=True)
    else:
        env.update(setup)
    rc, out, err = run_linkupfs(["-o", "api_url=%s,api_version=2" % mock.url, mnt],
                                env=env)
    lines = err.strip().splitlines()
    assert rc != 0 and len(lines) == 1, lines
    assert code in lines[0] and "refused the credentials" in lines[0]
    want = "LINKUP_API_KEY" if code == "INVALID_API_KEY" else "LINKUP_ACCOUNT_ID"
    assert want in lines[0], lines[0]
    for secret in (env["LINKUP_API_KEY"], env["LINKUP_ACCOUNT_ID"]):
        assert secret not in err
    assert len(mock.log()) == 1 and not is_mounted(mnt)   # no retry


@pytest.mark.procfs
def test_the_account_id_never_reaches_argv_log_stats_or_files(mock, mount_factory):
    mm = mount_factory(mock, extra_args=("-d",), env=UTC, api_version=2)
    secret = mock.account_id.encode()
    for root, dirs, files in os.walk(mm.path):
        if root == mm.path or root.endswith(sd.ALES_DIR):
            for f in files:
                assert secret not in read(os.path.join(root, f)), f
    assert secret not in read(os.path.join(mm.path, ".stats"))
    for what in ("cmdline", "environ"):
        with open("/proc/%d/%s" % (mm.pid, what), "rb") as f:
            assert secret not in f.read(), what
    assert "POST /v2/messages" in mm.log()      # -d logged the requests
    assert mock.account_id not in mm.log()


def test_api_version_and_account_id_from_the_config_file(mock, mount_factory,
                                                         tmp_path):
    d = tmp_path / "config" / "linkupfs"
    d.mkdir(parents=True)
    (d / "config").write_text("api_key = %s\naccount_id = %s\napi_version = 2\n"
                              % (mock.api_key, mock.account_id))
    os.chmod(d / "config", 0o600)
    mm = mount_factory(mock, "page_size=%d" % PAGE, api_version=1,
                       env={"LINKUP_API_KEY": None, "LINKUP_LOGIN_TOKEN": None})
    assert sd.ALES_DIR in os.listdir(mm.path)
    assert read(os.path.join(mm.path, sd.ALES_DIR, "page-0001.txt"))
    log = mock.log()
    assert [e["path"] for e in log] == ["inbox", "conversation"]
    assert all(e["version"] == 2 and e["auth_ok"] for e in log)
