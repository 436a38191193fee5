"""Evaluating the category classifier honestly: metrics, near-duplicate groups, grouped cross-validation.

Labelled history holds the same matter more than once: a title file and a body file of the same
platform, where a body's own title is often in the title file (on the tipdm data most bodies contain
≥ 50 % of the character trigrams of one title, and those pairs nearly always agree on the label, random
pairs rarely), and re-posted messages. Plain k-fold CV puts such twins on both sides of a split and
overstates quality (clearly on bodies when titles and bodies are trained together; measurements:
tests/bench/README.md, routing). ``near_duplicate_groups`` links them (label-free: text only), and
``routing.cv.cross_validate(groups=…)`` keeps each group inside one fold.

Pure (no Flask / hotline imports); needs scikit-learn (training side only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from routing.text import normalize


@dataclass
class CVMetrics:
    macro_f1: float
    accuracy: float
    top3_accuracy: float
    precision_at_coverage: float  # precision of the most confident `coverage` share of cases
    threshold_at_coverage: float  # top-1 probability at which that share is reached
    coverage: float
    folds: int
    n: int
    seconds: float  # wall time of the whole cross-validation
    per_class_f1: dict[str, float] = field(default_factory=dict)


def score_metrics(proba: np.ndarray, classes: list[str], labels: list[str], coverage: float = 0.8) -> dict:
    """Metrics from a probability matrix (rows = cases, columns = classes)."""
    from sklearn.metrics import f1_score

    y = np.asarray(labels)
    cls = np.asarray(classes)
    order = np.argsort(-proba, axis=1, kind="stable")
    pred = cls[order[:, 0]]
    correct = pred == y
    top3 = (cls[order[:, :3]] == y[:, None]).any(axis=1)
    conf = proba[np.arange(len(y)), order[:, 0]]
    by_conf = np.argsort(-conf, kind="stable")
    keep = max(1, round(coverage * len(y)))
    present = [c for c in classes if c in set(labels)]
    return {
        "macro_f1": float(f1_score(y, pred, average="macro", labels=present)),
        "accuracy": float(correct.mean()),
        "top3_accuracy": float(top3.mean()),
        "precision_at_coverage": float(correct[by_conf[:keep]].mean()),
        "threshold_at_coverage": float(conf[by_conf[keep - 1]]),
        "per_class_f1": {
            c: float(f) for c, f in zip(present, f1_score(y, pred, average=None, labels=present), strict=True)
        },
    }


def coverage_curve(
    proba: np.ndarray,
    classes: list[str],
    labels: list[str],
    coverages: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
) -> dict[str, float]:
    """Precision of the most confident share of cases, for several shares (auto-dispatch trade-off)."""
    y = np.asarray(labels)
    top = proba.argmax(axis=1)
    correct = np.asarray(classes)[top] == y
    by_conf = np.argsort(-proba[np.arange(len(y)), top], kind="stable")
    return {f"{c:.0%}": float(correct[by_conf[: max(1, round(c * len(y)))]].mean()) for c in coverages}


def coverage_at_precision(proba: np.ndarray, classes: list[str], labels: list[str], target: float) -> float:
    """Largest share of cases (most confident first) whose precision is still ≥ ``target``: how much could
    be auto-dispatched at that precision."""
    y = np.asarray(labels)
    top = proba.argmax(axis=1)
    correct = (np.asarray(classes)[top] == y)[np.argsort(-proba[np.arange(len(y)), top], kind="stable")]
    running = np.cumsum(correct) / np.arange(1, len(y) + 1)
    ok = np.flatnonzero(running >= target)
    return float((ok[-1] + 1) / len(y)) if len(ok) else 0.0


def at_threshold(proba: np.ndarray, classes: list[str], labels: list[str], threshold: float) -> dict:
    """Share of cases whose top probability reaches ``threshold`` (auto-dispatched) and their precision."""
    y = np.asarray(labels)
    top = proba.argmax(axis=1)
    sure = proba[np.arange(len(y)), top] >= threshold
    correct = np.asarray(classes)[top] == y
    return {
        "threshold": threshold,
        "coverage": float(sure.mean()) if len(y) else 0.0,
        "precision": float(correct[sure].mean()) if sure.any() else 1.0,
    }


def near_duplicate_groups(
    texts: list[str], threshold: float = 0.5, min_ngrams: int = 8, max_chars: int = 1000, block: int = 1500
) -> np.ndarray:
    """Group id per text: texts are linked when the shorter shares ≥ ``threshold`` of its distinct
    character trigrams with the longer (a title inside its own body, a re-post) and has ≥ ``min_ngrams``
    of them; groups are the connected components. Uses the texts only, never the labels."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from sklearn.feature_extraction.text import CountVectorizer

    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    docs = [normalize(t)[:max_chars] for t in texts]
    try:
        x = (
            CountVectorizer(analyzer="char", ngram_range=(3, 3), lowercase=False, binary=True, dtype=np.float32)
            .fit_transform(docs)
            .tocsc()
        )
    except ValueError:  # no text has three characters
        return np.arange(n)
    sizes = np.asarray(x.sum(axis=1)).ravel()
    shared = np.diff(x.indptr) >= 2  # a trigram of one text only links nothing
    x = x[:, shared].tocsr()
    xt = x.T.tocsr()
    rows, cols = [], []
    for start in range(0, n, block):
        inter = (x[start : start + block] @ xt).toarray()
        smaller = np.minimum(sizes[start : start + block, None], sizes[None, :])
        linked = (inter >= threshold * np.maximum(smaller, 1)) & (smaller >= min_ngrams)
        i, j = np.nonzero(linked)
        i += start
        keep = i < j
        rows.append(i[keep])
        cols.append(j[keep])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def group_label_conflicts(groups: np.ndarray, labels: list[str]) -> dict:
    """How many texts sit in a multi-text group, and how many of those groups mix labels (label noise seen
    on near-identical texts)."""
    y = np.asarray(labels)
    by_group: dict[int, set] = {}
    sizes: dict[int, int] = {}
    for g, lab in zip(groups.tolist(), y.tolist(), strict=True):
        by_group.setdefault(g, set()).add(lab)
        sizes[g] = sizes.get(g, 0) + 1
    multi = [g for g, s in sizes.items() if s > 1]
    mixed = [g for g in multi if len(by_group[g]) > 1]
    return {
        "texts": len(y),
        "groups": len(sizes),
        "multi_groups": len(multi),
        "texts_in_multi_groups": int(sum(sizes[g] for g in multi)),
        "mixed_label_groups": len(mixed),
        "texts_in_mixed_groups": int(sum(sizes[g] for g in mixed)),
    }
