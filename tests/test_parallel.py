"""parallel=K: a long conversation walked in K stretches at once gives
exactly the files of the one-after-the-other walk, for a bounded price."""

import os

import pytest

import sample_data as sd

UTC = {"TZ": "UTC"}


def files_of(mm, name):
    d = os.path.join(mm.path, name)
    out = {}
    for f in sorted(os.listdir(d)):
        with open(os.path.join(d, f), "rb") as fh:
            out[f] = fh.read()
    return out


@pytest.mark.parametrize("k", [2, 4, 8])
@pytest.mark.valgrind
def test_parallel_walk_gives_the_same_files_as_the_sequential_one(
        mock_factory, mount_factory, k):
    seq_mock = mock_factory(latency_ms=20)
    seq = mount_factory(seq_mock, "page_size=100", env=UTC)
    par_mock = mock_factory(latency_ms=20)
    par = mount_factory(par_mock, "page_size=100,parallel=%d" % k, env=UTC)
    os.listdir(par.path)
    par_mock.reset()
    with open(os.path.join(par.path, sd.LONG_DIR, "transcript.txt"), "rb") as f:
        transcript = f.read()
    stats = par_mock.stats()
    assert stats["max_active"] >= 2  # really at the same time
    # the price: probes and one partly used request per stretch
    assert 13 < stats["requests"] <= 13 + 2 * k + 4
    assert files_of(par, sd.LONG_DIR) == files_of(seq, sd.LONG_DIR)
    assert transcript == files_of(seq, sd.LONG_DIR)["transcript.txt"]


@pytest.mark.valgrind
def test_parallel_walk_of_a_short_conversation_falls_back_to_one_stretch(
        mock, mount_factory):
    mm = mount_factory(mock, "page_size=10,parallel=8", env=UTC)
    os.listdir(mm.path)
    mock.reset()
    with open(os.path.join(mm.path, sd.ALES_DIR, "transcript.txt"), "rb") as f:
        data = f.read()
    assert data.count(b"\n[") + 1 >= sd.ALES_COUNT - 1
    # 37 messages at 10 a page: 4 pages, plus at most one round of probes
    assert len(mock.api_log("conversation")) <= 4 + 8
