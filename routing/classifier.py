"""Level-1 category classifier for case text (title and/or body), learned from labelled history.

Model: TF-IDF over character 1–2-grams (sublinear tf, smooth idf, l2) → LinearSVC with balanced class
weights, whose decision scores s become probabilities softmax(T·s) with one temperature T fitted (log-loss)
on out-of-fold scores (internal 3-fold), so ``predict_top`` returns calibrated probabilities and the
auto-dispatch threshold is a probability. A temperature keeps the SVM's class order; the multinomial
logistic calibrator tried first (``calibrator="logistic"``) reorders classes and measured −0.4 macro-F1
points, −0.15 top-3 points on bodies, and no better precision at 80 % coverage. All labelled files
(titles and bodies) train one model: the measured gain over per-file models is +1.5 macro-F1 points on each. The
baseline (``algorithm="baseline"``) is the usual TF-IDF character 1–3-grams → LinearSVC(C=0.5), uncalibrated
scores squashed by softmax. What was tried and measured: tests/bench/routing_bench.py, docs in
routing/evaluation.py (honest CV over near-duplicate groups).

Training counts the texts once (``_count_matrix``) and fits on row slices of that matrix, each fit taking
its vocabulary (min_df), idf and weights from its own rows only — cross-validation and the calibration
folds do not re-tokenise. Pure (no Flask / hotline imports). Training uses scikit-learn; the trained
model is converted to plain arrays (vocabulary, idf, weights, calibrator), so scoring needs numpy only and
the web process never imports scikit-learn. ``Model.save``/``load`` write/read one ``.npz``
(``allow_pickle=False``: no code runs on load) with a magic string and a format version, and refuse files
outside the folder the caller names as trusted (the app's instance folder).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routing.evaluation import CVMetrics, cross_validate, score_metrics
from routing.model import FORMAT_VERSION, MAGIC, MODEL_FILE, Featurizer, Model, ModelError, model_path

__all__ = ["ALGORITHMS", "FORMAT_VERSION", "MAGIC", "MODEL_FILE", "CVMetrics", "Featurizer", "LabelledData", "Model",
           "ModelError", "cross_validate", "load_tsv", "load_tsv_dir", "model_path", "score_metrics", "train"]

ALGORITHMS: dict[str, dict] = {
    # chosen: best measured that meets the latency/memory budget (numbers: tests/bench/routing_bench.py)
    "svm": {"char_range": (1, 2), "use_words": False, "C": 1.0, "min_df": "auto", "calibrate": True,
            "class_weight": "balanced"},
    # + jieba words and word bigrams: ≤ +0.4 macro-F1 points (bodies), but jieba costs ~100 MB per process and
    # ~4 ms per 1,000-character body (CPU p95): over the 2 ms budget
    "svm_words": {"char_range": (1, 2), "use_words": True, "C": 1.0, "min_df": "auto", "calibrate": True,
                  "class_weight": "balanced"},
    # baseline: the common TF-IDF + linear recipe (char 1–3-grams, LinearSVC, softmax of raw scores)
    "baseline": {"char_range": (1, 3), "use_words": False, "C": 0.5, "min_df": "auto", "calibrate": False},
}


def _options(opts: dict) -> dict:
    algorithm = opts.pop("algorithm", "svm")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {sorted(ALGORITHMS)}")
    out = {"algorithm": algorithm, "class_weight": None, **ALGORITHMS[algorithm], "calibration_folds": 3,
           "calibrator": "temperature",
           "max_chars": 1000, "seed": 0}
    unknown = set(opts) - set(out)
    if unknown:
        raise ValueError(f"unknown training options: {sorted(unknown)}")
    out.update(opts)
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


def _tfidf(counts, idf: np.ndarray):
    """Sublinear tf × idf, rows l2-normalised (what TfidfVectorizer(sublinear_tf=True) computes)."""
    from sklearn.preprocessing import normalize as l2

    x = counts.copy()
    x.data = 1.0 + np.log(x.data)
    return l2(x.multiply(idf[None, :]).tocsr())


def _fit(counts, labels: np.ndarray, options: dict):
    """Columns kept (document frequency ≥ min_df in these rows), their smooth idf, and the fitted SVM."""
    from sklearn.svm import LinearSVC

    n = counts.shape[0]
    min_df = options["min_df"]
    if min_df == "auto":  # drop one-off n-grams only when there is enough data for it to pay
        min_df = 2 if n >= 1000 else 1
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    cols = np.flatnonzero(df >= min_df)
    idf = np.log((1.0 + n) / (1.0 + df[cols])) + 1.0
    clf = LinearSVC(C=options["C"], class_weight=options["class_weight"], random_state=options["seed"])
    clf.fit(_tfidf(counts[:, cols], idf), labels)
    return cols, idf, clf


def _decision(fitted, counts) -> np.ndarray:
    cols, idf, clf = fitted
    scores = clf.decision_function(_tfidf(counts[:, cols], idf))
    return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores


def train(texts: list[str], labels: list[str], **opts) -> Model:
    """Fit a model. Options: algorithm ("svm" | "svm_words" | "baseline"), char_range, use_words, C, min_df,
    class_weight, calibrate, calibration_folds, calibrator ("temperature" | "logistic"), max_chars, seed."""
    options = _options(dict(opts))
    if len(texts) != len(labels) or not texts:
        raise ValueError("texts and labels must be non-empty and of equal length")
    if len(set(labels)) < 2:
        raise ValueError("need at least two categories to train")
    counts, terms = _count_matrix(list(texts), options)
    return _train_counts(counts, terms, np.asarray(labels), options)[0]


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The T minimising the log-loss of softmax(T · scores) against class indices ``y`` (out-of-fold scores)."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        z = np.exp(log_t) * scores
        z -= z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, y]))

    return float(np.exp(minimize_scalar(nll, bounds=(-3.0, 5.0), method="bounded").x))


def _train_counts(counts, terms: list[str], labels_arr: np.ndarray, options: dict):
    """Model from a count matrix, plus a scorer of further count rows (same columns) → linear scores."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    classes = sorted(set(labels_arr.tolist()))
    if len(classes) < 2:
        raise ValueError("need at least two categories to train")
    started = time.perf_counter()
    calibrator = None
    folds = min(options["calibration_folds"], int(min(np.unique(labels_arr, return_counts=True)[1])))
    if options["calibrate"] and folds >= 2:
        oof = np.zeros((counts.shape[0], len(classes)))
        skf = StratifiedKFold(folds, shuffle=True, random_state=options["seed"])
        for tr, te in skf.split(np.zeros(counts.shape[0]), labels_arr):
            oof[te] = _decision(_fit(counts[tr], labels_arr[tr], options), counts[te])
        if options["calibrator"] == "logistic":  # multinomial LR on the scores (may reorder classes)
            calibrator = LogisticRegression(C=1.0, max_iter=1000).fit(oof, labels_arr)
        else:  # one temperature: keeps the SVM's class order, so top-1/top-3 are the SVM's own
            t = fit_temperature(oof, np.searchsorted(classes, labels_arr))
            calibrator = type("Temperature", (), {"coef_": t * np.eye(len(classes)),
                                                  "intercept_": np.zeros(len(classes)), "t": t})()
    fitted = _fit(counts, labels_arr, options)
    cols, idf, classifier = fitted
    coef, intercept = classifier.coef_, classifier.intercept_
    if coef.shape[0] == 1:  # two classes: one score s for classes[1] → columns (-s, s)
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    cal_w = cal_b = None
    if calibrator is not None:
        cal_w, cal_b = calibrator.coef_, calibrator.intercept_
        if cal_w.shape[0] == 1:  # binary logistic: softmax over logits (0, z) = (1 - σ(z), σ(z))
            cal_w, cal_b = np.vstack([np.zeros_like(cal_w), cal_w]), np.concatenate([[0.0], cal_b])
    meta = {"trained_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "n": int(counts.shape[0]),
            "counts": {c: int((labels_arr == c).sum()) for c in classes},
            "features": len(cols), "train_seconds": round(time.perf_counter() - started, 2)}
    if calibrator is not None and hasattr(calibrator, "t"):
        meta["temperature"] = round(float(calibrator.t), 4)
    vocabulary = {terms[j]: i for i, j in enumerate(cols.tolist())}
    model = Model(vocabulary, idf.astype(np.float32), np.ascontiguousarray(coef.T, dtype=np.float32),
                  intercept.astype(np.float64), cal_w, cal_b, classes, options, meta)
    return model, lambda rows: _decision(fitted, rows)


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
