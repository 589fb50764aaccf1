import pytest

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
