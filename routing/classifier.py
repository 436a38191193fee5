"""Level-1 category classifier for case text (title and/or body), learned from labelled history.

Chosen model (``algorithm="svm_nb_memory"``), all on TF-IDF of character 1–2-grams (sublinear tf, smooth
idf, l2):
1. LinearSVC, balanced class weights → scores s (one per class);
2. NB-SVM: per class k, the features scaled by the naive-Bayes log-count ratio r_k of k against the rest,
   re-normalised, and a binary LinearSVC on them → scores u;
3. probabilities softmax(a·s + c·u), the two weights fitted (log-loss) on out-of-fold scores of an internal
   3-fold split — with c = 0 this is the temperature calibration of the SVM alone (``algorithm="svm"``);
4. a nearest-neighbour memory of the training texts (``routing.memory``) whose label vote is blended in.
Both additions to the SVM alone (NB-SVM, the memory) raised macro-F1 under 5-fold CV over near-duplicate
groups. Tried on the same folds and not adopted (no clear gain; most lost): jieba words, char 1–3-grams,
logistic regression, ridge, SGD modified-Huber, complement / multinomial NB alone or averaged in, other values
of C (C stays 1, so no nested search was needed), no class weights, truncating bodies or adding their first
characters as extra features, ranking auto-dispatch by the top-2 margin instead of the top probability,
training on extra title-like snippets of the training bodies (a clear gain only on a plain k-fold, where the
snippet is often the held-out title itself), a containment vote (the training text holding most of the
query's trigrams, a title inside its own body: a gain only on a plain k-fold, twins only). The multinomial
logistic calibrator (``calibrator="logistic"``) reorders classes and scored lower on bodies. All labelled
files (titles and bodies) train one model (better on each than per-file models). Every figure:
tests/bench/README.md, routing ("Design decisions and their measurements"). The baseline
(``algorithm="baseline"``) is the usual TF-IDF character 1–3-grams → LinearSVC(C=0.5), uncalibrated scores
squashed by softmax.

Training counts the texts once (``_count_matrix``) and fits on row slices of that matrix, each fit taking
its vocabulary (min_df), idf and weights from its own rows only — cross-validation and the calibration
folds do not re-tokenise. Pure (no Flask / hotline imports). Training uses scikit-learn; the trained
model is converted to plain arrays (``routing.model``), so scoring needs numpy only and the web process
never imports scikit-learn. ``Model.save``/``load`` write/read one ``.npz`` (``allow_pickle=False``: no
code runs on load) with a magic string and a format version, and refuse files outside the folder the
caller names as trusted (the app's instance folder).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routing import memory as memory_mod
from routing.model import FORMAT_VERSION, MAGIC, MODEL_FILE, Featurizer, Model, ModelError, NBPart, model_path
from routing.text import head

__all__ = [
    "ALGORITHMS",
    "FORMAT_VERSION",
    "MAGIC",
    "MODEL_FILE",
    "Featurizer",
    "LabelledData",
    "Model",
    "ModelError",
    "load_tsv",
    "load_tsv_dir",
    "model_path",
    "train",
]

_CHARS = {
    "char_range": (1, 2),
    "use_words": False,
    "C": 1.0,
    "min_df": "auto",
    "calibrate": True,
    "class_weight": "balanced",
}
ALGORITHMS: dict[str, dict] = {
    # chosen: best measured that meets the latency/memory budget (numbers: tests/bench/README.md, routing)
    "svm_nb_memory": {**_CHARS, "nb": True, "memory": True},
    # the previous model: the SVM alone, temperature-calibrated
    "svm": dict(_CHARS),
    # + jieba words and word bigrams: no better, and jieba's memory per process and classify time per body are
    # over the budget (measurements: tests/bench/README.md, routing)
    "svm_words": {**_CHARS, "use_words": True},
    # baseline: the common TF-IDF + linear recipe (char 1–3-grams, LinearSVC, softmax of raw scores)
    "baseline": {"char_range": (1, 3), "use_words": False, "C": 0.5, "min_df": "auto", "calibrate": False},
}
DEFAULT_ALGORITHM = "svm_nb_memory"


def _options(opts: dict) -> dict:
    algorithm = opts.pop("algorithm", DEFAULT_ALGORITHM)
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {sorted(ALGORITHMS)}")
    out = {
        "algorithm": algorithm,
        "class_weight": None,
        "nb": False,
        "memory": False,
        **ALGORITHMS[algorithm],
        "calibration_folds": 3,
        "calibrator": "temperature",
        "max_chars": 1000,
        "seed": 0,
    }
    unknown = set(opts) - set(out)
    if unknown:
        raise ValueError(f"unknown training options: {sorted(unknown)}")
    out.update(opts)
    if out["nb"] and out["calibrator"] != "temperature":
        raise ValueError("NB-SVM scores are weighted by the temperature calibrator only")
    return out


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def _featurizer(options) -> Featurizer:
    return Featurizer(tuple(options["char_range"]), options["use_words"], options["max_chars"])


def _count_matrix(texts: list[str], options: dict):
    """Raw term counts of all texts (CSR, float64) and the term of each column. Label-free: cross-validation
    counts once and slices rows; vocabulary cut-off and idf are computed per training set in ``_fit``."""
    from sklearn.feature_extraction.text import CountVectorizer

    featurize = _featurizer(options)
    vec = CountVectorizer(analyzer=_identity, lowercase=False, dtype=np.float64)
    try:
        counts = vec.fit_transform([featurize(t) for t in texts]).tocsr()
    except ValueError as exc:  # every text empty
        raise ValueError("texts have no characters to learn from") from exc
    return counts, vec.get_feature_names_out().tolist()


def text_lengths(texts: list[str], options: dict) -> np.ndarray:
    """Characters each text is scored on (normalised, truncated): what the memory's blend weight uses."""
    return np.array([len(head(t or "", options["max_chars"])) for t in texts])


def _tfidf(counts, idf: np.ndarray):
    """Sublinear tf × idf, rows l2-normalised (what TfidfVectorizer(sublinear_tf=True) computes)."""
    from sklearn.preprocessing import normalize as l2

    x = counts.copy()
    x.data = 1.0 + np.log(x.data)
    return l2(x.multiply(idf[None, :]).tocsr())


@dataclass
class _Fitted:
    cols: np.ndarray  # columns of the count matrix kept (document frequency ≥ min_df)
    idf: np.ndarray
    svm: object
    nb_ratio: np.ndarray | None = None  # (n_features, n_classes) log-count ratios
    nb_svms: list | None = None  # one binary LinearSVC per class on the ratio-scaled features


def _nb_scaled(x, ratio: np.ndarray):
    from sklearn.preprocessing import normalize as l2

    return l2(x.multiply(ratio[None, :]).tocsr())


def _fit(counts, labels: np.ndarray, options: dict, classes: list[str]) -> tuple[_Fitted, object]:
    """Fitted parts from count rows (vocabulary, idf and weights from these rows only) and their tf-idf."""
    from sklearn.svm import LinearSVC

    n = counts.shape[0]
    min_df = options["min_df"]
    if min_df == "auto":  # drop one-off n-grams only when there is enough data for it to pay
        min_df = 2 if n >= 1000 else 1
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    cols = np.flatnonzero(df >= min_df)
    idf = np.log((1.0 + n) / (1.0 + df[cols])) + 1.0
    x = _tfidf(counts[:, cols], idf)

    def svm():
        return LinearSVC(C=options["C"], class_weight=options["class_weight"], random_state=options["seed"])

    fitted = _Fitted(cols, idf, svm().fit(x, labels))
    if options["nb"]:
        present = (x > 0).astype(np.float64)
        ratios, svms = [], []
        for c in classes:
            mine = labels == c
            p = 1.0 + np.asarray(present[mine].sum(axis=0)).ravel()
            q = 1.0 + np.asarray(present[~mine].sum(axis=0)).ravel()
            ratios.append(np.log(p / p.sum()) - np.log(q / q.sum()))
            svms.append(svm().fit(_nb_scaled(x, ratios[-1]), mine))
        fitted.nb_ratio, fitted.nb_svms = np.column_stack(ratios), svms
    return fitted, x


def _decision(fitted: _Fitted, counts) -> tuple[np.ndarray, np.ndarray | None, object]:
    """SVM scores, NB-SVM scores (or None) and the l2 tf-idf rows of further count rows (same columns)."""
    x = _tfidf(counts[:, fitted.cols], fitted.idf)
    scores = fitted.svm.decision_function(x)
    scores = np.column_stack([-scores, scores]) if scores.ndim == 1 else scores
    nb = None
    if fitted.nb_svms is not None:
        nb = np.column_stack(
            [clf.decision_function(_nb_scaled(x, fitted.nb_ratio[:, k])) for k, clf in enumerate(fitted.nb_svms)]
        )
    return scores, nb, x


def train(texts: list[str], labels: list[str], **opts) -> Model:
    """Fit a model. Options: algorithm ("svm_nb_memory" | "svm" | "svm_words" | "baseline"), char_range,
    use_words, C, min_df, class_weight, nb, memory, calibrate, calibration_folds, calibrator ("temperature" |
    "logistic"), max_chars, seed."""
    options = _options(dict(opts))
    if len(texts) != len(labels) or not texts:
        raise ValueError("texts and labels must be non-empty and of equal length")
    if len(set(labels)) < 2:
        raise ValueError("need at least two categories to train")
    counts, terms = _count_matrix(list(texts), options)
    return _train_counts(counts, terms, np.asarray(labels), options)[0]


def _nll(z: np.ndarray, y: np.ndarray) -> float:
    z = z - z.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The T minimising the log-loss of softmax(T · scores) against class indices ``y`` (out-of-fold scores)."""
    from scipy.optimize import minimize_scalar

    return float(
        np.exp(minimize_scalar(lambda log_t: _nll(np.exp(log_t) * scores, y), bounds=(-3.0, 5.0), method="bounded").x)
    )


def fit_score_weights(scores: np.ndarray, nb_scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The (a, c) ≥ 0 minimising the log-loss of softmax(a · scores + c · nb_scores) (out-of-fold scores)."""
    from scipy.optimize import minimize

    start = np.log(max(fit_temperature(scores, y), 1e-3))
    res = minimize(
        lambda w: _nll(np.exp(w[0]) * scores + np.exp(w[1]) * nb_scores, y),
        [start, start],
        method="Nelder-Mead",
        options={"xatol": 1e-3, "fatol": 1e-6},
    )
    return float(np.exp(res.x[0])), float(np.exp(res.x[1]))


def _calibration(counts, labels_arr: np.ndarray, classes: list[str], options: dict) -> dict:
    """Weights of the scores before the softmax, fitted on out-of-fold scores of an internal split."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    folds = min(options["calibration_folds"], int(min(np.unique(labels_arr, return_counts=True)[1])))
    if not options["calibrate"] or folds < 2:
        return {"a": 1.0, "c": 1.0} if options["nb"] else {}
    k = len(classes)
    oof, oof_nb = np.zeros((counts.shape[0], k)), np.zeros((counts.shape[0], k))
    skf = StratifiedKFold(folds, shuffle=True, random_state=options["seed"])
    for tr, te in skf.split(np.zeros(counts.shape[0]), labels_arr):
        scores, nb, _ = _decision(_fit(counts[tr], labels_arr[tr], options, classes)[0], counts[te])
        oof[te] = scores
        if nb is not None:
            oof_nb[te] = nb
    y = np.searchsorted(classes, labels_arr)
    if options["nb"]:
        a, c = fit_score_weights(oof, oof_nb, y)
        return {"a": a, "c": c}
    if options["calibrator"] == "logistic":  # multinomial LR on the scores (may reorder classes)
        lr = LogisticRegression(C=1.0, max_iter=1000).fit(oof, labels_arr)
        w, b = lr.coef_, lr.intercept_
        if w.shape[0] == 1:  # binary logistic: softmax over logits (0, z) = (1 - σ(z), σ(z))
            w, b = np.vstack([np.zeros_like(w), w]), np.concatenate([[0.0], b])
        return {"weights": w, "intercept": b}
    return {"a": fit_temperature(oof, y)}


def _train_counts(counts, terms: list[str], labels_arr: np.ndarray, options: dict):
    """Model from a count matrix, plus a scorer of further count rows (same columns) and their text lengths
    → probabilities (what ``Model.proba`` gives for those texts)."""
    classes = sorted(set(labels_arr.tolist()))
    if len(classes) < 2:
        raise ValueError("need at least two categories to train")
    started = time.perf_counter()
    cal = _calibration(counts, labels_arr, classes, options)
    fitted, x = _fit(counts, labels_arr, options, classes)
    coef, intercept = fitted.svm.coef_, fitted.svm.intercept_
    if coef.shape[0] == 1:  # two classes: one score s for classes[1] → columns (-s, s)
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    k = len(classes)
    cal_w = cal_b = None
    if "a" in cal:
        cal_w, cal_b = cal["a"] * np.eye(k), np.zeros(k)
    elif "weights" in cal:
        cal_w, cal_b = cal["weights"], cal["intercept"]
    nb = None
    if fitted.nb_svms is not None:
        nb = NBPart(
            fitted.nb_ratio.astype(np.float32),
            np.column_stack([c.coef_.ravel() for c in fitted.nb_svms]).astype(np.float32),
            np.array([float(c.intercept_[0]) for c in fitted.nb_svms]),
            float(cal["c"]),
        )
    mem = memory_mod.build(x, np.searchsorted(classes, labels_arr), k) if options["memory"] else None
    meta = {
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "n": int(counts.shape[0]),
        "counts": {c: int((labels_arr == c).sum()) for c in classes},
        "features": len(fitted.cols),
        "train_seconds": round(time.perf_counter() - started, 2),
    }
    if "a" in cal:
        meta["temperature"] = round(float(cal["a"]), 4)
    if nb is not None:
        meta["nb_weight"] = round(nb.scale, 4)
    vocabulary = {terms[j]: i for i, j in enumerate(fitted.cols.tolist())}
    model = Model(
        vocabulary,
        fitted.idf.astype(np.float32),
        np.ascontiguousarray(coef.T, dtype=np.float32),
        intercept.astype(np.float64),
        cal_w,
        cal_b,
        classes,
        options,
        meta,
        nb=nb,
        memory=mem,
    )

    def proba_rows(rows, n_chars: np.ndarray) -> np.ndarray:
        scores, nb_scores, xr = _decision(fitted, rows)
        z = scores if cal_w is None else scores @ cal_w.T + cal_b
        if nb_scores is not None:
            z = z + nb.scale * nb_scores
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return p if mem is None else mem.combine(p, mem.vote_rows(xr), n_chars)

    return model, proba_rows


# --- data ---------------------------------------------------------------------------------------


@dataclass
class LabelledData:
    texts: list[str]
    labels: list[str]
    files: dict[str, dict[str, int]]  # file name → {"rows": kept, "skipped": malformed}


def load_tsv(path: str | os.PathLike) -> tuple[list[str], list[str], int]:
    """``text<TAB>label`` lines; a line without exactly one tab, or with an empty side, is skipped."""
    texts: list[str] = []
    labels: list[str] = []
    skipped = 0
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                skipped += 1
                continue
            texts.append(parts[0].strip())
            labels.append(parts[1].strip())
    return texts, labels, skipped


def load_tsv_dir(directory: str | os.PathLike) -> LabelledData:
    """All ``*.tsv`` of a folder (sorted by name), concatenated, with per-file counts."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"数据目录不存在：{directory}")
    data = LabelledData([], [], {})
    for path in sorted(directory.glob("*.tsv")):
        texts, labels, skipped = load_tsv(path)
        data.texts += texts
        data.labels += labels
        data.files[path.name] = {"rows": len(texts), "skipped": skipped}
    if not data.files:
        raise FileNotFoundError(f"目录中没有 .tsv 文件：{directory}")
    return data
