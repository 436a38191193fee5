"""Text normalisation and tokens."""

from __future__ import annotations

from routing.text import char_ngrams, features, head, normalize, strip_places, words


def test_normalize():
    assert normalize("ＡＢＣ１２３，　小区") == "abc123, 小区"
    assert normalize("  多个   空格\n换行 ") == "多个 空格 换行"
    assert normalize("") == "" and normalize(None) == ""


def test_strip_places():
    assert strip_places("a7县某镇g市人民路") == "县某镇市人民路"
    assert strip_places("买了a4纸") == "买了a4纸"


def test_char_ngrams():
    assert char_ngrams("小区停水", 1, 2) == ["小", "区", "停", "水", "小区", "区停", "停水"]
    assert char_ngrams("", 1, 3) == []


def test_words_and_features():
    assert "物业" in words("小区物业不作为")
    toks = features("小区物业", char_range=(1, 1), use_words=True)
    assert toks[:4] == ["小", "区", "物", "业"] and "w:物业" in toks
    assert len(features("很长" * 100, char_range=(1, 1), max_chars=10)) == 10


def test_head_is_the_normalised_text_cut_without_normalising_all_of_it():
    long = "ＡＢＣ，小区停水了！" * 500  # 5,000 characters, full-width forms throughout
    assert head(long, 100) == normalize(long)[:100]
    assert head("短文本　", 100) == "短文本"
    assert head(long, None) == normalize(long) and head(long, 0) == normalize(long)
    # whitespace runs shrink when normalised: the prefix is too short, so the whole text is normalised
    spaced = "停 " + " " * 300 + "水" * 400
    assert head(spaced, 100) == normalize(spaced)[:100] == "停 " + "水" * 98
