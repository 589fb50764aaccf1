import random

import pytest

from services.analytics.similarity import SimilarityIndex


@pytest.fixture(scope="module")
def index(petitions):
    idx = SimilarityIndex(language="en", rebuild_every=50)
    idx.add_many(petitions)
    return idx


def test_finds_a_near_duplicate_of_a_real_text_first(index, petitions):
    rng = random.Random(1)
    texts = dict(petitions)
    for idea_id, body in rng.sample(petitions, 20):
        words = body.split()
        draft = " ".join(w for w in words if rng.random() > 0.25)
        top = index.similar_to_text(draft, k=5)
        best = top[0][1]
        # Some petitions are in the corpus twice under other ids: a tie with an identical text.
        tied = [i for i, s in top if s >= best - 1e-9]
        assert idea_id in tied or any(texts[i] == body for i in tied)
        assert 0.5 < best <= 1.0
        assert all(0.0 <= s <= 1.0 for _, s in top)


def test_query_by_id_excludes_the_idea(index, petitions):
    idea_id = petitions[3][0]
    res = index.similar_to_idea(idea_id, k=5)
    assert len(res) == 5 and idea_id not in [i for i, _ in res]
    assert [s for _, s in res] == sorted((s for _, s in res), reverse=True)
    assert index.query(idea_id=idea_id, k=5) == res
    with pytest.raises(KeyError):
        index.similar_to_idea("no-such-idea")


def test_incremental_add_update_remove():
    idx = SimilarityIndex(language="en", rebuild_every=2)
    idx.add(1, "More trees along the canal")
    idx.add(2, "A new playground in the park")
    idx.add(3, "Fix the potholes on Main Street")
    idx.rebuild()
    assert idx.similar_to_text("trees on the canal", k=1)[0][0] == 1
    idx.add(4, "Plant trees along the canal banks")   # pending, not rebuilt yet
    assert [i for i, _ in idx.similar_to_text("trees along the canal", k=2)] in ([1, 4], [4, 1])
    idx.update(1, "Free swimming lessons for kids")
    assert idx.similar_to_text("trees along the canal", k=1)[0][0] == 4
    assert idx.similar_to_text("swimming lessons", k=1)[0][0] == 1
    assert idx.remove(4) and not idx.remove(4)
    assert 4 not in [i for i, _ in idx.similar_to_text("trees along the canal", k=5)]
    for i in range(10, 20):                               # many adds trigger a rebuild
        idx.add(i, f"bench number {i} in the park")
    assert idx.similar_to_text("playground park", k=1)[0][0] == 2
    assert len(idx) == 13 and 4 not in idx


def test_empty_and_unknown_queries():
    idx = SimilarityIndex()
    assert idx.similar_to_text("anything") == []
    idx.add("a", "bike lanes")
    assert idx.similar_to_text("") == []
    assert idx.similar_to_text("🙂🙂") == []
    assert idx.similar_to_text("completely unrelated words") == []
    assert idx.similar_to_idea("a") == []
    score = idx.similar_to_text("bike lanes and trees")[0][1]
    assert 0 < score < 1  # unknown words lower the score
