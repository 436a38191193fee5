"""Chinese text → search terms: normalisation, jieba segmentation with a user dictionary, weighted term vectors.

Entries are tokenised once, when written (``term_vector``), and the vector is stored with the entry: building
the index in a new process then costs no segmentation at all (segmenting a whole catalogue with jieba would
take minutes; measurements: tests/bench/README.md, kb_search).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata

# Words that carry no meaning for a search: function words and how callers open a question.
_STOP_TEXT = """
的 了 吗 呢 吧 啊 呀 哦 嗯 是 在 有 和 与 及 或 我 你 他 她 它 我们 你们 他们 咱 这 那 这个 那个 哪 哪个 哪里 哪儿
什么 怎么 怎样 怎么样 如何 为什么 多少 几 要 想 想问 问 问下 问一下 请问 一下 能 能不能 可以 可不可以 会 需要 得 都
就 还 也 又 再 去 到 从 给 让 被 把 对 向 上 下 个 些 么 嘛 啦 喽 么样 办 弄 搞 咋 咋办 知道 不知道 现在 刚 刚才 一个
下来 起来 一些 那么 这么 还是 然后 就是 但是 因为 所以 如果 你好 您好 谢谢 麻烦 帮 帮我 帮忙 一下子 没有 不 没 的话
"""
STOPWORDS = frozenset(_STOP_TEXT.split())
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_HAN = re.compile(r"[\u4e00-\u9fff]+")
# field -> weight in the term vector
FIELD_WEIGHTS = {
    "title": 3.0,
    "code": 3.0,
    "tags": 2.0,
    "aliases": 2.0,
    "category": 0.8,
    "unit": 0.6,
    "fields": 0.5,
    "body": 1.0,
}
K1, B, AVG_LEN = 1.2, 0.5, 150.0  # BM25 saturation, length normalisation, typical weighted length


def normalise(text: str) -> str:
    """Full-width → half-width (NFKC), lower case, trimmed."""
    return unicodedata.normalize("NFKC", text or "").lower().strip()


class Tokenizer:
    """jieba (its own dictionary instance) plus the city's words: place names, unit names, synonyms."""

    def __init__(self, user_words: tuple[str, ...] | list[str] = ()):
        # on first use: a large import (tests/bench/README.md, kb_search) that processes which never search
        # need not carry
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._words: set[str] = set()
        self.add_words(user_words)

    def add_words(self, words) -> None:
        """Make each word one token (idempotent; jieba.add_word only adds)."""
        with self._lock:
            for word in words:
                word = normalise(word)
                if len(word) >= 2 and word not in self._words:
                    self._words.add(word)
                    self._jieba.add_word(word, freq=50000)

    def tokens(self, text: str) -> list[str]:
        """Search tokens of ``text``: whole words and their dictionary sub-words (cut_for_search)."""
        text = normalise(text)
        if not text:
            return []
        out = []
        for chunk in _PUNCT.split(text):
            if not chunk:
                continue
            for tok in self._jieba.cut_for_search(chunk, HMM=False):
                tok = tok.strip()
                if (
                    tok
                    and tok not in STOPWORDS
                    and not (len(tok) == 1 and not tok.isdigit() and _HAN.match(tok) and tok not in SINGLE_OK)
                ):
                    out.append(tok)
        return out

    def boundaries(self, run: str) -> set[int]:
        """Offsets where jieba's (non-search) segmentation of ``run`` puts a word boundary (0 and len included)."""
        out, pos = {0}, 0
        for word in self._jieba.cut(run, HMM=False):
            pos += len(word)
            out.add(pos)
        return out


# single characters that still mean something on their own in a question
SINGLE_OK = frozenset("交 税 车 房 证 卡 狗 猫 水 电 气 暖 桥 路 灯 树 医 药 学 病 钱")


def term_vector(tokenizer: Tokenizer, fields: dict[str, str | list[str]]) -> dict[str, float]:
    """Weighted, saturated term vector (BM25-style) of an entry's fields; {term: weight}, 3 decimals."""
    raw: dict[str, float] = {}
    length = 0.0
    for name, value in fields.items():
        weight = FIELD_WEIGHTS.get(name, 0.5)
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            if not text:
                continue
            toks = tokenizer.tokens(text)
            if name in ("code", "tags", "aliases") and normalise(text):
                toks.append(normalise(text))  # the whole tag / code is a term too
            for tok in toks:
                raw[tok] = raw.get(tok, 0.0) + weight
                length += weight
    norm = (1 - B) + B * (length / AVG_LEN if length else 1.0)
    return {t: round(w * (K1 + 1) / (w + K1 * norm), 3) for t, w in raw.items()}


def han_runs(text: str) -> list[str]:
    return _HAN.findall(normalise(text))


def idf(n_docs: int, df: int) -> float:
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
