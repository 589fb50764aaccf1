"""Insight sentences from the analytics heatmap: which cells, which figures, which words."""
import gettext
import math

import pytest

from services.analytics.insight import heatmap as heatmap_of
from web import insights

EN = gettext.NullTranslations()


def answer(pairs, dimension="age_group", labels=None):
    h = heatmap_of(pairs).to_dict()
    labels = labels or {}
    h["topics"] = [{"id": t, "label": labels.get(t, f"topic {t}")} for t in h["topics"]]
    return {"status": "ok", "dimension": dimension, **h}


def sample():
    """Young people write about cycling (topic 0), older people about parking (topic 1)."""
    pairs = ([(0, "under_25")] * 38 + [(1, "under_25")] * 4 + [(2, "under_25")] * 10
             + [(0, "65+")] * 4 + [(1, "65+")] * 30 + [(2, "65+")] * 10
             + [(0, "35-49")] * 10 + [(1, "35-49")] * 10 + [(2, "35-49")] * 10
             + [(0, None)] * 9)
    return answer(pairs, labels={0: "cycling", 1: "parking", 2: "trees"})


def test_the_strongest_significant_differences_come_first():
    found = insights.findings(sample())
    assert found, "a clear split must be found"
    top = found[0]
    assert (top.topic, top.group) in {("cycling", "under_25"), ("parking", "65+"), ("cycling", "65+"),
                                      ("parking", "under_25")}
    strengths = [abs(math.log(f.ratio)) for f in found]
    assert strengths == sorted(strengths, reverse=True)
    assert all(f.group != "unknown" for f in found)
    assert all(f.p_value < 0.05 for f in found)
    assert ("trees", "35-49") not in {(f.topic, f.group) for f in found}


def test_ratio_is_against_the_others_not_against_the_total():
    h = sample()
    rows, cols, n = insights.totals(h["cells"])
    cell = next(c for c in h["cells"] if c["topic_id"] == 0 and c["group"] == "under_25")
    ratio = insights.rate_ratio(cell["count"], rows[0], cols["under_25"], n)
    mine = 38 / 52
    theirs = (61 - 38) / (n - 52)
    assert ratio == pytest.approx(mine / theirs)
    assert ratio > cell["lift"]  # the lift dilutes the difference with the group itself


def test_small_cells_and_no_difference_give_no_sentence():
    flat = answer([(0, "female")] * 20 + [(1, "female")] * 20 + [(0, "male")] * 20 + [(1, "male")] * 20,
                  dimension="gender")
    assert insights.findings(flat) == []
    tiny = answer([(0, "female")] * 3 + [(1, "male")] * 3, dimension="gender")
    assert insights.findings(tiny) == []


def test_benjamini_hochberg_controls_many_tests():
    assert insights.benjamini_hochberg([0.01, 0.04, 0.03, 0.5], 0.05) == [True, False, False, False]
    assert insights.benjamini_hochberg([0.001, 0.002, 0.003], 0.05) == [True, True, True]
    assert insights.benjamini_hochberg([], 0.05) == []


def test_overall_test_matches_the_analytics_service():
    h = sample()
    mine = insights.overall_test(h["cells"])
    assert mine["dof"] == h["dof"]
    assert mine["chi2"] == pytest.approx(h["chi2"])
    assert mine["p_value"] == pytest.approx(h["p_value"], rel=1e-6, abs=1e-300)
    assert insights.overall_test([])["p_value"] == 1.0


def test_sentence_in_english_with_its_figures():
    f = insights.Finding(topic_id=0, topic="cycling", group="under_25", dimension="age_group", count=38,
                         expected=15.0, lift=2.1, ratio=2.43, p_value=0.00001)
    assert insights.sentence(f, EN, "en", html=False) == \
        "Citizens under 25 mention *cycling* 2.4× as often as others, 38 ideas, p < 0.001"
    assert str(insights.sentence(f, EN, "en")) == \
        "Citizens under 25 mention <em>cycling</em> 2.4× as often as others, 38 ideas, p &lt; 0.001"


def test_fewer_only_and_never():
    less = insights.Finding(1, "parking", "female", "gender", 4, 12.0, 0.4, 0.25, 0.0123)
    assert insights.sentence(less, EN, "en", html=False) == \
        "Women mention *parking* 4× less often than others, 4 ideas, p = 0.012"
    only = insights.Finding(1, "parking", "Noord", "district", 7, 2.0, 3.0, math.inf, 0.0004)
    assert insights.sentence(only, EN, "en", html=False) == \
        "Citizens of Noord are the only ones to mention *parking*, 7 ideas, p < 0.001"
    never = insights.Finding(1, "parking", "25-34", "age_group", 0, 9.6, 0.0, 0.0, 0.002)
    assert insights.sentence(never, EN, "en", html=False) == \
        "Citizens aged 25–34 never mention *parking* (10 ideas expected), p = 0.002"
    one = insights.Finding(1, "parking", "male", "gender", 1, 0.2, 5.0, 6.0, 0.01)
    assert "1 idea," in insights.sentence(one, EN, "en", html=False)


def test_html_sentence_escapes_citizen_text():
    f = insights.Finding(0, "<script>x</script>", "<b>Noord</b>", "district", 9, 3.0, 3.0, 3.5, 0.001)
    html = str(insights.sentence(f, EN, "en"))
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;Noord" in html


def test_numbers_follow_the_locale():
    f = insights.Finding(0, "fiets", "under_25", "age_group", 1200, 15.0, 2.1, 2.43, 0.0123)
    plain = insights.sentence(f, EN, "nl", html=False)
    assert "2,4×" in plain and "1.200" in plain and "p = 0,012" in plain


def test_sentences_are_translated_through_the_catalogues():
    from web import i18n

    f = insights.Finding(0, "fiets", "female", "gender", 12, 5.0, 2.0, 2.5, 0.0001)
    nl = insights.sentence(f, i18n.translations("nl"), "nl", html=False)
    assert nl == "Vrouwen noemen *fiets* 2,5× zo vaak als anderen, 12 ideeën, p < 0,001"
    fr = insights.sentence(insights.Finding(0, "vélo", "25-34", "age_group", 3, 9.0, 0.3, 0.25, 0.01),
                           i18n.translations("fr"), "fr", html=False)
    assert fr == "Les habitants de 25–34 ans évoquent *vélo* 4× moins souvent que les autres, 3 idées, p = 0,01"
