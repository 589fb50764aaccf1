"""Benchmark of the analytics core: topic quality against labels, and speed.

Run:  .venv/bin/python bench/bench_analytics.py [--quick]
Writes bench/results/analytics.json and prints a table. Bounded to a few minutes on 2 cores.

Quality. Each labelled corpus in ../shared/data/ideas/ is clustered by our topics pipeline
(services.analytics.topics) and scored with NMI and ARI against its labels, next to a baseline
measured in the same run: scikit-learn TF-IDF (sublinear tf, the corpus language's stopwords) +
k-means with k = number of labels. Ours is reported twice: with the k it picks itself, and at the
label k for a fair comparison, and at the label k without its character n-gram features
(words only) to measure what they add. Scores are means over SEEDS seeds. LDA and NMF (gensim, on the same
preprocessing) are also scored at the label k, to document why the pipeline is LSI + clustering.
Ideas the model leaves unassigned (no known word) count as one extra cluster.

Labels:
- wtp_petitions_1k_en: the first tag of `tags`; petitions tagged "null" are clustered but not
  scored (57 of 1,023).
- pabulib_projects_amsterdam_nl: `category`, district-specific names mapped to 7 common categories
  by AMSTERDAM_CATEGORIES (keyword rules, first match wins; a multi-category name takes its first
  listed category, since rules are checked in the order the name's words appear). Empty category
  and "Overig" are clustered but not scored.
- pabulib_projects_mturk_en, pabulib_projects_zurich_en: `category` as is.
- decide_madrid_proposals_es: no labels; topics only.

Speed (medians of repeated runs): building topics for 10,000 ideas synthesised from corpus texts
(a title with the body of another idea), assigning one new idea, and a similar-ideas query with
100,000 synthesised ideas indexed (by draft text and by idea id).
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: threads only add overhead

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.analytics import text as textmod  # noqa: E402
from services.analytics import topics as topicsmod  # noqa: E402
from services.analytics.similarity import SimilarityIndex  # noqa: E402

DATA = Path(os.environ.get("AGORA_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")) / "ideas"
RESULTS = ROOT / "bench" / "results" / "analytics.json"
SEEDS = (0, 1, 2)

# Amsterdam district category names -> common category. Checked in order of appearance in the
# name (so "Duurzaamheid en groen Ontmoeting en verbinding ..." -> green).
AMSTERDAM_CATEGORIES = [
    ("groen", "green_climate"), ("duurza", "green_climate"), ("klimaat", "green_climate"),
    ("afval", "clean_streets"), ("zwerfvuil", "clean_streets"), ("grofvuil", "clean_streets"),
    ("ratten", "clean_streets"),
    ("kunst", "culture"), ("cultu", "culture"),
    ("sport", "sport_health"), ("gezond", "sport_health"),
    ("jeugd", "youth"), ("jonger", "youth"), ("kind", "youth"), ("kansen & onderwijs", "youth"),
    ("ontmoet", "social"), ("sociaal", "social"), ("buurthuizen", "social"),
    ("buurtverbinding", "social"), ("samen", "social"), ("eenzaam", "social"),
    ("arm", "social"), ("multicult", "social"),
    ("openbare ruimte", "public_space_traffic"), ("straten", "public_space_traffic"),
    ("hard", "public_space_traffic"), ("fiets", "public_space_traffic"),
    ("veilig", "public_space_traffic"),
]


def amsterdam_category(name: str) -> str | None:
    """Common category of an Amsterdam district category name (None: unlabelled or "Overig")."""
    low = name.lower().replace("&amp;", "&")
    hits = [(low.find(key), label) for key, label in AMSTERDAM_CATEGORIES if key in low]
    return min(hits)[1] if hits else None


def load(name: str) -> tuple[list, list, list, str]:
    """(ids, texts, labels or None each, language)."""
    with open(DATA / f"{name}.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if name.startswith("wtp"):
        ids = [r["id"] for r in rows]
        texts = [f"{r['title']}\n{r['content']}" for r in rows]
        labels = [None if r["tags"] in ("", "null") else r["tags"].split(",")[0].strip()
                  for r in rows]
        return ids, texts, labels, "en"
    if name.startswith("decide"):
        return ([r["id"] for r in rows],
                [f"{r['title']}\n{r['summary']}\n{r['text']}" for r in rows], [None] * len(rows),
                "es")
    ids = [f"{r['instance']}:{r['project_id']}" for r in rows]
    texts = [f"{r['name']}\n{r['description']}".strip() for r in rows]
    if "amsterdam" in name:
        labels = [amsterdam_category(r["category"]) if r["category"] else None for r in rows]
    else:
        labels = [r["category"] or None for r in rows]
    return ids, texts, labels, rows[0]["language"]


def scores(labels, predicted):
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    keep = [i for i, lab in enumerate(labels) if lab is not None]
    y = [labels[i] for i in keep]
    p = [predicted[i] for i in keep]
    return normalized_mutual_info_score(y, p), adjusted_rand_score(y, p)


def ours(ids, texts, lang, seed, k=None):
    model = topicsmod.build_topics(list(zip(ids, texts)), language=lang, seed=seed, num_topics=k)
    return model, [(-1 if model.assignments[i] is None else model.assignments[i]) for i in ids]


def ours_words_only(ids, texts, lang, seed, k):
    """Ours without the character n-gram block (word TF-IDF only), to measure what it adds."""
    saved = topicsmod.CHAR_NGRAMS
    topicsmod.CHAR_NGRAMS = None
    try:
        return ours(ids, texts, lang, seed, k)[1]
    finally:
        topicsmod.CHAR_NGRAMS = saved


def baseline(texts, lang, k, seed):
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer
    vec = TfidfVectorizer(sublinear_tf=True, stop_words=sorted(textmod.stopwords(lang)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X = vec.fit_transform(texts)
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit(X).labels_.tolist()


def gensim_alternatives(texts, lang, k, seed):
    """LDA and NMF (gensim) at the label k, same preprocessing as ours."""
    from gensim.corpora import Dictionary
    from gensim.models import LdaModel, TfidfModel
    from gensim.models.nmf import Nmf
    prep = textmod.Preprocessor(default_language=lang)
    docs = prep.fit(texts, [lang] * len(texts))
    dct = Dictionary(docs)
    dct.filter_extremes(no_below=2, no_above=0.5 if len(docs) >= 20 else 1.0)
    bow = [dct.doc2bow(d) for d in docs]
    out = {}
    lda = LdaModel(bow, num_topics=k, id2word=dct, random_state=seed, passes=10, alpha="auto")
    out["lda"] = [max(lda.get_document_topics(b, minimum_probability=0), key=lambda x: x[1])[0]
                  if b else -1 for b in bow]
    tfidf = TfidfModel(bow)
    tb = [tfidf[b] for b in bow]
    nmf = Nmf(tb, num_topics=k, id2word=dct, random_state=seed, passes=10)
    out["nmf"] = [max(nmf[b], key=lambda x: x[1])[0] if b and nmf[b] else -1 for b in tb]
    return out


def quality(quick: bool) -> dict:
    result = {}
    seeds = SEEDS[:1] if quick else SEEDS
    for name in ("wtp_petitions_1k_en", "pabulib_projects_amsterdam_nl",
                 "pabulib_projects_mturk_en", "pabulib_projects_zurich_en"):
        ids, texts, labels, lang = load(name)
        k_label = len({lab for lab in labels if lab is not None})
        rows = {"ours_auto_k": [], "ours_label_k": [], "ours_words_only_label_k": [],
                "baseline_tfidf_kmeans": []}
        ks, build_s = [], []
        for seed in seeds:
            t = time.perf_counter()
            model, pred = ours(ids, texts, lang, seed)
            build_s.append(time.perf_counter() - t)
            ks.append(model.num_topics)
            rows["ours_auto_k"].append(scores(labels, pred))
            rows["ours_label_k"].append(scores(labels, ours(ids, texts, lang, seed, k_label)[1]))
            rows["ours_words_only_label_k"].append(
                scores(labels, ours_words_only(ids, texts, lang, seed, k_label)))
            rows["baseline_tfidf_kmeans"].append(scores(labels, baseline(texts, lang, k_label,
                                                                         seed)))
        alt = gensim_alternatives(texts, lang, k_label, 0)
        entry = {"n": len(texts), "n_scored": sum(lab is not None for lab in labels),
                 "label_k": k_label, "auto_k": ks, "build_seconds_median": statistics.median(build_s),
                 "seeds": list(seeds)}
        for key, vals in rows.items():
            arr = np.array(vals)
            entry[key] = {"nmi": round(float(arr[:, 0].mean()), 4),
                          "ari": round(float(arr[:, 1].mean()), 4)}
        for key, pred in alt.items():
            nmi, ari = scores(labels, pred)
            entry[f"gensim_{key}_label_k_seed0"] = {"nmi": round(nmi, 4), "ari": round(ari, 4)}
        entry["beats_baseline_auto_k"] = bool(
            entry["ours_auto_k"]["nmi"] > entry["baseline_tfidf_kmeans"]["nmi"]
            and entry["ours_auto_k"]["ari"] > entry["baseline_tfidf_kmeans"]["ari"])
        entry["beats_baseline_label_k"] = bool(
            entry["ours_label_k"]["nmi"] > entry["baseline_tfidf_kmeans"]["nmi"]
            and entry["ours_label_k"]["ari"] > entry["baseline_tfidf_kmeans"]["ari"])
        result[name] = entry
    ids, texts, _, lang = load("decide_madrid_proposals_es")
    model = topicsmod.build_topics(list(zip(ids, texts)), language=lang, seed=0)
    result["decide_madrid_proposals_es"] = {
        "n": len(texts), "auto_k": [model.num_topics], "labels": "none (topics only)",
        "topics": [{"topic_id": t.topic_id, "label": t.label, "size": t.size}
                   for t in model.topics]}
    return result


def synthesise(n: int, seed: int) -> list[str]:
    """n idea texts: a real title (or first line) with a slice of another idea's body."""
    rng = random.Random(seed)
    pool = []
    for name in ("wtp_petitions_1k_en", "pabulib_projects_mturk_en", "pabulib_projects_zurich_en"):
        _, texts, _, _ = load(name)
        pool.extend(texts)
    heads = [t.split("\n", 1)[0] for t in pool]
    bodies = [re.split(r"\s+", t.split("\n", 1)[1]) if "\n" in t else t.split() for t in pool]
    out = []
    for _ in range(n):
        body = bodies[rng.randrange(len(bodies))]
        start = rng.randrange(max(1, len(body) - 60))
        out.append(heads[rng.randrange(len(heads))] + "\n" + " ".join(body[start:start + 60]))
    return out


def speed(quick: bool) -> dict:
    res = {}
    texts = synthesise(10_000, 1)
    ids = [f"s{i}" for i in range(len(texts))]
    runs = []
    model = None
    for _ in range(1 if quick else 3):
        t = time.perf_counter()
        model = topicsmod.build_topics(list(zip(ids, texts)), language="en", seed=0)
        runs.append(time.perf_counter() - t)
    res["topics_build_10k_seconds"] = {"median": statistics.median(runs), "runs": runs,
                                       "k": model.num_topics}
    new = synthesise(300, 2)
    times = []
    for text in new:
        t = time.perf_counter()
        model.assign(text)
        times.append(time.perf_counter() - t)
    res["topics_assign_ms"] = {"median": 1000 * statistics.median(times),
                               "p95": 1000 * float(np.percentile(times, 95))}
    blob = model.to_bytes()
    t = time.perf_counter()
    topicsmod.TopicModel.from_bytes(blob)
    res["topics_model_bytes_10k"] = len(blob)
    res["topics_from_bytes_ms"] = 1000 * (time.perf_counter() - t)

    n_index = 20_000 if quick else 100_000
    big = synthesise(n_index, 3)
    index = SimilarityIndex(language="en")
    t = time.perf_counter()
    for i, text in enumerate(big):
        index.add(i, text)
    add_s = time.perf_counter() - t
    t = time.perf_counter()
    index.rebuild()
    rebuild_s = time.perf_counter() - t
    drafts = synthesise(300, 4)
    q_text, q_id = [], []
    rng = random.Random(5)
    for draft in drafts:
        t = time.perf_counter()
        index.similar_to_text(draft, k=5)
        q_text.append(time.perf_counter() - t)
        idea = rng.randrange(n_index)
        t = time.perf_counter()
        index.similar_to_idea(idea, k=5)
        q_id.append(time.perf_counter() - t)
    # Incremental: 200 new ideas pending (below the rebuild threshold), then query.
    for i, text in enumerate(synthesise(200, 6)):
        index.add(f"new{i}", text)
    q_pending = []
    for draft in drafts[:100]:
        t = time.perf_counter()
        index.similar_to_text(draft, k=5)
        q_pending.append(time.perf_counter() - t)
    res["similarity"] = {
        "ideas_indexed": n_index, "add_all_seconds": add_s, "rebuild_seconds": rebuild_s,
        "query_text_ms_median": 1000 * statistics.median(q_text),
        "query_text_ms_p95": 1000 * float(np.percentile(q_text, 95)),
        "query_id_ms_median": 1000 * statistics.median(q_id),
        "query_text_with_200_pending_ms_median": 1000 * statistics.median(q_pending),
    }
    return res


def near_duplicates() -> dict:
    """Hit rate at 1: a real petition with 20% of its words dropped finds the original first.

    The corpus holds some petitions twice (same text, other id); a tie at the top score with such
    a copy counts as a hit."""
    ids, texts, _, _ = load("wtp_petitions_1k_en")
    index = SimilarityIndex(language="en")
    for i, t in zip(ids, texts):
        index.add(i, t)
    rng = random.Random(7)
    hits = 0
    sample = rng.sample(range(len(ids)), 200)
    for j in sample:
        words = texts[j].split()
        kept = [w for w in words if rng.random() > 0.2]
        top = index.similar_to_text(" ".join(kept), k=5)
        hits += bool(top) and ids[j] in [i for i, s in top if s >= top[0][1] - 1e-9]
    return {"corpus": "wtp_petitions_1k_en", "queries": len(sample), "hit_at_1": hits / len(sample)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one seed, 20k index (smoke run)")
    args = ap.parse_args()
    started = time.perf_counter()
    out = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                       "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS")},
           "quality": quality(args.quick), "near_duplicates": near_duplicates(),
           "speed": speed(args.quick)}
    out["bench_seconds"] = time.perf_counter() - started
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")

    print(f"{'corpus':32} {'k lab':>5} {'k auto':>8} | {'ours auto NMI/ARI':>18} | "
          f"{'ours k=lab NMI/ARI':>18} | {'words only k=lab':>17} | {'baseline NMI/ARI':>17} | {'LDA':>11} | {'NMF':>11}")
    for name, e in out["quality"].items():
        if "label_k" not in e:
            print(f"{name:32} {'-':>5} {e['auto_k'][0]:>8} | topics only: "
                  + "; ".join(f"{t['label']} ({t['size']})" for t in e["topics"][:4]))
            continue

        def f(d):
            return f"{d['nmi']:.3f}/{d['ari']:.3f}"
        print(f"{name:32} {e['label_k']:>5} {','.join(map(str, e['auto_k'])):>8} | "
              f"{f(e['ours_auto_k']):>18} | {f(e['ours_label_k']):>18} | "
              f"{f(e['ours_words_only_label_k']):>17} | "
              f"{f(e['baseline_tfidf_kmeans']):>17} | {f(e['gensim_lda_label_k_seed0']):>11} | "
              f"{f(e['gensim_nmf_label_k_seed0']):>11}")
    s = out["speed"]
    print(f"near-duplicate hit@1 (20% words dropped): {out['near_duplicates']['hit_at_1']:.3f}")
    print(f"topics build 10k ideas: median {s['topics_build_10k_seconds']['median']:.2f} s "
          f"(k={s['topics_build_10k_seconds']['k']}); assign: {s['topics_assign_ms']['median']:.2f} ms;"
          f" model {s['topics_model_bytes_10k'] / 1e6:.1f} MB")
    sim = s["similarity"]
    print(f"similarity with {sim['ideas_indexed']:,} ideas: text query {sim['query_text_ms_median']:.2f} ms"
          f" (p95 {sim['query_text_ms_p95']:.2f}), id query {sim['query_id_ms_median']:.2f} ms, "
          f"with 200 pending {sim['query_text_with_200_pending_ms_median']:.2f} ms; "
          f"indexing {sim['add_all_seconds']:.1f} s + rebuild {sim['rebuild_seconds']:.2f} s")
    print(f"bench took {out['bench_seconds']:.0f} s -> {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
