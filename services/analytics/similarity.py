"""Similar-idea search (duplicate detection) over one project's ideas.

Sparse TF-IDF over stems (:func:`services.analytics.text.analyse`), log term frequency, rows
normalised to unit length, so a sparse product gives cosine scores in 0..1. The matrix is kept as
an inverted index (terms x ideas, CSR): a query touches only the postings of its own terms, which
keeps a query at a few milliseconds with 100,000 ideas.

Changes are incremental: :meth:`SimilarityIndex.add` / ``update`` / ``remove`` only record the
change; the matrix is rebuilt lazily at the next query, and only when the pending changes are many
(``rebuild_every``) or old ideas were touched. Ideas added since the last rebuild are scored
directly against the query, with the IDF of the last rebuild.

One index per project::

    index = SimilarityIndex(language="nl")
    index.add(idea_id, title + "\\n" + body)
    index.similar_to_text(draft, k=5)      # [(idea_id, score)], best first
    index.similar_to_idea(idea_id, k=5)    # the idea itself excluded
"""
from __future__ import annotations

import math
import threading
from typing import Hashable, Iterable

import numpy as np
from scipy import sparse

from . import text as textmod


class SimilarityIndex:
    """Incremental TF-IDF cosine index of a project's ideas. Thread-safe."""

    def __init__(self, language: str | None = None, *, rebuild_every: int = 500):
        """``language``: the project's locale hint (each text is detected otherwise, defaulting
        to it). ``rebuild_every``: pending additions tolerated before the matrix is rebuilt."""
        self.language = textmod.normalise_language(language)
        self.rebuild_every = rebuild_every
        self._lock = threading.RLock()
        self._terms: dict[str, int] = {}            # stem -> term id (grows, never shrinks)
        self._docs: dict[Hashable, dict[int, float]] = {}  # idea id -> {term id: log tf}
        self._df: dict[int, int] = {}               # term id -> number of ideas holding it
        # Built state (as of the last rebuild).
        self._row_ids: list[Hashable] = []
        self._row_of: dict[Hashable, int] = {}
        self._inverted = sparse.csr_matrix((0, 0))  # terms x rows, unit-normalised columns
        self._idf = np.zeros(0)
        self._dead: set[int] = set()                 # rows removed or updated since the rebuild
        self._pending: set[Hashable] = set()         # ideas added/updated since the rebuild
        self._pending_cache = None

    # -- changes -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, idea_id: Hashable) -> bool:
        return idea_id in self._docs

    def add(self, idea_id: Hashable, text: str | None, language: str | None = None) -> None:
        """Index an idea (title + body); adding a known id replaces its text."""
        vec = self._term_vector(text, language, grow=True)
        with self._lock:
            if idea_id in self._docs:
                self._forget(idea_id)
            self._docs[idea_id] = vec
            for t in vec:
                self._df[t] = self._df.get(t, 0) + 1
            self._pending.add(idea_id)
            self._pending_cache = None

    update = add

    def add_many(self, ideas: Iterable[tuple]) -> None:
        """Index many ``(idea_id, text)`` or ``(idea_id, text, language)`` at once."""
        for item in ideas:
            self.add(item[0], item[1], item[2] if len(item) > 2 else None)

    def remove(self, idea_id: Hashable) -> bool:
        """Drop an idea; returns False when it was not indexed."""
        with self._lock:
            if idea_id not in self._docs:
                return False
            self._forget(idea_id)
            del self._docs[idea_id]
            return True

    def _forget(self, idea_id: Hashable) -> None:
        self._pending_cache = None
        for t in self._docs[idea_id]:
            self._df[t] -= 1
        self._pending.discard(idea_id)
        row = self._row_of.get(idea_id)
        if row is not None:
            self._dead.add(row)

    # -- queries -------------------------------------------------------------------------------
    def similar_to_text(self, text: str | None, k: int = 5, *, exclude: Iterable = (),
                        min_score: float = 0.0, language: str | None = None
                        ) -> list[tuple[Hashable, float]]:
        """The ``k`` ideas most similar to a draft text: [(idea_id, cosine 0..1)], best first."""
        return self._query(self._term_vector(text, language, grow=False), k, set(exclude),
                           min_score)

    def similar_to_idea(self, idea_id: Hashable, k: int = 5, *, min_score: float = 0.0
                        ) -> list[tuple[Hashable, float]]:
        """The ``k`` ideas most similar to an indexed idea, the idea itself excluded.

        Raises KeyError when the idea is not indexed."""
        with self._lock:
            vec = dict(self._docs[idea_id])
        return self._query(vec, k, {idea_id}, min_score)

    def query(self, *, text: str | None = None, idea_id: Hashable | None = None, k: int = 5,
              min_score: float = 0.0) -> list[tuple[Hashable, float]]:
        """Either :meth:`similar_to_idea` (``idea_id``) or :meth:`similar_to_text` (``text``)."""
        if idea_id is not None:
            return self.similar_to_idea(idea_id, k, min_score=min_score)
        return self.similar_to_text(text, k, min_score=min_score)

    def _query(self, vec: dict[int, float], k: int, exclude: set, min_score: float
               ) -> list[tuple[Hashable, float]]:
        if not vec or k <= 0:
            return []
        with self._lock:
            self._maybe_rebuild()
            idf = self._idf
            n_built_terms = len(idf)
            n_docs = max(len(self._docs), 1)
            # Query weights: log tf * idf (terms newer than the last rebuild use the live df).
            q_ids = np.fromiter(vec.keys(), np.int64, len(vec))
            q_w = np.fromiter(vec.values(), np.float64, len(vec))
            q_idf = np.array([idf[t] if 0 <= t < n_built_terms and idf[t] > 0 else
                              self._live_idf(t, n_docs) for t in q_ids])
            q_w = q_w * q_idf
            norm = np.linalg.norm(q_w)
            if norm == 0:
                return []
            q_w /= norm
            candidates: dict[Hashable, float] = {}
            # Built rows: one sparse product over the query terms' postings only.
            known = (q_ids >= 0) & (q_ids < self._inverted.shape[0])
            if known.any() and self._inverted.shape[1]:
                q = sparse.csr_matrix((q_w[known], (np.zeros(known.sum(), np.int64), q_ids[known])),
                                      shape=(1, self._inverted.shape[0]))
                scores = (q @ self._inverted).tocsr()
                rows, vals = scores.indices, scores.data
                if len(rows):
                    take = min(len(rows), k + len(exclude) + len(self._dead))
                    top = np.argpartition(-vals, take - 1)[:take] if take < len(rows) else \
                        np.arange(len(rows))
                    for i in top:
                        row = int(rows[i])
                        if row not in self._dead:
                            candidates[self._row_ids[row]] = float(vals[i])
            # Pending rows (few, bounded by rebuild_every): a small matrix cached between changes.
            if self._pending:
                pending_ids, P = self._pending_matrix(n_docs)
                q_map = dict(zip(q_ids.tolist(), q_w.tolist()))
                cols = np.fromiter(q_map.keys(), np.int64, len(q_map))
                vals = np.fromiter(q_map.values(), np.float64, len(q_map))
                inside = (cols >= 0) & (cols < P.shape[1])
                if inside.any():
                    scores = P[:, cols[inside]] @ vals[inside]
                    for r in np.flatnonzero(scores > 0):
                        candidates[pending_ids[r]] = float(scores[r])
        for idea_id in exclude:
            candidates.pop(idea_id, None)
        ranked = sorted(candidates.items(), key=lambda kv: (-kv[1], str(kv[0])))
        return [(i, min(1.0, max(0.0, s))) for i, s in ranked[:k] if s >= min_score and s > 0]

    def _pending_matrix(self, n_docs: int):
        """(idea ids, CSC matrix of unit TF-IDF rows) for the ideas added since the rebuild."""
        if self._pending_cache is not None:
            return self._pending_cache
        idf = self._idf
        ids = sorted(self._pending, key=str)
        rows, cols, vals = [], [], []
        for r, idea_id in enumerate(ids):
            doc = self._docs[idea_id]
            w = {t: tf * (idf[t] if t < len(idf) and idf[t] > 0 else self._live_idf(t, n_docs))
                 for t, tf in doc.items()}
            norm = math.sqrt(sum(v * v for v in w.values())) or 1.0
            for t, v in w.items():
                rows.append(r), cols.append(t), vals.append(v / norm)
        P = sparse.csc_matrix((vals, (rows, cols)), shape=(len(ids), len(self._terms)))
        self._pending_cache = (ids, P)
        return self._pending_cache

    def _live_idf(self, term: int, n_docs: int) -> float:
        return math.log((n_docs + 1) / (self._df.get(term, 0) + 1)) + 1.0

    # -- building ------------------------------------------------------------------------------
    def _maybe_rebuild(self) -> None:
        if len(self._pending) > self.rebuild_every or \
                len(self._dead) > max(self.rebuild_every, len(self._row_ids) // 10):
            self.rebuild()

    def rebuild(self) -> None:
        """Rebuild the matrix from all current ideas now (otherwise done lazily when needed)."""
        with self._lock:
            n_terms = len(self._terms)
            n_docs = len(self._docs)
            df = np.zeros(n_terms)
            for t, c in self._df.items():
                df[t] = c
            idf = np.log((n_docs + 1) / (df + 1)) + 1.0  # smooth idf: always > 0
            row_ids = list(self._docs)
            indptr = [0]
            indices: list[int] = []
            data: list[float] = []
            for idea_id in row_ids:
                doc = self._docs[idea_id]
                indices.extend(doc.keys())
                data.extend(doc.values())
                indptr.append(len(indices))
            X = sparse.csr_matrix((np.asarray(data, np.float64), np.asarray(indices, np.int64),
                                   np.asarray(indptr, np.int64)), shape=(n_docs, n_terms))
            X = X @ sparse.diags(idf)
            norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
            X = sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ X
            self._inverted = X.T.tocsr().astype(np.float32)
            self._idf = idf
            self._row_ids = row_ids
            self._row_of = {i: r for r, i in enumerate(row_ids)}
            self._dead = set()
            self._pending = set()
            self._pending_cache = None

    def _term_vector(self, text: str | None, language: str | None, grow: bool
                     ) -> dict[int, float]:
        lang = textmod.normalise_language(language) or textmod.detect_language(
            text, hint=self.language, default=self.language or textmod.DEFAULT_LANGUAGE)
        counts: dict[int, int] = {}
        unknown: dict[str, int] = {}
        for s in textmod.analyse(text, lang):
            t = self._terms.get(s)
            if t is None:
                if grow:
                    with self._lock:
                        t = self._terms.setdefault(s, len(self._terms))
                else:  # a word no idea has: matches nothing but still counts in the norm
                    t = unknown.setdefault(s, -1 - len(unknown))
            counts[t] = counts.get(t, 0) + 1
        return {t: 1.0 + math.log(c) for t, c in counts.items()}
