from collections import Counter

from services.analytics import text


def test_detects_the_languages_of_the_shared_corpora(petitions, madrid, amsterdam):
    for ideas, lang in ((petitions, "en"), (madrid, "es")):
        found = Counter(text.detect_language(t) for _, t in ideas)
        assert found[lang] / len(ideas) > 0.97, found
    # Amsterdam titles are a few words each: per title with the pooled project language as default.
    titles = [t for _, t in amsterdam]
    assert text.detect_corpus_language(titles) == "nl"
    found = Counter(text.detect_language(t, default="nl") for t in titles)
    assert found["nl"] / len(titles) > 0.9, found


def test_detects_french_and_german_sentences_and_honours_hints():
    assert text.detect_language("Nous voulons plus de pistes cyclables dans le quartier") == "fr"
    assert text.detect_language("Wir brauchen mehr Bäume und eine sichere Straße für die Kinder") == "de"
    assert text.detect_language("Meer bomen in de straat en een speeltuin voor het plein") == "nl"
    assert text.detect_language("anything at all", hint="es-ES") == "es"
    assert text.detect_language("whatever", hint="xx") == "en"
    assert text.detect_language("", default="nl") == "nl"


def test_tokenize_edge_cases():
    assert text.tokenize(None) == []
    assert text.tokenize("") == []
    assert text.tokenize("🌳🚲🙂 !!! 123") == []
    assert text.tokenize("park") == ["park"]
    toks = text.tokenize("See https://example.org/x?a=1 and www.agora.test, mail a@b.org 🌳Trees!")
    assert toks == ["see", "and", "mail", "trees"]
    assert text.tokenize("L'école d’été, Straße, café") == ["école", "été", "straße", "café"]


def test_mixed_language_text_is_stemmed_without_error():
    mixed = "We need more trees. Necesitamos más árboles en el barrio. Meer bomen graag!"
    lang = text.detect_language(mixed)
    assert lang in {"en", "es", "nl"}
    stems = text.analyse(mixed)
    assert "tree" in stems and all(s for s in stems)


def test_50kb_text_is_fast_and_bounded():
    import time
    big = ("Safer bike lanes near the school, please 🚲 https://x.test/a " * 1000)[:50_000]
    started = time.perf_counter()
    stems = text.analyse(big)
    assert time.perf_counter() - started < 2.0
    assert len(stems) > 3000
    assert set(stems[:-1]) <= {"safer", "bike", "lane", "school", "near"}  # last word is cut


def test_stopwords_and_stems_per_language():
    assert text.analyse("the parks are beautiful", "en") == ["park", "beauti"]
    assert text.analyse("de bomen in het park", "nl") == ["bom", "park"]
    assert text.analyse("les arbres du quartier", "fr") == ["arbre", "quarti"]
    assert text.analyse("los árboles del barrio", "es") == ["arbol", "barri"]


def test_preprocessor_phrases_and_surface_words_round_trip():
    texts = ["health care for veterans"] * 15 + ["better health care now"] * 10 + \
            ["school buses and health"] * 5
    prep = text.Preprocessor()
    docs = prep.fit(texts)
    assert "health_care" in docs[0]
    assert prep.surface("health_care") == "health care"
    assert prep.surface("veteran") == "veterans"
    again = text.Preprocessor.from_state(prep.to_state())
    assert again.transform("Health care!") == ["health_care"]
