"""Cross-validation of the category classifier: stratified (optionally grouped) folds, out-of-fold scores.

Built on ``routing.classifier`` (training) and ``routing.evaluation`` (metrics, near-duplicate groups); neither
of them imports this module. Pure (no Flask / hotline imports); needs scikit-learn (training side only).
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from routing.classifier import _count_matrix, _options, _train_counts, text_lengths
from routing.evaluation import CVMetrics, score_metrics


def grouped_folds(labels: list[str], groups: np.ndarray, folds: int, seed: int = 0) -> list[tuple]:
    """Stratified folds that keep every group inside one fold."""
    y = np.asarray(labels)
    return list(StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y, groups))


def out_of_fold_proba(texts: list[str], labels: list[str], splits: list[tuple], **opts) -> tuple[np.ndarray, list]:
    """Probabilities of every text from a model trained without its fold (columns: sorted labels).
    Texts are tokenised and counted once (label-free); each fold's vocabulary, idf and weights come from
    its training rows only, exactly as ``train`` would compute them."""
    options = _options(dict(opts))
    classes = sorted(set(labels))
    y = np.asarray(labels)
    counts, terms = _count_matrix(texts, options)
    lengths = text_lengths(texts, options)
    proba = np.zeros((len(texts), len(classes)))
    for tr, te in splits:
        model, scorer = _train_counts(counts[tr], terms, y[tr], options)
        cols = [classes.index(c) for c in model.classes]
        proba[np.ix_(te, cols)] = scorer(counts[te], lengths[te])
    return proba, classes


def cross_validate(
    texts: list[str],
    labels: list[str],
    folds: int = 5,
    coverage: float = 0.8,
    seed: int = 0,
    groups: np.ndarray | None = None,
    **opts,
) -> CVMetrics:
    """Stratified k-fold CV of ``train(**opts)``: every case is scored by a model that never saw it (nor,
    with ``groups``, any text of its group)."""
    started = time.perf_counter()
    if groups is not None:
        splits = grouped_folds(labels, groups, folds, seed)
    else:
        splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels))
    proba, classes = out_of_fold_proba(texts, labels, splits, **opts)
    m = score_metrics(proba, classes, labels, coverage)
    return CVMetrics(coverage=coverage, folds=folds, n=len(texts), seconds=round(time.perf_counter() - started, 1), **m)
