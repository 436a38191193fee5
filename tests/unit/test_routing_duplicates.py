"""Duplicate detection: similarity sanity and the same-place requirement."""

from __future__ import annotations

from datetime import datetime

import pytest

from routing.duplicates import METHODS, Candidate, find_duplicates, same_place, similar
from routing.gazetteer import Place

A = "莲花小区3栋楼下的烧烤店每天晚上油烟很大，噪音扰民到凌晨两点，请有关部门处理"
A_AGAIN = "莲花小区3栋楼下烧烤店油烟很大，噪音扰民到凌晨两点"  # a shorter re-report
B = "公司拖欠工资三个月不发，老板电话也不接，请劳动部门帮忙讨薪"
D05S02 = Place("D05", "D05S02", "莲花小区", 1.0)
D01 = Place("D01", None, "东城区", 1.0)


@pytest.mark.parametrize("method", METHODS)
def test_similarity_sanity(method):
    assert similar(A, A, method) == pytest.approx(1.0)
    assert similar(A, A_AGAIN, method) > similar(A, B, method)
    assert 0.0 <= similar(A, B, method) <= 1.0
    assert similar("", A, method) == 0.0


def test_default_separates_rereport_from_other_matter():
    assert similar(A, A_AGAIN) >= 0.7
    assert similar(A, B) < 0.4
    assert similar("ＡＢＣ停水", "abc停水") == 1.0  # normalised, punctuation ignored


def test_unknown_method():
    with pytest.raises(ValueError):
        similar(A, B, "cosine")


def test_same_place():
    assert same_place(None, D01) and same_place(D05S02, None)
    assert same_place(D05S02, Place("D05", "D05S02", "莲花路", 1.0))
    assert not same_place(D05S02, Place("D05", "D05S03", "湖西新村", 1.0))
    assert same_place(D05S02, Place("D05", None, "北湖区", 1.0))
    assert not same_place(D05S02, D01)


def test_find_duplicates():
    t0, t1 = datetime(2026, 11, 20, 8), datetime(2026, 11, 21, 8)
    cands = [
        (1, A_AGAIN, D05S02, t0),
        Candidate(2, A_AGAIN, None, t1),  # unknown place: allowed, newer → first on a tie
        (3, A_AGAIN, D01, t1),  # other district: excluded
        (4, B, D05S02, t1),  # other matter
    ]
    found = find_duplicates((A, D05S02), cands, threshold=0.6)
    assert [cid for cid, _ in found] == [2, 1]
    assert all(score >= 0.6 for _, score in found)
    assert find_duplicates((A, D05S02), cands, threshold=0.6, limit=1) == found[:1]
    assert find_duplicates((B, None), cands[:3], threshold=0.6) == []
