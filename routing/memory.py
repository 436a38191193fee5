"""Nearest-neighbour memory of the training texts, blended into the linear model's probabilities.

The memory keeps every training text's tf-idf row (the model's own features, minus those in more than
``max_df`` of the texts: they barely move a cosine and would make every look-up touch every text) as
postings, feature → (text, weight). A new text's ``k`` most cosine-similar training texts vote for their
labels with weight similarity^``power``; the vote v is blended into the linear probabilities p as
p · (v + eps)^(b·g), renormalised, where g = min(1, characters / ``full_at``): a short title's neighbours
are mostly chance matches, a body's are informative.

Under 5-fold CV over near-duplicate groups (a text's own title and re-posts are never in its memory) the
memory lifts macro-F1 clearly on bodies and a little on titles, top-3 and precision at 80 % coverage too;
more on a plain k-fold, where a re-post's twin is in the memory. The blend constants were chosen on one fold
seed from a small grid of blend and eps and confirmed on another; the low ``max_df`` and the cap on the
query's terms (``max_terms``) cost next to nothing against a looser ``max_df`` and no cap, and keep a long
body's look-up short. (measurements: tests/bench/README.md, routing)

Pure numpy at scoring time (no scipy in the web process); ``build`` and ``vote_rows`` take scipy sparse
matrices from the training side but only call their methods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULTS = {
    "k": 5,
    "power": 4.0,
    "max_df": 0.03,
    "max_terms": 250,
    "blend": 0.5,
    "eps": 0.05,
    "full_at": 100,
    "max_texts": 20000,
    "seed": 0,
}


@dataclass
class Memory:
    indptr: np.ndarray  # (n_features + 1,) int64: postings of feature j are [indptr[j], indptr[j+1])
    docs: np.ndarray  # (n_postings,) int32 training-text index
    weights: np.ndarray  # (n_postings,) float32 the text's l2-normalised tf-idf value of that feature
    labels: np.ndarray  # (n_texts,) int16 class index of each training text
    keep: np.ndarray  # (n_features,) bool: the feature takes part in the memory
    n_classes: int
    k: int = DEFAULTS["k"]
    max_terms: int = DEFAULTS["max_terms"]
    power: float = DEFAULTS["power"]
    blend: float = DEFAULTS["blend"]
    eps: float = DEFAULTS["eps"]
    full_at: int = DEFAULTS["full_at"]

    ARRAYS = ("indptr", "docs", "weights", "labels", "keep")
    PARAMS = ("n_classes", "k", "max_terms", "power", "blend", "eps", "full_at")

    def vote(self, idx: np.ndarray, vals: np.ndarray) -> np.ndarray:
        """Label vote (n_classes,) of the nearest training texts for one text's feature indices and tf-idf
        values; all zeros when it shares no memory feature with any training text."""
        keep = self.keep[idx]
        idx, vals = self._strongest(idx[keep], vals[keep])
        out = np.zeros(self.n_classes)
        norm = float(np.sqrt(vals @ vals)) if len(vals) else 0.0
        if norm == 0.0:
            return out
        starts, ends = self.indptr[idx], self.indptr[idx + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return out
        # positions of all postings of the query's features, without a Python loop
        offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        pos = np.arange(total) + offsets
        sims = np.bincount(
            self.docs[pos], weights=self.weights[pos] * np.repeat(vals / norm, lengths), minlength=len(self.labels)
        )
        return self._vote_from_sims(sims[None, :])[0]

    def vote_rows(self, rows) -> np.ndarray:
        """Votes for many texts at once from a sparse matrix of l2 tf-idf rows in the model's columns
        (training side: cross-validation). Same numbers as ``vote`` row by row."""
        q = rows.multiply(self.keep[None, :].astype(np.float64)).tocsr()
        q.eliminate_zeros()
        q.sort_indices()
        for i in np.flatnonzero(np.diff(q.indptr) > self.max_terms):
            part = slice(q.indptr[i], q.indptr[i + 1])
            strong = self._strongest(q.indices[part], q.data[part])[0]
            q.data[part][~np.isin(q.indices[part], strong)] = 0.0
        q.eliminate_zeros()
        norms = np.sqrt(np.asarray(q.multiply(q).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        out = np.zeros((q.shape[0], self.n_classes))
        matrix = self._matrix_t()
        for start in range(0, q.shape[0], 1000):
            block = q[start : start + 1000]
            sims = np.asarray((block @ matrix).todense()) / norms[start : start + 1000, None]
            out[start : start + 1000] = self._vote_from_sims(sims)
        return out

    def _strongest(self, idx: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The query's ``max_terms`` largest tf-idf values (ties: lower feature index), the rest dropped: bounds
        the postings a long body touches, at no real cost in quality against all terms (measurements:
        tests/bench/README.md, routing)."""
        if len(idx) <= self.max_terms:
            return idx, vals
        top = np.lexsort((idx, -vals))[: self.max_terms]
        return idx[top], vals[top]

    def _matrix_t(self):
        """Features × texts CSC-as-CSR view for ``vote_rows`` (scipy is there on the training side)."""
        from scipy.sparse import csr_matrix

        return csr_matrix(
            (self.weights.astype(np.float64), self.docs, self.indptr), shape=(len(self.keep), len(self.labels))
        )

    def _vote_from_sims(self, sims: np.ndarray) -> np.ndarray:
        k = min(self.k, sims.shape[1])
        near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        w = np.clip(np.take_along_axis(sims, near, axis=1), 0.0, None) ** self.power
        out = np.zeros((sims.shape[0], self.n_classes))
        np.add.at(out, (np.repeat(np.arange(sims.shape[0]), k), self.labels[near].ravel()), w.ravel())
        total = out.sum(axis=1, keepdims=True)
        return np.divide(out, total, out=np.zeros_like(out), where=total > 0)

    def combine(self, proba: np.ndarray, votes: np.ndarray, n_chars: np.ndarray) -> np.ndarray:
        """proba · (votes + eps)^(blend · min(1, n_chars / full_at)), renormalised (rows)."""
        gate = self.blend * np.clip(np.asarray(n_chars, dtype=np.float64) / self.full_at, 0.0, 1.0)
        logp = np.log(np.clip(proba, 1e-300, 1.0)) + gate[:, None] * np.log(votes + self.eps)
        p = np.exp(logp - logp.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {f"memory_{name}": getattr(self, name) for name in self.ARRAYS}

    def params(self) -> dict:
        return {name: getattr(self, name) for name in self.PARAMS}

    @classmethod
    def from_arrays(cls, arrays, params: dict) -> Memory:
        return cls(
            *(np.asarray(arrays[f"memory_{name}"]) for name in cls.ARRAYS),
            **{name: params[name] for name in cls.PARAMS},
        )


def build(x, labels: np.ndarray, n_classes: int, **params) -> Memory:
    """Memory of training rows ``x`` (sparse, l2 tf-idf in the model's columns) with class indices ``labels``.
    More than ``max_texts`` rows (a scheduled retraining on years of closed cases): a seeded random sample of
    them, so the memory's size and look-up time stay bounded (size per text: tests/bench/README.md, routing)."""
    opts = {**DEFAULTS, **params}
    x, labels = x.tocsr(), np.asarray(labels)
    if x.shape[0] > opts["max_texts"]:
        rows = np.sort(np.random.default_rng(opts["seed"]).choice(x.shape[0], opts["max_texts"], replace=False))
        x, labels = x[rows], labels[rows]
    keep = np.bincount(x.indices, minlength=x.shape[1]) <= opts["max_df"] * x.shape[0]
    rows = x.multiply(keep[None, :].astype(np.float64)).tocsr()
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    rows = rows.multiply(1.0 / norms[:, None]).tocsc()
    rows.eliminate_zeros()
    rows.sort_indices()
    return Memory(
        rows.indptr.astype(np.int64),
        rows.indices.astype(np.int32),
        rows.data.astype(np.float32),
        labels.astype(np.int16),
        keep,
        n_classes,
        **{name: opts[name] for name in ("k", "max_terms", "power", "blend", "eps", "full_at")},
    )
