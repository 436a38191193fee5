"""The trained router model as plain arrays: load and score with numpy only.

Written by ``routing.classifier.train`` (scikit-learn: TF-IDF → LinearSVC [+ NB-SVM] → calibration
[+ nearest-neighbour memory]), converted to vocabulary/idf/weights/calibration/memory arrays, so a web
process that scores cases never imports scikit-learn. ``save``/``load`` use one ``.npz`` read with
``allow_pickle=False`` (no code runs on load), a magic string and a format version, and refuse files
outside the trusted folder. Format 2 adds the optional NB-SVM and memory arrays; format-1 files (the SVM
alone) still load.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from routing.memory import Memory
from routing.text import features, head

FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
MAGIC = "hotline-routing-model"
MODEL_FILE = "routing_model.npz"


def model_path(instance_dir: str | os.PathLike) -> Path:
    """Where the app keeps the model: ``<instance>/routing_model.npz``."""
    return Path(instance_dir) / MODEL_FILE


class ModelError(Exception):
    """The model file is missing, foreign, of another format version, or outside the trusted folder."""


@dataclass(frozen=True)
class Featurizer:
    """Raw text → tokens (normalised, truncated, char n-grams [+ jieba words])."""

    char_range: tuple[int, int] = (1, 2)
    use_words: bool = False
    max_chars: int = 1000

    def __call__(self, text: str) -> list[str]:
        return features(head(text, self.max_chars), char_range=self.char_range, use_words=self.use_words)


@dataclass
class NBPart:
    """NB-SVM: per class k, score = w_k · l2(x ∘ r_k) + b_k on the l2 tf-idf x, added to the logits × ``scale``."""

    ratio: np.ndarray  # (n_features, n_classes) float32 log-count ratios r_k
    weights: np.ndarray  # (n_features, n_classes) float32
    intercept: np.ndarray  # (n_classes,)
    scale: float

    def scores(self, idx: np.ndarray, vals: np.ndarray) -> np.ndarray:
        if not len(idx):
            return self.intercept.astype(np.float64)
        scaled = vals[:, None] * self.ratio[idx]  # (nnz, n_classes)
        norms = np.sqrt(np.einsum("ij,ij->j", scaled, scaled))
        norms[norms == 0] = 1.0
        return np.einsum("ij,ij->j", scaled, self.weights[idx]) / norms + self.intercept


@dataclass
class Model:
    """A trained linear text model as plain arrays: scoring needs numpy only (no scikit-learn import in
    the web process) and the file is an ``.npz`` read with ``allow_pickle=False`` (no code runs on load)."""

    vocabulary: dict[str, int]
    idf: np.ndarray  # (n_features,) float32
    weights: np.ndarray  # (n_features, n_classes) float32, LinearSVC coef_.T
    intercept: np.ndarray  # (n_classes,)
    cal_weights: np.ndarray | None  # (n_classes, n_classes) map of the scores before softmax (T·I: temperature)
    cal_intercept: np.ndarray | None
    classes: list[str]
    options: dict
    meta: dict = field(default_factory=dict)
    nb: NBPart | None = None
    memory: Memory | None = None

    def __post_init__(self):
        self._keys = self._key_order = None
        lo, hi = self.options["char_range"]
        if not self.options["use_words"] and 1 <= lo <= hi <= 2:
            self._keys, self._key_order = _vocabulary_keys(self.vocabulary)

    def featurizer(self) -> Featurizer:
        return Featurizer(tuple(self.options["char_range"]), self.options["use_words"], self.options["max_chars"])

    def _tfidf(self, idx: np.ndarray, tf: np.ndarray) -> np.ndarray:
        """Sublinear tf × idf, l2-normalised (the training side's ``_tfidf``) of one text's counted features."""
        vals = (1.0 + np.log(tf)) * self.idf[idx]
        norm = np.sqrt(vals @ vals)
        return vals / norm if norm > 0 else vals

    def _count_tokens(self, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        counts: dict[int, int] = {}
        vocab = self.vocabulary
        for tok in tokens:
            j = vocab.get(tok)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        return idx, tf

    def _count_text(self, text: str) -> tuple[np.ndarray, np.ndarray, int]:
        """Feature indices and counts of one raw text, and its scored length in characters. Character
        1–2-gram models take the vectorised path: each n-gram becomes an int64 key (its code points side by
        side), counted with ``np.unique`` and looked up in the sorted vocabulary keys with ``searchsorted`` —
        the same numbers as tokenising at a fraction of the time on long bodies; other models tokenise."""
        clean = head(text, self.options["max_chars"])
        if self._keys is None:
            return (*self._count_tokens(self.featurizer()(text)), len(clean))
        lo, hi = self.options["char_range"]
        uniq, tf = np.unique(_text_keys(clean, lo, hi), return_counts=True)
        pos = np.searchsorted(self._keys, uniq)
        pos[pos == len(self._keys)] = 0
        hit = self._keys[pos] == uniq
        return self._key_order[pos[hit]], tf[hit].astype(np.float64), len(clean)

    def _svm(self, idx: np.ndarray, vals: np.ndarray) -> np.ndarray:
        if not len(idx):
            return self.intercept.astype(np.float64)
        return vals @ self.weights[idx] + self.intercept

    def _scores(self, tokens: list[str]) -> np.ndarray:
        """The SVM's scores of one token list (any model; the reference path)."""
        idx, tf = self._count_tokens(tokens)
        return self._svm(idx, self._tfidf(idx, tf))

    def _scores_text(self, text: str) -> np.ndarray:
        """The SVM's scores of one raw text (vectorised n-gram path where the model allows it)."""
        idx, tf, _ = self._count_text(text)
        return self._svm(idx, self._tfidf(idx, tf))

    def _logits(self, idx: np.ndarray, vals: np.ndarray) -> np.ndarray:
        z = self._svm(idx, vals)
        if self.cal_weights is not None:
            z = z @ self.cal_weights.T + self.cal_intercept
        if self.nb is not None:
            z = z + self.nb.scale * self.nb.scores(idx, vals)
        return z

    def _proba_one(self, text: str) -> np.ndarray:
        idx, tf, n_chars = self._count_text(text or "")
        vals = self._tfidf(idx, tf)
        z = self._logits(idx, vals)
        p = np.exp(z - z.max())
        p /= p.sum()
        if self.memory is None:
            return p
        return self.memory.combine(p[None, :], self.memory.vote(idx, vals)[None, :], np.array([n_chars]))[0]

    def proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities, one row per text, columns in ``self.classes`` order."""
        if not texts:
            return np.zeros((0, len(self.classes)))
        return np.vstack([self._proba_one(t) for t in texts])

    def proba_case(self, title: str | None, body: str | None) -> np.ndarray:
        """Probabilities for a case from its title and body together (one row): the geometric mean of the
        title's and the body's calibrated probabilities, renormalised; either may be missing."""
        parts = [t for t in (title, body) if t and t.strip()]
        if len(parts) < 2:
            return self.proba([parts[0] if parts else ""])[0]
        logp = np.log(np.clip(self.proba(parts), 1e-12, 1.0)).mean(axis=0)
        p = np.exp(logp - logp.max())
        return p / p.sum()

    def predict_case(self, title: str | None, body: str | None, k: int = 3) -> list[tuple[str, float]]:
        """Top-k (category, probability) of a case from title and body (see ``proba_case``)."""
        return self._top(self.proba_case(title, body), k)

    def _top(self, row: np.ndarray, k: int) -> list[tuple[str, float]]:
        order = np.argsort(-row, kind="stable")[:k]
        return [(self.classes[i], float(row[i])) for i in order]

    def predict_top(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        return self._top(self.proba([text or ""])[0], k)

    def save(self, path: str | os.PathLike) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        header = {
            "magic": MAGIC,
            "format": FORMAT_VERSION,
            "classes": self.classes,
            "options": self.options,
            "meta": self.meta,
        }
        arrays = {
            "terms": np.array("\n".join(terms)),
            "idf": self.idf,
            "weights": self.weights,
            "intercept": self.intercept,
        }
        if self.cal_weights is not None:
            arrays |= {"cal_weights": self.cal_weights, "cal_intercept": self.cal_intercept}
        if self.nb is not None:
            arrays |= {"nb_ratio": self.nb.ratio, "nb_weights": self.nb.weights, "nb_intercept": self.nb.intercept}
            header["nb_scale"] = self.nb.scale
        if self.memory is not None:
            arrays |= self.memory.to_arrays()
            header["memory"] = self.memory.params()
        arrays["header"] = np.array(json.dumps(header, ensure_ascii=False))
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)  # readers never see a half-written file

    @classmethod
    def load(cls, path: str | os.PathLike, trusted_dir: str | os.PathLike) -> Model:
        """Load a model file that lies inside ``trusted_dir`` (the instance folder)."""
        path = Path(path).resolve()
        root = Path(trusted_dir).resolve()
        if root != path and root not in path.parents:
            raise ModelError(f"拒绝加载受信目录之外的模型文件：{path}")
        if not path.is_file():
            raise ModelError(f"模型文件不存在：{path}")
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data["header"]))
                if header.get("magic") != MAGIC:
                    raise ModelError(f"不是分类模型文件：{path}")
                if header.get("format") not in READABLE_FORMATS:
                    raise ModelError(f"模型格式版本 {header.get('format')} 与程序（{FORMAT_VERSION}）不符，请重新训练")
                terms = str(data["terms"]).split("\n")
                cal = "cal_weights" in data.files
                nb = (
                    NBPart(data["nb_ratio"], data["nb_weights"], data["nb_intercept"], float(header["nb_scale"]))
                    if "nb_ratio" in data.files
                    else None
                )
                memory = Memory.from_arrays(data, header["memory"]) if "memory" in header else None
                return cls(
                    {t: i for i, t in enumerate(terms)},
                    data["idf"],
                    data["weights"],
                    data["intercept"],
                    data["cal_weights"] if cal else None,
                    data["cal_intercept"] if cal else None,
                    header["classes"],
                    header["options"],
                    header.get("meta", {}),
                    nb=nb,
                    memory=memory,
                )
        except ModelError:
            raise
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"不是分类模型文件：{path}（{exc}）") from exc


_BITS = 21  # every Unicode code point fits in 21 bits: a 1- or 2-gram is one int64, tagged with its length


def _text_keys(text: str, lo: int, hi: int) -> np.ndarray:
    """int64 keys of all character n-grams (lo ≤ n ≤ hi ≤ 2) of an already normalised, truncated text."""
    cp = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    parts = []
    if lo <= 1 <= hi:
        parts.append(cp | (1 << 2 * _BITS))
    if lo <= 2 <= hi and len(cp) > 1:
        parts.append((cp[:-1] << _BITS) | cp[1:] | (2 << 2 * _BITS))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _term_key(term: str) -> int:
    if len(term) == 1:
        return ord(term) | (1 << 2 * _BITS)
    return (ord(term[0]) << _BITS) | ord(term[1]) | (2 << 2 * _BITS)


def _vocabulary_keys(vocabulary: dict[str, int]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Sorted n-gram keys and the feature index of each; (None, None) if a term is not a 1- or 2-gram."""
    if any(not 1 <= len(t) <= 2 for t in vocabulary):
        return None, None
    keys = np.fromiter((_term_key(t) for t in vocabulary), dtype=np.int64, count=len(vocabulary))
    index = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary))
    order = np.argsort(keys)
    return keys[order], index[order]
