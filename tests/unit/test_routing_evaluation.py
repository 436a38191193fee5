"""Honest evaluation helpers: near-duplicate groups, grouped folds, coverage metrics (project-written data)."""

from __future__ import annotations

import numpy as np
import pytest

from routing.cv import cross_validate, grouped_folds, out_of_fold_proba
from routing.evaluation import coverage_at_precision, coverage_curve, group_label_conflicts, near_duplicate_groups
from tests.unit.test_routing_classifier import LABELS, TEXTS

TITLE = "幸福小区电梯经常故障物业拖着不修"
BODY = (
    "您好，我是幸福小区三栋的业主。幸福小区电梯经常故障物业拖着不修，上周老人被困了半个小时，"
    "打物业电话没人接，希望有关部门督促物业尽快维修并定期检查。"
)
REPOST = BODY.replace("上周", "上个星期").replace("半个小时", "四十分钟")


def test_a_title_inside_its_body_and_a_repost_form_one_group():
    texts = [TITLE, BODY, REPOST, "公交车班次太少，等车要一个小时", "工厂晚上偷排污水，河水发黑发臭"]
    groups = near_duplicate_groups(texts)
    assert groups[0] == groups[1] == groups[2]
    assert len({groups[0], groups[3], groups[4]}) == 3


def test_short_texts_and_shared_words_do_not_link():
    # both short (< 8 trigrams) or only sharing common words: not twins
    texts = ["停水了", "停水了吗", "小区物业不作为，楼道垃圾没人清理", "学校食堂卫生太差，物业费还年年上涨"]
    groups = near_duplicate_groups(texts)
    assert len(set(groups.tolist())) == 4
    assert near_duplicate_groups([]).shape == (0,)
    assert near_duplicate_groups(["a", "b"]).tolist() == [0, 1]


def test_group_label_conflicts_counts_mixed_groups():
    groups = np.array([0, 0, 1, 1, 1, 2])
    labels = ["a", "a", "a", "b", "a", "c"]
    c = group_label_conflicts(groups, labels)
    assert c == {
        "texts": 6,
        "groups": 3,
        "multi_groups": 2,
        "texts_in_multi_groups": 5,
        "mixed_label_groups": 1,
        "texts_in_mixed_groups": 3,
    }


def test_grouped_folds_keep_each_group_in_one_fold():
    groups = np.arange(len(TEXTS)) // 2  # pairs of neighbouring sentences belong together
    for tr, te in grouped_folds(LABELS, groups, 3):
        assert not set(groups[tr]) & set(groups[te])
        assert len(tr) + len(te) == len(TEXTS)


def test_out_of_fold_proba_never_sees_the_fold():
    """A text duplicated in the data scores worse with its twin held out together than split apart."""
    groups = np.arange(len(TEXTS))
    folds = grouped_folds(LABELS, groups, 3)
    proba, classes = out_of_fold_proba(TEXTS, LABELS, folds)
    assert proba.shape == (len(TEXTS), len(set(LABELS)))
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert classes == sorted(set(LABELS))
    # leave one text out by hand: the same model as out_of_fold_proba's for that fold
    from routing.classifier import train

    tr, te = folds[0]
    model = train([TEXTS[i] for i in tr], [LABELS[i] for i in tr])
    np.testing.assert_allclose(proba[te], model.proba([TEXTS[i] for i in te]), atol=1e-6)


def test_cross_validate_with_groups():
    m = cross_validate(TEXTS, LABELS, folds=3, groups=np.arange(len(TEXTS)) // 3)
    assert m.n == len(TEXTS) and 0.3 <= m.macro_f1 <= 1.0
    assert m.top3_accuracy >= m.accuracy


def test_coverage_metrics():
    classes = ["a", "b"]
    proba = np.array([[0.95, 0.05], [0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.6, 0.4]])
    labels = ["a", "a", "b", "b", "b"]  # wrong at 0.7 and 0.6
    assert coverage_at_precision(proba, classes, labels, 0.99) == pytest.approx(0.6)
    assert coverage_at_precision(proba, classes, labels, 0.75) == pytest.approx(0.8)
    assert coverage_at_precision(np.array([[0.9, 0.1]]), classes, ["b"], 0.5) == 0.0
    curve = coverage_curve(proba, classes, labels, (0.6, 1.0))
    assert curve == {"60%": 1.0, "100%": pytest.approx(0.6)}


def test_at_threshold():
    from routing.evaluation import at_threshold

    classes = ["a", "b"]
    proba = np.array([[0.95, 0.05], [0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    labels = ["a", "b", "b", "b"]
    assert at_threshold(proba, classes, labels, 0.9) == {"threshold": 0.9, "coverage": 0.5, "precision": 0.5}
    assert at_threshold(proba, classes, labels, 0.99) == {"threshold": 0.99, "coverage": 0.0, "precision": 1.0}
