"""Text preparation for analytics: language, tokens, stopwords, stems, phrases and readable labels.

Everything here is pure and offline: stopword lists come from the ``stopwordsiso`` package and the
stemmers are nltk's Snowball stemmers, which need no downloaded data.

Typical use::

    lang = detect_language(text, hint=idea_locale)
    stems = analyse(text, lang)              # stopword-free Snowball stems

    prep = Preprocessor()                    # corpus-level: stems + bigram phrases + surface words
    docs = prep.fit(texts, languages)        # list of token lists
    prep.transform(new_text)                 # same treatment for one new text, phrases applied
    prep.surface("speelplaat")               # -> "speelplaats", the most frequent original word
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Iterable, Sequence

from nltk.stem.snowball import SnowballStemmer
from stopwordsiso import stopwords as _iso_stopwords

SUPPORTED_LANGUAGES = ("en", "nl", "fr", "es", "de")
"""Languages with stopwords and a stemmer. Other locale hints fall back to ``DEFAULT_LANGUAGE``."""

DEFAULT_LANGUAGE = "en"

_SNOWBALL_NAMES = {"en": "english", "nl": "dutch", "fr": "french", "es": "spanish", "de": "german"}

MAX_CHARS = 100_000
"""Texts are cut to this many characters before tokenising (ideas are far shorter in practice)."""

_URL_RE = re.compile(r"(?:https?://|ftp://|www\.)\S+|\b[\w.+-]+@[\w-]+\.[\w.-]+\b", re.IGNORECASE)
# A word: letters (any script), optionally joined by an apostrophe or hyphen. Digits, punctuation,
# symbols and emoji are not letters, so they never end up in a token.
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_HTML_ENTITY_RE = re.compile(r"&(?:[a-z]+|#\d+);", re.IGNORECASE)
_ELISION_RE = re.compile(r"^(?:[ldjmnstc]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)

MIN_TOKEN_LEN = 2
MAX_TOKEN_LEN = 40


def normalise_language(code: str | None) -> str | None:
    """Map a locale such as ``"nl-NL"`` or ``"es_ES"`` to a supported language code, else None."""
    if not code:
        return None
    lang = str(code).strip().lower().replace("_", "-").split("-", 1)[0]
    return lang if lang in SUPPORTED_LANGUAGES else None


@lru_cache(maxsize=None)
def stopwords(language: str) -> frozenset[str]:
    """Stopwords of a supported language (lower case, stopwords-iso list plus common contractions)."""
    lang = normalise_language(language) or DEFAULT_LANGUAGE
    words = {w.lower() for w in _iso_stopwords(lang)}
    # The iso lists keep contractions with a straight apostrophe; accept the typographic one too.
    words |= {w.replace("'", "’") for w in words if "'" in w}
    return frozenset(words)


@lru_cache(maxsize=None)
def _stemmer(language: str) -> SnowballStemmer:
    return SnowballStemmer(_SNOWBALL_NAMES[language])


@lru_cache(maxsize=500_000)
def stem(word: str, language: str) -> str:
    """Snowball stem of one lower-case word (cached: words repeat a lot across ideas)."""
    return _stemmer(normalise_language(language) or DEFAULT_LANGUAGE).stem(word)


def tokenize(text: str | None) -> list[str]:
    """Lower-case word tokens of a text: URLs, e-mail addresses, digits, punctuation and emoji dropped.

    Unicode-aware (accented and non-Latin letters are kept). French/Italian elisions (``l'``, ``qu'``)
    are removed from the front of a word; tokens shorter than 2 or longer than 40 characters are
    dropped. Never raises on odd input: None, empty or emoji-only text gives ``[]``.
    """
    if not text:
        return []
    text = unicodedata.normalize("NFC", str(text)[:MAX_CHARS])
    text = _URL_RE.sub(" ", text)
    text = _HTML_ENTITY_RE.sub(" ", text)
    out = []
    for word in _WORD_RE.findall(text.lower()):
        if "'" in word or "’" in word or "-" in word:
            word = _ELISION_RE.sub("", word).strip("'’-")
        if MIN_TOKEN_LEN <= len(word) <= MAX_TOKEN_LEN:
            out.append(word)
    return out


@lru_cache(maxsize=None)
def _detector_weights() -> dict[str, dict[str, float]]:
    """Per word, the languages whose stopword list holds it, weighted 1/number of such languages.

    A word that is a stopword in one language only (``the``, ``het``, ``los``) is strong evidence;
    one shared by several (``de``, ``en``) counts for little.
    """
    owners: dict[str, list[str]] = {}
    for lang in SUPPORTED_LANGUAGES:
        for word in stopwords(lang):
            owners.setdefault(word, []).append(lang)
    return {word: {lang: 1.0 / len(langs) for lang in langs} for word, langs in owners.items()}


def language_scores(tokens: Sequence[str]) -> dict[str, float]:
    """Stopword evidence per supported language for a token list (see :func:`detect_language`)."""
    weights = _detector_weights()
    scores = dict.fromkeys(SUPPORTED_LANGUAGES, 0.0)
    for token in tokens[:2000]:
        for lang, weight in weights.get(token, {}).items():
            scores[lang] += weight
    return scores


def detect_language(text: str | None, hint: str | None = None,
                    default: str = DEFAULT_LANGUAGE, *, min_evidence: float = 0.5) -> str:
    """The language of a text: the locale ``hint`` when it names a supported language, else detected.

    Detection is a light stopword-overlap vote over en, nl, fr, es and de (see
    :func:`language_scores`); when the text has too little evidence (less than ``min_evidence``, or
    a tie, e.g. a three-word title without function words) the ``default`` is returned, so pass the
    project's language (:func:`detect_corpus_language`) as default. Mixed-language texts get the majority language.
    """
    hinted = normalise_language(hint)
    if hinted:
        return hinted
    return _detect_from_tokens(tokenize(text), default, min_evidence)


def _detect_from_tokens(tokens: Sequence[str], default: str | None,
                        min_evidence: float = 0.5) -> str:
    fallback = normalise_language(default) or DEFAULT_LANGUAGE
    scores = language_scores(tokens)
    ranked = sorted(SUPPORTED_LANGUAGES, key=lambda lang: (-scores[lang], lang != fallback))
    best, second = ranked[0], ranked[1]
    if scores[best] < min_evidence or scores[best] == scores[second]:
        return fallback
    return best


def detect_corpus_language(texts: Iterable[str | None], hint: str | None = None,
                           default: str = DEFAULT_LANGUAGE) -> str:
    """The dominant language of a collection (e.g. a project's ideas): the hint, else a pooled vote.

    Pooling the stopword evidence of all texts decides even when each text is a short title.
    """
    hinted = normalise_language(hint)
    if hinted:
        return hinted
    return _corpus_language_from_tokens((tokenize(t) for t in texts), default)


def _corpus_language_from_tokens(token_lists: Iterable[Sequence[str]], default: str | None) -> str:
    total = dict.fromkeys(SUPPORTED_LANGUAGES, 0.0)
    for i, tokens in enumerate(token_lists):
        if i >= 5000:
            break
        for lang, score in language_scores(tokens[:200]).items():
            total[lang] += score
    best = max(SUPPORTED_LANGUAGES, key=lambda lang: total[lang])
    return best if total[best] > 0 else (normalise_language(default) or DEFAULT_LANGUAGE)


def analyse_tokens(tokens: Iterable[str], language: str) -> list[tuple[str, str]]:
    """(stem, surface word) pairs for the non-stopword tokens of a token list."""
    lang = normalise_language(language) or DEFAULT_LANGUAGE
    stop = stopwords(lang)
    out = []
    for token in tokens:
        if token in stop or token.replace("’", "'") in stop:
            continue
        s = stem(token, lang)
        if len(s) >= MIN_TOKEN_LEN and s not in stop:
            out.append((s, token))
    return out


def analyse(text: str | None, language: str | None = None) -> list[str]:
    """Stopword-free Snowball stems of a text; the language is detected when not given."""
    lang = normalise_language(language) or detect_language(text)
    return [s for s, _ in analyse_tokens(tokenize(text), lang)]


class Preprocessor:
    """Corpus-level text pipeline: stems, bigram phrases (gensim ``Phrases``) and surface words.

    ``fit`` learns which adjacent stem pairs form phrases (e.g. ``climat_chang``), joined with ``_``,
    and counts, per stem, the original words it came from so :meth:`surface` can turn stems back
    into readable words for labels. The fitted object is plain data (see :meth:`to_state`), so a
    model can be stored without pickling code.
    """

    def __init__(self, *, default_language: str = DEFAULT_LANGUAGE, phrases: bool = True,
                 phrase_min_count: int = 5, phrase_threshold: float = 0.5):
        self.default_language = normalise_language(default_language) or DEFAULT_LANGUAGE
        self.use_phrases = phrases
        self.phrase_min_count = phrase_min_count
        self.phrase_threshold = phrase_threshold
        self.phrasegrams: dict[str, float] = {}
        self.surface_words: dict[str, str] = {}

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, texts: Sequence[str | None], languages: Sequence[str | None] | None = None,
            *, default_language_from_corpus: bool = False) -> list[list[str]]:
        """Learn phrases and surface words from a corpus; return each text's tokens (phrases applied).

        ``languages`` gives one language/locale per text (None entries are detected, falling back to
        the default language). With ``default_language_from_corpus`` the default language is first
        set to the corpus's dominant language (pooled stopword vote).
        """
        languages = list(languages) if languages is not None else [None] * len(texts)
        if len(languages) != len(texts):
            raise ValueError("texts and languages differ in length")
        surface_counts: dict[str, Counter] = {}
        docs: list[list[str]] = []
        token_lists = [tokenize(text) for text in texts]
        if default_language_from_corpus:
            self.default_language = _corpus_language_from_tokens(token_lists,
                                                                 self.default_language)
        for tokens, lang in zip(token_lists, languages):
            lang = normalise_language(lang) or _detect_from_tokens(tokens, self.default_language)
            pairs = analyse_tokens(tokens, lang)
            for s, w in pairs:
                surface_counts.setdefault(s, Counter())[w] += 1
            docs.append([s for s, _ in pairs])
        self.surface_words = {s: c.most_common(1)[0][0] for s, c in surface_counts.items()}
        self.phrasegrams = {}
        if self.use_phrases and len(docs) >= 20:
            from gensim.models.phrases import Phrases
            phrases = Phrases(docs, min_count=self.phrase_min_count, threshold=self.phrase_threshold,
                              scoring="npmi", delimiter="_")
            frozen = phrases.freeze()
            self.phrasegrams = {str(k): float(v) for k, v in frozen.phrasegrams.items()}
            docs = [self._apply_phrases(doc) for doc in docs]
        return docs

    # -- applying ------------------------------------------------------------------------------
    def _apply_phrases(self, stems: list[str]) -> list[str]:
        if not self.phrasegrams or len(stems) < 2:
            return stems
        out, i, n = [], 0, len(stems)
        while i < n:
            if i + 1 < n:
                joined = stems[i] + "_" + stems[i + 1]
                if joined in self.phrasegrams:
                    out.append(joined)
                    i += 2
                    continue
            out.append(stems[i])
            i += 1
        return out

    def transform(self, text: str | None, language: str | None = None) -> list[str]:
        """Tokens of one text as the fitted corpus saw them (stems, stopwords dropped, phrases)."""
        lang = normalise_language(language) or detect_language(text, default=self.default_language)
        return self._apply_phrases([s for s, _ in analyse_tokens(tokenize(text), lang)])

    def surface(self, token: str) -> str:
        """A readable form of a stem or phrase token: its most frequent original word(s)."""
        return " ".join(self.surface_words.get(part, part) for part in token.split("_"))

    # -- storage -------------------------------------------------------------------------------
    def to_state(self) -> dict:
        """JSON-serialisable state."""
        return {"default_language": self.default_language, "use_phrases": self.use_phrases,
                "phrase_min_count": self.phrase_min_count,
                "phrase_threshold": self.phrase_threshold,
                "phrasegrams": self.phrasegrams, "surface_words": self.surface_words}

    @classmethod
    def from_state(cls, state: dict) -> "Preprocessor":
        prep = cls(default_language=state["default_language"], phrases=state["use_phrases"],
                   phrase_min_count=state["phrase_min_count"],
                   phrase_threshold=state["phrase_threshold"])
        prep.phrasegrams = dict(state["phrasegrams"])
        prep.surface_words = dict(state["surface_words"])
        return prep
