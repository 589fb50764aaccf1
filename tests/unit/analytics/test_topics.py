import numpy as np
import pytest
from scipy import sparse

from services.analytics import topics
from services.analytics.topics import NotEnoughIdeas, TopicModel, build_topics


@pytest.fixture(scope="module")
def petition_model(petitions):
    return build_topics(petitions, language="en", seed=3)


def test_topics_on_real_petitions_have_sensible_sizes(petition_model, petitions):
    m = petition_model
    assert 2 <= m.num_topics <= 20
    sizes = [t.size for t in m.topics]
    assert sizes == sorted(sizes, reverse=True)
    assigned = sum(1 for v in m.assignments.values() if v is not None)
    assert sum(sizes) == assigned >= 0.95 * len(petitions)
    assert max(sizes) < 0.6 * assigned  # no topic swallows everything
    for t in m.topics:
        assert t.label and len(t.keywords) >= 3
        assert 1 <= len(t.representative_ids) <= 5
        assert all(m.assignments[i] == t.topic_id for i in t.representative_ids)
    assert set(m.coherence_by_k) == set(range(2, 21))


def test_build_is_deterministic_for_a_seed(petition_model, petitions):
    again = build_topics(petitions, language="en", seed=3)
    assert again.model_version == petition_model.model_version
    assert again.summary() == petition_model.summary()
    assert again.assignments == petition_model.assignments


def test_not_enough_ideas():
    ideas = [(i, "more trees in the park") for i in range(5)] + [(9, "🙂"), (10, "")]
    with pytest.raises(NotEnoughIdeas) as err:
        build_topics(ideas)
    assert err.value.count == 5 and err.value.minimum == topics.MIN_IDEAS
    assert "5" in str(err.value)


def test_serialisation_round_trip_and_assign(petition_model, petitions):
    blob = petition_model.to_bytes()
    assert isinstance(blob, bytes)
    loaded = TopicModel.from_bytes(blob)
    assert loaded.model_version == petition_model.model_version
    assert loaded.summary() == petition_model.summary()
    idea_id, body = petitions[10]
    a = loaded.assign(body)
    assert a == petition_model.assign(body) or (
        a.topic_id == petition_model.assign(body).topic_id
        and abs(a.score - petition_model.assign(body).score) < 1e-5)
    assert a.topic_id == petition_model.assignments[idea_id]
    assert 0.0 <= a.score <= 1.0
    assert loaded.assign("").topic_id is None
    assert loaded.assign("🙂 https://example.org").topic_id is None


def test_assign_puts_a_new_idea_with_the_ideas_it_resembles(petition_model, petitions):
    # A new idea made of a known petition's first sentences lands in that petition's topic.
    hits = 0
    for idea_id, body in petitions[:50]:
        if petition_model.assignments[idea_id] is None:
            continue
        draft = " ".join(body.split()[:80])
        hits += petition_model.assign(draft).topic_id == petition_model.assignments[idea_id]
    assert hits >= 40


def test_small_project_fixed_k_and_other_inputs(mturk):
    ideas = [{"id": i, "title": t, "body": ""} for i, t, _ in mturk]
    m = build_topics(ideas, num_topics=3, seed=0)
    assert m.num_topics == 3 and m.language == "en"
    assert sum(t.size for t in m.topics) == sum(v is not None for v in m.assignments.values())


def test_spanish_project(madrid):
    m = build_topics(madrid, seed=0)
    assert m.language == "es"
    assert 2 <= m.num_topics <= 16
    assert TopicModel.from_bytes(m.to_bytes()).summary() == m.summary()


def test_rejects_foreign_bytes():
    import io

    import numpy as np
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(b'{"format": 99}', np.uint8))
    with pytest.raises(ValueError):
        TopicModel.from_bytes(buf.getvalue())


def test_char_ngrams_mark_word_ends_and_split_phrases():
    grams = topics._char_grams("speeltuin", 3, 5)
    assert {"#<sp", "#<spee", "#speel", "#uin>"} <= set(grams) and "#<speel" not in grams
    assert all(g.startswith("#") for g in grams)
    phrase = topics._char_grams("climat_chang", 3, 3)
    assert "#<ch" in phrase and "#t_c" not in phrase


def test_compounds_share_ngram_features_but_no_word():
    docs = [["speeltuin"], ["speelplaat"], ["parkeerplaat"], ["speeltuin", "boom"]] * 3
    feats = topics._Features.fit(docs, min_ideas=2, usable=len(docs), char_ngrams=(3, 5),
                                 char_weight=1.0)
    X = feats.matrix(docs).toarray()
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0)
    assert all(v.startswith("#") for v in feats.vocabulary[feats.num_words:])
    # "speeltuin" and "speelplaat" share no word, only n-grams such as "<speel".
    assert X[0, :feats.num_words] @ X[1, :feats.num_words] == 0
    assert X[0] @ X[1] > 0.02 and X[0] @ X[1] > X[0] @ X[2]


def test_vectorise_matches_the_built_rows(petition_model, petitions):
    # A built idea's text, vectorised again, lands where the build put it (same weighting).
    m = petition_model
    assert m.features["char_ngrams"] == list(topics.CHAR_NGRAMS)
    assert 0 < m.features["num_words"] < len(m.vocabulary)
    agree = 0
    for idea_id, body in petitions[:40]:
        z = m.vectorise(body)
        assert z is not None and abs(np.linalg.norm(z) - 1.0) < 1e-9
        agree += int((m.centroids @ z).argmax()) == m.assignments[idea_id]
    assert agree >= 38


def test_models_stored_without_feature_settings_use_words_only(petition_model):
    # Blobs written before n-gram features (no "features" entry) still load and assign.
    m = petition_model
    nw = m.features["num_words"]
    old = TopicModel(language=m.language, seed=m.seed, vocabulary=m.vocabulary[:nw],
                     idf=m.idf[:nw], projection=m.projection[:nw], centroids=m.centroids,
                     topics=m.topics, assignments=m.assignments, preprocessor=m.preprocessor,
                     model_version=m.model_version, coherence_by_k=m.coherence_by_k,
                     num_ideas=m.num_ideas)
    assert old.features == {"num_words": nw, "char_ngrams": None, "char_weight": 0.0}
    loaded = TopicModel.from_bytes(old.to_bytes())
    assert loaded.features == old.features
    assert loaded.assign("more national parks and clean water").topic_id is not None


def test_lsi_projection_is_orthonormal_on_either_side():
    for shape in ((60, 200), (200, 60)):
        X = sparse.random(*shape, density=0.1, random_state=1, format="csr")
        P = topics._lsi_projection(X, 10, seed=0)
        assert P.shape == (shape[1], 10)
        assert np.allclose(P.T @ P, np.eye(10), atol=1e-8)
        top = np.linalg.svd(X.toarray(), full_matrices=False)[2][:3].T
        assert np.allclose(np.abs((P[:, :3] * top).sum(axis=0)), 1.0, atol=1e-3)


def test_short_dutch_titles_group_by_shared_word_parts(amsterdam):
    # Very short titles (a few words): every idea gets a vector through its n-grams.
    m = build_topics(amsterdam[:300], language="nl", seed=0, num_topics=6)
    assigned = sum(v is not None for v in m.assignments.values())
    assert assigned >= 0.98 * 300
    assert m.num_topics == 6 and max(t.size for t in m.topics) < 0.6 * assigned
