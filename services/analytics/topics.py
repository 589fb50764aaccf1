"""Topic models for a project's ideas.

Pipeline (chosen by measurement on our labelled corpora, see bench/bench_analytics.py): texts are
stemmed with stopwords removed and bigram phrases joined (:mod:`services.analytics.text`, gensim
``Phrases``). Each idea is weighted twice, log-TF-IDF of its words (gensim ``Dictionary``) and
log-TF-IDF of the character 3-5-grams of its words (``_Features``: they link compounds and word
forms such as ``speeltuin``/``speelplaats``, which matters for short titles), the two blocks mixed
with equal weight. The vectors are reduced with LSI (randomised truncated SVD as in gensim's
``LsiModel``, about 2*sqrt(n) dimensions, at least 40; fitted on at most 4,000 ideas) and
clustered with spherical k-means (cosine, best of several k-means++ restarts). Each cluster is a
topic; its keywords are the words with the highest mean TF-IDF in the cluster. The number of
topics is the k in a bounded range whose keywords have the best c_v coherence (gensim
``CoherenceModel``). At the label count this scored better than LDA and NMF (gensim) and TF-IDF
k-means on our corpora: idea texts are short, which suits a clustering of an LSI space better
than a bag-of-words mixture model.

Every idea belongs to exactly one topic (ideas with no known word are left unassigned), which is
what the heatmap and the per-topic lists need.

Usage::

    model = build_topics([(idea_id, title + "\\n" + body), ...], language="nl", seed=0)
    model.topics                    # [Topic(topic_id, label, keywords, size, representative_ids)]
    model.assignments[idea_id]      # topic id of a built idea (None: no known word)
    model.assign(new_text)          # Assignment(topic_id, score) for an idea that just arrived
    blob = model.to_bytes(); TopicModel.from_bytes(blob)
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import warnings
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Hashable, Sequence

import numpy as np
from scipy import sparse

from . import text as textmod

ALGORITHM = "lsi-skm"
FORMAT_VERSION = 1
MIN_IDEAS = 10
DEFAULT_K_RANGE = (2, 20)
TOP_KEYWORDS = 10
REPRESENTATIVES = 5
COHERENCE = "c_v"
CHAR_NGRAMS = (3, 5)  # character n-gram lengths (see _Features); None: words only
CHAR_WEIGHT = 1.0  # weight of the n-gram block next to the word block (1.0)
MIN_DIMS = 40  # LSI keeps at least this many dimensions (small projects: no reduction)
RESTART_BUDGET = 6000  # k-means++ restarts per candidate k: this / ideas clustered, 3 to 10
LSI_SAMPLE = 4000  # ideas the LSI projection is fitted on (all ideas are projected)
SELECT_SAMPLE = 1500  # ideas clustered and scored per candidate k (keeps 10k builds fast)


class NotEnoughIdeas(ValueError):
    """Too few usable ideas (with at least one meaningful word) to build a topic model."""

    def __init__(self, count: int, minimum: int):
        super().__init__(f"{count} usable ideas, at least {minimum} are needed for topics")
        self.count = count
        self.minimum = minimum


@dataclass(frozen=True)
class Topic:
    """One topic: a readable ``label``, ranked ``keywords``, its ``size`` (ideas) and the ideas
    closest to its centre (``representative_ids``, most representative first)."""

    topic_id: int
    label: str
    keywords: list[str]
    size: int
    representative_ids: list = field(default_factory=list)


@dataclass(frozen=True)
class Assignment:
    """Where a new idea goes: ``topic_id`` (None when the text has no word the model knows) and the
    cosine ``score`` (0..1) to the topic's centre."""

    topic_id: int | None
    score: float


def _idea_tuples(ideas) -> list[tuple[Hashable, str, str | None]]:
    out = []
    items = ideas.items() if isinstance(ideas, dict) else ideas
    for item in items:
        if isinstance(item, dict):
            idea_id = item["id"]
            body = " \n".join(str(item.get(key) or "") for key in ("title", "body", "text"))
            lang = item.get("language") or item.get("locale")
        else:
            idea_id, body = item[0], item[1]
            lang = item[2] if len(item) > 2 else None
        out.append((idea_id, body or "", lang))
    return out


def _cluster_sums(Z: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    order = np.argsort(labels, kind="stable")
    counts = np.bincount(labels, minlength=k)
    sums = np.zeros((k, Z.shape[1]))
    nonempty = np.flatnonzero(counts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))[nonempty]
    sums[nonempty] = np.add.reduceat(Z[order], starts, axis=0)
    return sums


def _spherical_kmeans(Z: np.ndarray, k: int, rng: np.random.Generator, n_init: int = 3,
                      max_iter: int = 60, init: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Cosine k-means of unit rows: (labels, unit centroids), best of ``n_init`` k-means++ starts
    (or one run from the given ``init`` centroids). Stops when under 0.1% of labels change."""
    n = Z.shape[0]
    best = None
    for _ in range(1 if init is not None else n_init):
        if init is not None:
            C = init.copy()
        else:
            first = int(rng.integers(n))
            centres = [first]
            dist = np.maximum(1.0 - Z @ Z[first], 0.0)
            for _ in range(1, k):
                total = dist.sum()
                nxt = int(rng.choice(n, p=dist / total)) if total > 0 else int(rng.integers(n))
                centres.append(nxt)
                dist = np.minimum(dist, np.maximum(1.0 - Z @ Z[nxt], 0.0))
            C = Z[centres].copy()
        labels = None
        for _ in range(max_iter):
            S = Z @ C.T
            new = S.argmax(axis=1)
            if labels is not None and np.count_nonzero(new != labels) <= n // 1000:
                break
            labels = new
            sums = _cluster_sums(Z, labels, k)
            counts = np.bincount(labels, minlength=k)
            for j in np.flatnonzero(counts == 0):  # empty cluster: restart it on the worst point
                worst = int(S.max(axis=1).argmin())
                sums[j] = Z[worst]
                labels[worst] = j
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            C = sums / np.maximum(norms, 1e-12)
        S = Z @ C.T
        labels = S.argmax(axis=1)
        objective = float(S.max(axis=1).sum())
        if best is None or objective > best[0] + 1e-9:
            best = (objective, labels, C)
    return best[1], best[2]


def _ltc(counts: dict[int, int], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-TF * IDF weights, cosine-normalised, of one bag of words {term id: count}."""
    ids = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    w = (1.0 + np.log(tf)) * idf[ids]
    norm = np.linalg.norm(w)
    return ids, (w / norm if norm > 0 else w)


class _Features:
    """How ideas become vectors: word TF-IDF and character n-gram TF-IDF, side by side.

    Words are the stems and phrases of :class:`~services.analytics.text.Preprocessor`. Character
    n-grams (3 to 5 characters of each stem, with ``<`` and ``>`` marking the word's ends) link
    ideas that share no whole word: compounds and their parts (``speeltuin``, ``speelplaats``),
    misspellings and word forms the stemmer leaves apart; they matter most for short titles.
    Each block is log-TF * IDF and cosine-normalised on its own, the char block is weighted by
    ``char_weight`` and the row normalised again, so a text's cosine to another is a fixed mix of
    its word cosine and its n-gram cosine. N-gram terms are stored in the vocabulary after the
    words, prefixed with ``#`` (never part of a word token).
    """

    def __init__(self, dictionary, vocabulary: list[str], idf: np.ndarray, num_words: int,
                 char_ngrams: tuple[int, int] | None, char_weight: float):
        self.dictionary = dictionary  # gensim Dictionary of the word terms (coherence)
        self.vocabulary = vocabulary
        self.token2id = {tok: i for i, tok in enumerate(vocabulary)}
        self.idf = idf
        self.num_words = num_words
        self.char_ngrams = tuple(char_ngrams) if char_ngrams else None
        self.char_weight = float(char_weight) if char_ngrams else 0.0

    def config(self) -> dict:
        return {"num_words": self.num_words,
                "char_ngrams": list(self.char_ngrams) if self.char_ngrams else None,
                "char_weight": self.char_weight}

    @classmethod
    def fit(cls, docs: list[list[str]], *, min_ideas: int, usable: int,
            char_ngrams: tuple[int, int] | None, char_weight: float) -> "_Features":
        from gensim.corpora import Dictionary

        n = len(docs)
        no_above = 0.5 if n >= 20 else 1.0
        tokens, A = _token_counts(docs)
        grams, gram_df = [], np.zeros(0)
        if char_ngrams:
            grams, G = _gram_matrix(tokens, char_ngrams)
            gram_df = np.diff((A @ G).tocsc().indptr)
            keep = np.flatnonzero((gram_df >= 2) & (gram_df <= max(2, no_above * n)))
            grams, gram_df = [grams[i] for i in keep], gram_df[keep]
        # Words seen in one idea only cannot link ideas; drop them unless that leaves more than
        # a tenth of the ideas without any term (very short titles), then keep them.
        dictionary = Dictionary(docs)
        dictionary.filter_extremes(no_below=1, no_above=no_above, keep_n=200_000)
        filtered = Dictionary(docs)
        filtered.filter_extremes(no_below=2, no_above=no_above, keep_n=200_000)
        gram_set = set(grams)
        covered = sum(1 for d in docs if any(t in filtered.token2id for t in d)
                      or (gram_set and any(g in gram_set for t in d
                                           for g in _char_grams(t, *char_ngrams))))
        if len(filtered) >= 2 and covered >= max(min_ideas, 0.9 * usable):
            dictionary = filtered
        words = [dictionary[i] for i in range(len(dictionary))]
        word_df = np.array([dictionary.dfs.get(i, 0) for i in range(len(words))], dtype=float)
        df = np.concatenate([word_df, np.asarray(gram_df, dtype=float)])
        idf = np.log(n / np.maximum(df, 1.0))
        idf = np.where(idf > 0, idf, 1e-3)  # a term in every idea still counts a little
        return cls(dictionary, words + grams, idf, len(words), char_ngrams if grams else None,
                   char_weight)

    def matrix(self, docs: list[list[str]]) -> sparse.csr_matrix:
        """Unit rows (ideas x vocabulary); an idea with no known term is an empty row."""
        tokens, A = _token_counts(docs)
        nw = self.num_words
        word_col = np.array([self.token2id.get(t, -1) if self.token2id.get(t, nw) < nw else -1
                             for t in tokens], dtype=np.int64)
        W = _select_columns(A, word_col, nw)
        blocks = [_log_tf_idf(W, self.idf[:nw])]
        if self.char_ngrams:
            grams, G = _gram_matrix(tokens, self.char_ngrams)
            gram_col = np.array([self.token2id.get(g, nw - 1) - nw for g in grams], dtype=np.int64)
            Cg = _select_columns((A @ G).tocsr(), gram_col, len(self.vocabulary) - nw)
            blocks.append(self.char_weight * _log_tf_idf(Cg, self.idf[nw:]))
        X = sparse.hstack(blocks, format="csr")
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
        return (sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ X).tocsr()

    @staticmethod
    def weigh_tokens(tokens: Sequence[str], token2id: dict, idf: np.ndarray, config: dict
                     ) -> tuple[np.ndarray, np.ndarray]:
        """(term ids, unit weights) of one idea's tokens, as :meth:`matrix` weighs a row."""
        nw = int(config["num_words"])
        words: dict[int, int] = {}
        grams: dict[int, int] = {}
        char_ngrams = config.get("char_ngrams")
        for tok in tokens:
            i = token2id.get(tok)
            if i is not None and i < nw:
                words[i] = words.get(i, 0) + 1
            if char_ngrams:
                for g in _char_grams(tok, *char_ngrams):
                    j = token2id.get(g)
                    if j is not None and j >= nw:
                        grams[j] = grams.get(j, 0) + 1
        parts = []
        for counts, weight in ((words, 1.0), (grams, float(config.get("char_weight") or 0.0))):
            if counts:
                ids, w = _ltc(counts, idf)
                parts.append((ids, weight * w))
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        ids = np.concatenate([p[0] for p in parts])
        w = np.concatenate([p[1] for p in parts])
        norm = np.linalg.norm(w)
        return ids, (w / norm if norm > 0 else w)


class TopicModel:
    """A built topic model: topics, the topic of each built idea, and :meth:`assign` for new ones.

    Build with :func:`build_topics` (or :meth:`TopicModel.build`); store with :meth:`to_bytes`.
    """

    def __init__(self, *, language: str, seed: int, vocabulary: list[str], idf: np.ndarray,
                 projection: np.ndarray, centroids: np.ndarray, topics: list[Topic],
                 assignments: dict, preprocessor: textmod.Preprocessor, model_version: str,
                 coherence_by_k: dict[int, float], num_ideas: int,
                 features: dict | None = None):
        self.language = language
        self.seed = seed
        self.vocabulary = vocabulary
        self.token2id = {tok: i for i, tok in enumerate(vocabulary)}
        self.idf = idf
        self.projection = projection
        self.centroids = centroids
        self.topics = topics
        self.assignments = assignments
        self.preprocessor = preprocessor
        self.model_version = model_version
        self.coherence_by_k = coherence_by_k
        self.num_ideas = num_ideas
        # How texts become vectors (see _Features); models stored without it used words only.
        self.features = dict(features) if features else {"num_words": len(vocabulary),
                                                         "char_ngrams": None, "char_weight": 0.0}

    @property
    def num_topics(self) -> int:
        return len(self.topics)

    def topic(self, topic_id: int) -> Topic:
        return self.topics[topic_id]

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def build(cls, ideas, *, language: str | None = None, seed: int = 0,
              num_topics: int | None = None, k_range: tuple[int, int] = DEFAULT_K_RANGE,
              min_ideas: int = MIN_IDEAS) -> "TopicModel":
        """See :func:`build_topics`."""
        with _single_threaded_blas():
            return cls._build(ideas, language=language, seed=seed, num_topics=num_topics,
                              k_range=k_range, min_ideas=min_ideas)

    @classmethod
    def _build(cls, ideas, *, language, seed, num_topics, k_range, min_ideas) -> "TopicModel":

        items = _idea_tuples(ideas)
        texts = [body for _, body, _ in items]
        hinted = textmod.normalise_language(language)
        prep = textmod.Preprocessor(default_language=hinted or textmod.DEFAULT_LANGUAGE)
        docs = prep.fit(texts, [lang or hinted for _, _, lang in items],
                        default_language_from_corpus=hinted is None)
        project_lang = prep.default_language
        usable = sum(1 for d in docs if d)
        if usable < min_ideas:
            raise NotEnoughIdeas(usable, min_ideas)

        n = len(docs)
        feats = _Features.fit(docs, min_ideas=min_ideas, usable=usable,
                              char_ngrams=CHAR_NGRAMS, char_weight=CHAR_WEIGHT)
        X = feats.matrix(docs)
        used = np.flatnonzero(np.asarray(X.getnnz(axis=1) > 0))
        if len(used) < min_ideas:
            raise NotEnoughIdeas(int(len(used)), min_ideas)
        Xu = X[used]
        Xw = Xu[:, :feats.num_words]  # word columns: keywords and coherence
        dictionary, vocabulary, idf = feats.dictionary, feats.vocabulary, feats.idf

        dims = _lsi_dims(len(used))
        dims = max(1, min(dims, len(vocabulary) - 1, len(used) - 1))
        # The term space is learnt from a seeded sample of at most LSI_SAMPLE ideas (the cost
        # of the randomised SVD grows with the ideas; its top directions do not need them all).
        if len(used) > LSI_SAMPLE:
            fit_rows = np.sort(np.random.default_rng([seed, 1]).choice(len(used), LSI_SAMPLE,
                                                                       replace=False))
            projection = _lsi_projection(Xu[fit_rows], dims, seed)
        else:
            projection = _lsi_projection(Xu, dims, seed)
        Z = _unit_rows(np.asarray(Xu @ projection))

        lo, hi = k_range
        hi = max(2, min(hi, len(used) // 5))
        lo = max(2, min(lo, hi))
        if num_topics is not None:
            candidates = [max(1, min(int(num_topics), len(used)))]
        else:
            candidates = list(range(lo, hi + 1))
        # Choose k on a seeded sample of at most SELECT_SAMPLE ideas (clustering each candidate k
        # and scoring its keywords); then cluster all ideas starting from the sample's centroids.
        if len(used) > SELECT_SAMPLE:
            sample = np.sort(np.random.default_rng(seed).choice(len(used), SELECT_SAMPLE,
                                                                replace=False))
        else:
            sample = np.arange(len(used))
        Zs, Xs = Z[sample], Xw[sample]
        runs = {}
        n_init = int(np.clip(RESTART_BUDGET // len(sample), 3, 10))
        for k in candidates:
            rng = np.random.default_rng([seed, k])
            labels, C = _spherical_kmeans(Zs, k, rng, n_init=n_init)
            runs[k] = (labels, C, _keywords(Xs, labels, k, vocabulary))
        coherence_by_k: dict[int, float] = {}
        if len(candidates) > 1:
            coherence_by_k = _coherence_by_k(runs, [docs[used[i]] for i in sample], dictionary)
            best_k = max(candidates, key=lambda k: (round(coherence_by_k[k], 6), -k))
        else:
            best_k = candidates[0]
        labels, C, keywords = runs[best_k]
        if len(sample) < len(used):
            labels, C = _spherical_kmeans(Z, best_k, np.random.default_rng([seed, best_k]),
                                          init=C, max_iter=30)
            keywords = _keywords(Xw, labels, best_k, vocabulary)

        # Renumber topics by size (largest first) so ids are stable and readable.
        sizes = np.bincount(labels, minlength=best_k)
        order = sorted(range(best_k), key=lambda j: (-sizes[j], j))
        remap = {old: new for new, old in enumerate(order)}
        C = C[order]
        labels = np.array([remap[j] for j in labels])
        keywords = [keywords[j] for j in order]

        ids = [items[i][0] for i in used]
        sims = (Z * C[labels]).sum(axis=1)
        topics = []
        for j in range(best_k):
            members = np.flatnonzero(labels == j)
            top = members[np.argsort(-sims[members], kind="stable")[:REPRESENTATIVES]]
            words = [prep.surface(t) for t in keywords[j]]
            topics.append(Topic(topic_id=j, label=_label(words), keywords=words,
                                size=int(len(members)),
                                representative_ids=[ids[i] for i in top]))
        assignments = {items[i][0]: None for i in range(n)}
        for pos, i in enumerate(used):
            assignments[items[i][0]] = int(labels[pos])

        fingerprint = hashlib.sha256(json.dumps(
            [[str(i), t] for i, t, _ in items] + [seed, best_k, project_lang],
            ensure_ascii=False).encode()).hexdigest()[:12]
        return cls(language=project_lang, seed=seed, vocabulary=vocabulary, idf=idf,
                   projection=projection, centroids=C, topics=topics, assignments=assignments,
                   preprocessor=prep,
                   model_version=f"{ALGORITHM}/{FORMAT_VERSION}/{fingerprint}",
                   coherence_by_k={int(k): float(v) for k, v in coherence_by_k.items()},
                   num_ideas=n, features=feats.config())

    # -- using ---------------------------------------------------------------------------------
    def vectorise(self, text: str | None, language: str | None = None) -> np.ndarray | None:
        """Unit vector of a text in the model's LSI space, or None when no word is known."""
        tokens = self.preprocessor.transform(text, language)
        ids, w = _Features.weigh_tokens(tokens, self.token2id, self.idf, self.features)
        if len(ids) == 0:
            return None
        z = w @ self.projection[ids]
        norm = np.linalg.norm(z)
        return z / norm if norm > 0 else None

    def assign(self, text: str | None, language: str | None = None) -> Assignment:
        """Put a new idea (title + body) into the closest topic."""
        z = self.vectorise(text, language)
        if z is None:
            return Assignment(None, 0.0)
        sims = self.centroids @ z
        j = int(sims.argmax())
        return Assignment(j, float(min(1.0, max(0.0, sims[j]))))

    def summary(self) -> list[dict]:
        """Topics as plain dicts (for events and API responses)."""
        return [asdict(t) for t in self.topics]

    # -- storage -------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Serialise to bytes (compressed numpy archive with a JSON header; no pickle)."""
        meta = {
            "format": FORMAT_VERSION, "algorithm": ALGORITHM, "model_version": self.model_version,
            "language": self.language, "seed": self.seed, "num_ideas": self.num_ideas,
            "vocabulary": self.vocabulary, "topics": [asdict(t) for t in self.topics],
            "assignments": [[k, v] for k, v in self.assignments.items()],
            "preprocessor": self.preprocessor.to_state(),
            "coherence_by_k": [[k, v] for k, v in self.coherence_by_k.items()],
            "features": self.features,
        }
        buf = io.BytesIO()
        np.savez_compressed(buf, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8),
                            idf=self.idf, projection=self.projection.astype(np.float32),
                            centroids=self.centroids)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> "TopicModel":
        """Load a model written by :meth:`to_bytes`."""
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
            if meta.get("format") != FORMAT_VERSION or meta.get("algorithm") != ALGORITHM:
                raise ValueError(f"unsupported topic model format {meta.get('algorithm')}/"
                                 f"{meta.get('format')}")
            return cls(language=meta["language"], seed=meta["seed"],
                       vocabulary=meta["vocabulary"], idf=arrays["idf"],
                       projection=arrays["projection"].astype(np.float64),
                       centroids=arrays["centroids"],
                       topics=[Topic(**t) for t in meta["topics"]],
                       assignments={k: v for k, v in meta["assignments"]},
                       preprocessor=textmod.Preprocessor.from_state(meta["preprocessor"]),
                       model_version=meta["model_version"],
                       coherence_by_k={int(k): v for k, v in meta["coherence_by_k"]},
                       num_ideas=meta["num_ideas"], features=meta.get("features"))


def build_topics(ideas, *, language: str | None = None, seed: int = 0,
                 num_topics: int | None = None, k_range: tuple[int, int] = DEFAULT_K_RANGE,
                 min_ideas: int = MIN_IDEAS) -> TopicModel:
    """Build a project's topic model.

    ``ideas``: iterable of ``(idea_id, text)`` or ``(idea_id, text, language)`` tuples, a dict
    ``{idea_id: text}``, or dicts with ``id`` and ``title``/``body``; ids must be str or int
    (they are stored as JSON). ``language`` is the project's locale hint (detected when None);
    per-idea languages override it. ``num_topics`` fixes k; otherwise k is chosen in ``k_range``
    (capped at one topic per 5 ideas) by c_v coherence. Deterministic for a given ``seed``.
    Raises :class:`NotEnoughIdeas` below ``min_ideas`` usable ideas.
    """
    return TopicModel.build(ideas, language=language, seed=seed, num_topics=num_topics,
                            k_range=k_range, min_ideas=min_ideas)


# -- helpers -----------------------------------------------------------------------------------
def _single_threaded_blas():
    """Limit BLAS to one thread while building, when ``threadpoolctl`` is installed.

    The matrices here are small; multi-threaded OpenBLAS on a busy 2-core host spends more time
    synchronising than computing (measured 3-4x slower), and a build runs beside request handling.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional; set OPENBLAS_NUM_THREADS=1 instead
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _lsi_projection(X, dims: int, seed: int, power_iters: int = 2, oversample: int = 50
                    ) -> np.ndarray:
    """Term x dims LSI projection (left singular vectors of the term-document matrix).

    Randomised truncated SVD (Halko et al.), the algorithm of gensim's ``LsiModel``, written out
    here because ``LsiModel`` on a sparse matrix is not reproducible even with ``random_seed``
    (measured with gensim 4.4), and its streaming path is several times slower.
    Column signs are fixed so the projection is deterministic.
    """
    from scipy.linalg import eigh, qr
    rng = np.random.default_rng(seed)
    n_docs, n_terms = X.shape
    width = min(dims + oversample, n_docs, n_terms)
    X = X.tocsr()
    XT = X.T.tocsr()
    # Range finding on the shorter side (QR of the smaller dense block), then the term vectors
    # from the small Gram matrix of B = Q^T A (width x width).
    if n_docs <= n_terms:
        A, AT = X, XT  # Q spans the top document space; B = Q^T X is width x terms
    else:
        A, AT = XT, X  # Q spans the top term space; B = Q^T X^T is width x docs
    Q, _ = qr(np.asarray(A @ rng.standard_normal((A.shape[1], width))), mode="economic")
    for _ in range(power_iters):
        Q, _ = qr(np.asarray(A @ np.asarray(AT @ Q)), mode="economic")
    BT = np.asarray(AT @ Q)  # (other side) x width
    vals, vecs = eigh(BT.T @ BT)
    order = np.argsort(-vals)[:dims]
    vals, vecs = np.maximum(vals[order], 1e-12), vecs[:, order]
    if n_docs <= n_terms:
        U = (BT @ vecs) / np.sqrt(vals)  # right singular vectors of X: terms x dims
    else:
        U = Q @ vecs  # left singular vectors of X^T: terms x dims
    signs = np.sign(U[np.abs(U).argmax(axis=0), np.arange(U.shape[1])])
    return np.ascontiguousarray(U * np.where(signs == 0, 1.0, signs))


@lru_cache(maxsize=200_000)
def _char_grams(token: str, lo: int, hi: int) -> tuple[str, ...]:
    """``#``-prefixed character n-grams of a token (each part of a phrase on its own)."""
    out = []
    for part in token.split("_"):
        word = "<" + part + ">"
        for size in range(lo, hi + 1):
            out.extend("#" + word[i:i + size] for i in range(len(word) - size + 1))
    return tuple(out)


def _token_counts(docs: list[list[str]]) -> tuple[list[str], sparse.csr_matrix]:
    """Distinct tokens (first-seen order) and the ideas x tokens count matrix."""
    index: dict[str, int] = {}
    rows, cols = [], []
    for r, doc in enumerate(docs):
        for tok in doc:
            cols.append(index.setdefault(tok, len(index)))
        rows.append(len(doc))
    row_ids = np.repeat(np.arange(len(docs)), rows)
    A = sparse.csr_matrix((np.ones(len(cols)), (row_ids, np.asarray(cols, dtype=np.int64))),
                          shape=(len(docs), len(index)))
    A.sum_duplicates()
    return list(index), A


def _gram_matrix(tokens: list[str], char_ngrams) -> tuple[list[str], sparse.csr_matrix]:
    """Distinct n-grams of the tokens (first-seen order) and the tokens x n-grams count matrix."""
    index: dict[str, int] = {}
    lengths, cols = [], []
    for tok in tokens:
        grams = _char_grams(tok, *char_ngrams)
        cols.extend(index.setdefault(g, len(index)) for g in grams)
        lengths.append(len(grams))
    row_ids = np.repeat(np.arange(len(tokens)), lengths)
    G = sparse.csr_matrix((np.ones(len(cols)), (row_ids, np.asarray(cols, dtype=np.int64))),
                          shape=(len(tokens), len(index)))
    G.sum_duplicates()
    return list(index), G


def _select_columns(M: sparse.csr_matrix, target: np.ndarray, width: int) -> sparse.csr_matrix:
    """Columns of ``M`` moved to ``target`` positions (``-1``: dropped), ``width`` columns."""
    M = M.tocoo()
    new = target[M.col]
    keep = new >= 0
    out = sparse.csr_matrix((M.data[keep], (M.row[keep], new[keep])), shape=(M.shape[0], width))
    out.sum_duplicates()
    return out


def _log_tf_idf(M: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """(1 + log tf) * idf with cosine-normalised rows (as :func:`_ltc`, for a whole matrix)."""
    M = M.tocsr(copy=True)
    M.data = (1.0 + np.log(M.data)) * idf[M.indices]
    norms = np.sqrt(np.asarray(M.multiply(M).sum(axis=1)).ravel())
    return (sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ M).tocsr()


def _lsi_dims(n: int) -> int:
    """LSI dimensions for n ideas: about 2*sqrt(n), at most 150."""
    return int(np.clip(round(2 * math.sqrt(n)), MIN_DIMS, 150))


def _unit_rows(Z: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    return Z / np.maximum(norms, 1e-12)


def _keywords(X, labels: np.ndarray, k: int, vocabulary: Sequence[str]) -> list[list[str]]:
    """Top terms per cluster by mean TF-IDF weight."""
    out = []
    for j in range(k):
        members = np.flatnonzero(labels == j)
        if len(members) == 0:
            out.append([])
            continue
        mean = np.asarray(X[members].mean(axis=0)).ravel()
        top = np.argsort(-mean, kind="stable")[:TOP_KEYWORDS]
        out.append([vocabulary[i] for i in top if mean[i] > 0])
    return out


def _coherence_by_k(runs: dict, docs: list[list[str]], dictionary) -> dict[int, float]:
    """Mean c_v coherence of each candidate k's keyword lists, sharing one co-occurrence pass
    over ``docs`` (the sample the candidates were clustered on)."""
    from gensim.models import CoherenceModel

    docs = [[t for t in d if t in dictionary.token2id] for d in docs]
    all_topics = [kw for _, _, kws in runs.values() for kw in kws if len(kw) >= 2]
    if not all_topics:
        return {k: 0.0 for k in runs}
    cm = CoherenceModel(topics=all_topics, texts=docs, dictionary=dictionary, coherence=COHERENCE,
                        topn=TOP_KEYWORDS, processes=1)
    scores = {}
    # Word pairs that never co-occur give log(0) inside gensim; they are scored, not errors.
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cm.estimate_probabilities()
        for k, (_, _, kws) in runs.items():
            kws = [kw for kw in kws if len(kw) >= 2]
            if not kws:
                scores[k] = -math.inf
                continue
            cm.topics = kws
            values = [v for v in cm.get_coherence_per_topic() if np.isfinite(v)]
            scores[k] = float(np.mean(values)) if values else -math.inf
    return scores


def _label(words: Sequence[str], n: int = 3) -> str:
    """A readable label from ranked surface keywords, skipping words already shown."""
    chosen: list[str] = []
    seen: set[str] = set()
    for word in words:
        parts = set(word.split())
        if parts <= seen:
            continue
        chosen.append(word)
        seen |= parts
        if len(chosen) == n:
            break
    return ", ".join(chosen) if chosen else "(no keywords)"
