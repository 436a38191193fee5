"""Nearest-neighbour memory of training texts (routing/memory.py), on project-written sentences."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from routing import memory
from routing.classifier import _count_matrix, _options, _train_counts, text_lengths, train
from tests.unit.test_routing_classifier import LABELS, TEXTS


@pytest.fixture(scope="module")
def model():
    return train(TEXTS, LABELS)


def _row(model, text):
    idx, tf, n_chars = model._count_text(text)
    return idx, model._tfidf(idx, tf), n_chars


def test_a_repost_of_a_training_text_votes_for_its_label(model):
    text = TEXTS[LABELS.index("交通运输")]  # 公交车班次太少，等车要一个小时
    idx, vals, _ = _row(model, text + "！")
    vote = model.memory.vote(idx, vals)
    assert vote.sum() == pytest.approx(1.0)
    assert model.classes[int(vote.argmax())] == "交通运输" and vote.max() > 0.9


def test_no_shared_feature_means_no_vote_and_unchanged_probabilities(model):
    idx, vals, n_chars = _row(model, "ζψω")
    vote = model.memory.vote(idx, vals)
    assert not vote.any()
    p = np.array([[0.5, 0.2, 0.1, 0.1, 0.1]])
    np.testing.assert_allclose(model.memory.combine(p, vote[None, :], np.array([n_chars])), p, atol=1e-12)


def test_combine_is_a_length_gated_product_of_experts(model):
    mem = model.memory
    p = np.array([[0.6, 0.3, 0.05, 0.03, 0.02]] * 3)
    v = np.array([[0.0, 1.0, 0.0, 0.0, 0.0]] * 3)
    out = mem.combine(p, v, np.array([0, mem.full_at // 2, 10 * mem.full_at]))
    np.testing.assert_allclose(out[0], p[0])  # empty text: memory ignored
    for row, gate in ((1, mem.blend / 2), (2, mem.blend)):  # half, then full weight
        want = p[row] * (v[row] + mem.eps) ** gate
        np.testing.assert_allclose(out[row], want / want.sum())
    assert out[1, 1] < out[2, 1]  # the longer text listens more


def test_frequent_features_are_left_out_of_the_memory():
    x = csr_matrix(np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]))
    mem = memory.build(x, np.array([0, 1, 0, 1]), 2, max_df=0.5)
    assert mem.keep.tolist() == [False, True, True]  # column 0 is in every text
    assert mem.labels.dtype == np.int16 and mem.docs.dtype == np.int32
    vote = mem.vote(np.array([0, 1]), np.array([0.6, 0.8]))  # shares column 1 with text 0 only
    assert vote.tolist() == [1.0, 0.0]


def test_the_memory_keeps_at_most_max_texts():
    x = csr_matrix(np.eye(10))
    labels = np.arange(10) % 2
    mem = memory.build(x, labels, 2, max_texts=4, max_df=1.0)
    assert len(mem.labels) == 4 and mem.docs.max() < 4
    assert memory.build(x, labels, 2, max_texts=4, max_df=1.0).labels.tolist() == mem.labels.tolist()  # seeded
    assert len(memory.build(x, labels, 2, max_df=1.0).labels) == 10


def test_vote_and_vote_rows_agree_including_the_term_cap():
    rng = np.random.default_rng(0)
    dense = rng.random((40, 300)) * (rng.random((40, 300)) < 0.1)
    x = csr_matrix(dense / np.linalg.norm(dense, axis=1, keepdims=True))
    mem = memory.build(x, rng.integers(0, 3, 40), 3, max_df=0.2, max_terms=12, k=3)
    queries = rng.random((6, 300)) * (rng.random((6, 300)) < 0.3)  # ~90 terms each: over the cap
    queries[0] = 0.0
    queries[1, :] = 0.0
    queries[1, 7] = 1.0
    rows = csr_matrix(queries)
    by_rows = mem.vote_rows(rows)
    for i in range(rows.shape[0]):
        r = rows[i]
        np.testing.assert_allclose(mem.vote(r.indices.astype(np.int64), r.data), by_rows[i], atol=1e-9)
    assert not by_rows[0].any()


def test_serving_probabilities_equal_the_training_side_scorer():
    """``Model.proba`` (numpy, per text) gives what cross-validation scores (sparse matrices, batches)."""
    probe = ["小区物业不管事还乱收费", "公交太少", "", "".join(TEXTS)[:1000], TEXTS[3], "工厂" * 600]
    opts = _options({})
    counts, terms = _count_matrix(TEXTS + probe, opts)
    model, scorer = _train_counts(counts[: len(TEXTS)], terms, np.asarray(LABELS), opts)
    assert model.nb is not None and model.memory is not None
    assert int(model.memory.keep[_row(model, probe[3])[0]].sum()) > model.memory.max_terms  # the cap is used
    expected = scorer(counts[len(TEXTS) :], text_lengths(probe, opts))
    np.testing.assert_allclose(model.proba(probe), expected, atol=1e-6)
    without = _train_counts(counts[: len(TEXTS)], terms, np.asarray(LABELS), {**opts, "memory": False})[0]
    assert np.abs(without.proba([TEXTS[3]]) - expected[4]).max() > 1e-3  # the memory changed something
