"""Level-1 category classifier for case text (title and/or body), learned from labelled history.

Model: TF-IDF over character 1–2-grams (sublinear tf, l2) → LinearSVC, whose decision scores are
turned into probabilities by a multinomial logistic calibrator fitted on out-of-fold scores
(internal 3-fold), so ``predict_top`` returns calibrated probabilities. The baseline
(``algorithm="baseline"``) is the usual TF-IDF character 1–3-grams → LinearSVC(C=0.5), uncalibrated
scores squashed by softmax. What was tried and measured: tests/bench/routing_bench.py.

Pure (no Flask / hotline imports). Training uses scikit-learn; the trained model is converted to
plain arrays (vocabulary, idf, weights, calibrator), so scoring needs numpy only and the web process
never imports scikit-learn. ``Model.save``/``load`` write/read one ``.npz`` (``allow_pickle=False``: no
code runs on load) with a magic string and a format version, and refuse files outside the folder the
caller names as trusted (the app's instance folder).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from routing.model import FORMAT_VERSION, MAGIC, MODEL_FILE, Featurizer, Model, ModelError, model_path

__all__ = ["ALGORITHMS", "FORMAT_VERSION", "MAGIC", "MODEL_FILE", "CVMetrics", "Featurizer", "LabelledData", "Model",
           "ModelError", "cross_validate", "load_tsv", "load_tsv_dir", "model_path", "score_metrics", "train"]

ALGORITHMS: dict[str, dict] = {
    # chosen: best measured that meets the latency/memory budget (numbers: tests/bench/routing_bench.py)
    "svm": {"char_range": (1, 2), "use_words": False, "C": 1.0, "min_df": "auto", "calibrate": True},
    # + jieba words and word bigrams: +0.1 (titles) / +0.4 (bodies) macro-F1 points, but ~4× the classify
    # time on bodies and ~+110 MB per process (jieba's dictionary), too close to the 150 MB budget
    "svm_words": {"char_range": (1, 2), "use_words": True, "C": 1.0, "min_df": "auto", "calibrate": True},
    # baseline: the common TF-IDF + linear recipe (char 1–3-grams, LinearSVC, softmax of raw scores)
    "baseline": {"char_range": (1, 3), "use_words": False, "C": 0.5, "min_df": "auto", "calibrate": False},
}


def _options(opts: dict) -> dict:
    algorithm = opts.pop("algorithm", "svm")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {sorted(ALGORITHMS)}")
    out = {"algorithm": algorithm, "class_weight": None, **ALGORITHMS[algorithm], "calibration_folds": 3,
           "max_chars": 1000, "seed": 0}
    unknown = set(opts) - set(out)
    if unknown:
        raise ValueError(f"unknown training options: {sorted(unknown)}")
    out.update(opts)
    return out


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def _new_vectorizer(options, n_texts: int):
    from sklearn.feature_extraction.text import TfidfVectorizer

    min_df = options["min_df"]
    if min_df == "auto":  # drop one-off n-grams only when there is enough data for it to pay
        min_df = 2 if n_texts >= 1000 else 1
    # fitted on pre-tokenised texts (each text is tokenised once per training run, not once per fold);
    # the Featurizer replaces the identity analyzer before the model is returned
    return TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=min_df, dtype=np.float32)


def _featurizer(options) -> Featurizer:
    return Featurizer(tuple(options["char_range"]), options["use_words"], options["max_chars"])


def _fit(tokens: list[list[str]], labels: np.ndarray, options: dict):
    from sklearn.svm import LinearSVC

    vectorizer = _new_vectorizer(options, len(tokens))
    x = vectorizer.fit_transform(tokens)
    clf = LinearSVC(C=options["C"], class_weight=options["class_weight"], random_state=options["seed"])
    clf.fit(x, labels)
    return vectorizer, clf


def _decision(vectorizer, clf, tokens: list[list[str]]) -> np.ndarray:
    scores = clf.decision_function(vectorizer.transform(tokens))
    return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores


def train(texts: list[str], labels: list[str], **opts) -> Model:
    """Fit a model. Options: algorithm ("svm" | "baseline"), char_range, use_words, C, min_df,
    calibrate, calibration_folds, max_chars, seed."""
    options = _options(dict(opts))
    if len(texts) != len(labels) or not texts:
        raise ValueError("texts and labels must be non-empty and of equal length")
    featurize = _featurizer(options)
    return _train_tokens([featurize(t) for t in texts], list(labels), options)


def _train_tokens(tokens: list[list[str]], labels: list[str], options: dict) -> Model:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    labels_arr = np.asarray(labels)
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError("need at least two categories to train")
    started = time.perf_counter()
    calibrator = None
    folds = min(options["calibration_folds"], int(min(np.unique(labels_arr, return_counts=True)[1])))
    if options["calibrate"] and folds >= 2:
        oof = np.zeros((len(tokens), len(classes)))
        skf = StratifiedKFold(folds, shuffle=True, random_state=options["seed"])
        for tr, te in skf.split(np.zeros(len(tokens)), labels_arr):
            vec, clf = _fit([tokens[i] for i in tr], labels_arr[tr], options)
            oof[te] = _decision(vec, clf, [tokens[i] for i in te])
        calibrator = LogisticRegression(C=1.0, max_iter=1000)
        calibrator.fit(oof, labels_arr)
    vectorizer, classifier = _fit(tokens, labels_arr, options)
    coef, intercept = classifier.coef_, classifier.intercept_
    if coef.shape[0] == 1:  # two classes: one score s for classes[1] → columns (-s, s)
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    cal_w = cal_b = None
    if calibrator is not None:
        cal_w, cal_b = calibrator.coef_, calibrator.intercept_
        if cal_w.shape[0] == 1:  # binary logistic: softmax over logits (0, z) = (1 - σ(z), σ(z))
            cal_w, cal_b = np.vstack([np.zeros_like(cal_w), cal_w]), np.concatenate([[0.0], cal_b])
    meta = {"trained_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "n": len(tokens),
            "counts": {c: int((labels_arr == c).sum()) for c in classes},
            "features": len(vectorizer.vocabulary_), "train_seconds": round(time.perf_counter() - started, 2)}
    vocabulary = {t: int(i) for t, i in vectorizer.vocabulary_.items()}
    return Model(vocabulary, vectorizer.idf_.astype(np.float32), np.ascontiguousarray(coef.T, dtype=np.float32),
                 intercept.astype(np.float64), cal_w, cal_b, classes, options, meta)


# --- evaluation ---------------------------------------------------------------------------------

@dataclass
class CVMetrics:
    macro_f1: float
    accuracy: float
    top3_accuracy: float
    precision_at_coverage: float   # precision of the most confident `coverage` share of cases
    threshold_at_coverage: float   # top-1 probability at which that share is reached
    coverage: float
    folds: int
    n: int
    seconds: float                 # wall time of the whole cross-validation
    per_class_f1: dict[str, float] = field(default_factory=dict)


def score_metrics(proba: np.ndarray, classes: list[str], labels: list[str], coverage: float = 0.8) -> dict:
    """Metrics from a probability matrix (rows = cases, columns = classes)."""
    from sklearn.metrics import f1_score

    y = np.asarray(labels)
    cls = np.asarray(classes)
    order = np.argsort(-proba, axis=1)
    pred = cls[order[:, 0]]
    correct = pred == y
    top3 = (cls[order[:, :3]] == y[:, None]).any(axis=1)
    conf = proba[np.arange(len(y)), order[:, 0]]
    by_conf = np.argsort(-conf, kind="stable")
    keep = max(1, round(coverage * len(y)))
    return {
        "macro_f1": float(f1_score(y, pred, average="macro")),
        "accuracy": float(correct.mean()),
        "top3_accuracy": float(top3.mean()),
        "precision_at_coverage": float(correct[by_conf[:keep]].mean()),
        "threshold_at_coverage": float(conf[by_conf[keep - 1]]),
        "per_class_f1": {c: float(f) for c, f in zip(classes, f1_score(y, pred, average=None, labels=classes),
                                                       strict=True)},
    }


def cross_validate(texts: list[str], labels: list[str], folds: int = 5, coverage: float = 0.8,
                   seed: int = 0, **opts) -> CVMetrics:
    """Stratified k-fold CV of ``train(**opts)``: every case is scored by a model that never saw it."""
    from sklearn.model_selection import StratifiedKFold

    options = _options(dict(opts))
    y = np.asarray(labels)
    classes = sorted(set(labels))
    proba = np.zeros((len(texts), len(classes)))
    started = time.perf_counter()
    featurize = _featurizer(options)
    tokens = [featurize(t) for t in texts]  # the featurizer is label-free: tokenising once is not a leak
    skf = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for tr, te in skf.split(np.zeros(len(texts)), y):
        model = _train_tokens([tokens[i] for i in tr], list(y[tr]), options)
        cols = [classes.index(c) for c in model.classes]
        proba[np.ix_(te, cols)] = model._proba_tokens([tokens[i] for i in te])
    m = score_metrics(proba, classes, labels, coverage)
    return CVMetrics(coverage=coverage, folds=folds, n=len(texts), seconds=round(time.perf_counter() - started, 1),
                     **m)


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
