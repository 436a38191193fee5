"""The pure KB search index: segmentation, synonyms, typos, filters, validity, updates, compaction."""

from __future__ import annotations

import pytest

from knowledge_base.search import NO_DATE, Doc, Filters, SearchIndex, snippet
from knowledge_base.text import Tokenizer, term_vector

TOK = Tokenizer(["示范市", "东城区", "西城区", "住房公积金", "营业执照"])
ENTRIES = [
    (
        1,
        "住房公积金租房提取",
        "无房职工租房可每年提取一次住房公积金。",
        ["公积金", "租房"],
        "城乡建设/住房",
        "/C/GJJ/",
        (),
    ),
    (
        2,
        "营业执照遗失补领",
        "营业执照丢了可申请补领，可领电子营业执照。",
        ["执照补办"],
        "商贸旅游/市场监管",
        "/C/SCJ/",
        (),
    ),
    (
        3,
        "社会保障卡挂失与补换",
        "社保卡丢失先挂失再补办。",
        ["社保卡"],
        "劳动和社会保障/城镇职工社会保险",
        "/C/RSJ/",
        (),
    ),
    (
        4,
        "东城区政务服务中心地址",
        "东城区政务服务中心位于解放路。",
        ["办事大厅"],
        "党务政务/政治体制",
        "/C/D01/",
        ("D01",),
    ),
    (
        5,
        "西城区政务服务中心地址",
        "西城区市民服务中心位于中山路。",
        ["办事大厅"],
        "党务政务/政治体制",
        "/C/D02/",
        ("D02",),
    ),
]
SYNONYMS = [("社保", "社会保险", "社会保障卡"), ("公积金", "住房公积金", "公基金"), ("补办", "补领", "丢了", "遗失")]


def doc(i, title, body, tags, cat, unit, districts, **over) -> Doc:
    terms = term_vector(TOK, {"title": title, "tags": tags, "body": body})
    fields = {
        "id": i,
        "kind": "service_item",
        "code": f"E{i}",
        "title": title,
        "terms": terms,
        "category": cat,
        "unit": unit,
        "districts": districts,
    }
    fields.update(over)
    return Doc(**fields)


@pytest.fixture()
def index():
    idx = SearchIndex(TOK, SYNONYMS)
    idx.bulk_load([doc(*e) for e in ENTRIES])
    return idx


def top(idx, q, **kw):
    return [h.id for h in idx.search(q, 3, **kw)]


def test_plain_synonym_and_typo_queries(index):
    assert top(index, "租房怎么提取公积金")[0] == 1
    assert top(index, "社会保险卡丢了")[0] == 3  # synonym
    assert top(index, "公基金租房")[0] == 1  # homophone typo
    assert top(index, "营业执找补办")[0] == 2  # one wrong character
    assert top(index, "今天天气不错") == []


def test_filters(index):
    assert top(index, "政务服务中心", filters=Filters(district="D02")) == [5]
    assert set(top(index, "政务服务中心", filters=Filters(category="党务政务"))) == {4, 5}
    assert top(index, "补领", filters=Filters(unit="/C/SCJ/")) == [2]
    assert top(index, "补领", filters=Filters(kind="article")) == []


def test_validity_dates_and_usage_boost(index):
    index.upsert(doc(6, "西城区政务服务中心地址（旧）", "已搬迁。", [], "", "/C/D02/", ("D02",), valid_to=100))
    assert 6 in top(index, "西城区政务服务中心旧", today=50)
    assert 6 not in top(index, "西城区政务服务中心旧", today=101)
    base = {h.id: h.score for h in index.search("政务服务中心", 5)}
    index.set_usage({5: 50})
    boosted = {h.id: h.score for h in index.search("政务服务中心", 5)}
    assert boosted[5] > base[5] and boosted[4] == base[4]


def test_update_remove_and_compaction_keep_results_right():
    idx = SearchIndex(TOK, SYNONYMS)
    idx.bulk_load([doc(*e) for e in ENTRIES])
    idx.upsert(doc(1, "住房公积金购房提取", "购房可提取住房公积金。", [], "", "/C/GJJ/", ()))
    assert 1 not in top(idx, "租房")  # the old version's words are gone
    assert top(idx, "购房提取")[0] == 1 and idx.search("购房提取", 1)[0].title == "住房公积金购房提取"
    assert idx.remove(2) and not idx.remove(2)
    assert 2 not in top(idx, "营业执照补领")
    many = [doc(100 + n, f"测试事项{n}号", "测试", [], "", "/C/X/", ()) for n in range(1200)]
    idx.bulk_load(many)
    for n in range(1200):
        idx.remove(100 + n)  # compaction runs once most slots are dead
    assert len(idx._ids) < 1200 and len(idx) == 4
    assert top(idx, "社会保险卡丢了")[0] == 3 and top(idx, "西城区政务服务中心", filters=Filters(district="D02")) == [5]


def test_bulk_load_equals_one_by_one():
    a, b = SearchIndex(TOK, SYNONYMS), SearchIndex(TOK, SYNONYMS)
    docs = [doc(*e) for e in ENTRIES]
    a.bulk_load(docs)
    for d in docs:
        b.upsert(d)
    for q in ("公积金", "丢了补办", "政务服务中心地址", "公基金"):
        assert [(h.id, h.score) for h in a.search(q, 5)] == [(h.id, h.score) for h in b.search(q, 5)]


def test_snippet_centres_on_a_term():
    text = "前言" * 60 + "租房提取住房公积金需要本人身份证。" + "后记" * 60
    out = snippet(text, ["公积金"])
    assert "公积金" in out and out.startswith("…") and out.endswith("…") and len(out) <= 92
    assert snippet("短文本", ["x"]) == "短文本"
    assert NO_DATE > 800000
