"""Search terms (hotline/search/terms.py): bigrams of every run, queries as phrases / prefixes."""

from hotline.search.terms import fts5_match, query_runs, terms, tsquery_text


def test_terms_are_bigrams_of_each_run_normalised():
    assert terms("油烟扰民，１２号", "ABC") == "油烟 烟扰 扰民 12 2号 ab bc"
    assert terms("路 灯") == "路 灯"  # a run of one character is kept whole
    assert terms("", None) == ""


def test_queries_become_phrases_and_prefixes():
    runs = query_runs("油烟扰 12号 路")
    assert runs == [("phrase", ["油烟", "烟扰"]), ("phrase", ["12", "2号"]), ("prefix", ["路"])]
    assert fts5_match(runs) == '"油烟 烟扰" AND "12 2号" AND "路"*'
    assert tsquery_text(runs) == "(油烟 <-> 烟扰) & (12 <-> 2号) & 路:*"
    assert query_runs("！？ ——") == []  # nothing searchable: no MATCH with an empty expression
    assert query_runs('"; DROP') == [("phrase", ["dr", "ro", "op"])]  # quotes never reach the MATCH text
