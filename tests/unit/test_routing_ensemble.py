"""The chosen model's NB-SVM part and score weights, and loading an older (format 1) model file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from routing.classifier import fit_score_weights, train
from routing.model import Model
from tests.unit.test_routing_classifier import LABELS, TEXTS


def test_nb_svm_part_matches_scikit_learn():
    """Per class k: LinearSVC on l2(x ∘ r_k), r_k the log-count ratio of k against the rest on binarised
    features, x the sublinear tf-idf — recomputed here with scikit-learn from the same tokens."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize
    from sklearn.svm import LinearSVC

    model = train(TEXTS, LABELS, calibrate=False)
    featurize = model.featurizer()
    vec = TfidfVectorizer(analyzer=lambda toks: toks, sublinear_tf=True)
    x = vec.fit_transform([featurize(t) for t in TEXTS])
    assert vec.get_feature_names_out().tolist() == sorted(model.vocabulary, key=model.vocabulary.__getitem__)
    probe = ["小区物业不管事", "公交太少", "没有任何已知词", "", "ＡＢＣ　公交车 太少了!!", "工厂偷排污水" * 50]
    xp = vec.transform([featurize(t) for t in probe])
    y = np.asarray(LABELS)
    present = (x > 0).astype(np.float64)
    expected = []
    for c in model.classes:
        p = 1.0 + np.asarray(present[y == c].sum(axis=0)).ravel()
        q = 1.0 + np.asarray(present[y != c].sum(axis=0)).ravel()
        r = np.log(p / p.sum()) - np.log(q / q.sum())
        clf = LinearSVC(C=1.0, class_weight="balanced", random_state=0)
        clf.fit(normalize(x.multiply(r).tocsr()), y == c)
        expected.append(clf.decision_function(normalize(xp.multiply(r).tocsr())))
    got = []
    for text in probe:
        idx, tf, _ = model._count_text(text)
        got.append(model.nb.scores(idx, model._tfidf(idx, tf)))
    np.testing.assert_allclose(np.vstack(got), np.column_stack(expected), atol=1e-4)
    assert model.nb.scale == 1.0 and model.cal_weights is not None  # uncalibrated: plain sum of the scores


def test_fit_score_weights_recovers_known_weights():
    rng = np.random.default_rng(0)
    s, u = rng.normal(size=(5000, 4)), rng.normal(size=(5000, 4))
    z = 1.5 * s + 0.7 * u
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(4, p=row) for row in p])
    a, c = fit_score_weights(s, u, y)
    assert a == pytest.approx(1.5, rel=0.1) and c == pytest.approx(0.7, rel=0.15)


def test_chosen_model_round_trips_with_its_parts(tmp_path):
    model = train(TEXTS, LABELS)
    assert model.options["algorithm"] == "svm_nb_memory" and model.meta["nb_weight"] > 0
    model.save(tmp_path / "m.npz")
    loaded = Model.load(tmp_path / "m.npz", trusted_dir=tmp_path)
    probe = ["小区电梯又坏了", "公交车班次太少，等车要一个小时", "工厂偷排污水" * 50]
    np.testing.assert_allclose(loaded.proba(probe), model.proba(probe), atol=1e-12)
    assert loaded.memory.params() == model.memory.params()
    assert loaded.nb.scale == model.nb.scale


def test_a_format_1_file_still_loads(tmp_path):
    """Files written before the NB-SVM and memory parts (the SVM alone) keep working after an upgrade."""
    model = train(TEXTS, LABELS, algorithm="svm")
    model.save(tmp_path / "new.npz")
    with np.load(tmp_path / "new.npz") as data:
        arrays = dict(data)
    header = json.loads(str(arrays["header"]))
    with open(tmp_path / "old.npz", "wb") as fh:
        np.savez(fh, **{**arrays, "header": np.array(json.dumps({**header, "format": 1}))})
    old = Model.load(tmp_path / "old.npz", trusted_dir=tmp_path)
    assert old.nb is None and old.memory is None
    assert old.predict_top("公司拖欠工资") == model.predict_top("公司拖欠工资")
