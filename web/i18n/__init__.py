"""Interface languages: gettext catalogues (web/i18n/<locale>/LC_MESSAGES/messages.po) compiled in memory
at start-up, the locale of the current request in a context variable, content in the chosen locale.

Python code marks strings with `_("...")` (or `lazy_gettext` at import time); templates with
`{{ _("...") }}` / `{% trans %}`. `make web-messages` extracts them and updates the catalogues.
"""
from __future__ import annotations

import io
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

I18N_DIR = Path(__file__).resolve().parent
INTERFACE_LOCALES = ("en", "nl", "fr")   # the languages the interface is translated into
DEFAULT_LOCALE = "en"
LANGUAGE_NAMES = {"en": "English", "nl": "Nederlands", "fr": "Français", "de": "Deutsch", "es": "Español",
                  "it": "Italiano", "pl": "Polski", "pt": "Português"}

_locale: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)
_catalogues: dict[str, NullTranslations] = {}


def load() -> None:
    """Compile every messages.po (there is no separate build step: the .po files are the source)."""
    for locale in INTERFACE_LOCALES:
        po = I18N_DIR / locale / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            _catalogues[locale] = NullTranslations()
            continue
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=locale)
        buf = io.BytesIO()
        write_mo(buf, catalog, use_fuzzy=False)
        buf.seek(0)
        _catalogues[locale] = Translations(fp=buf)


def translations(locale: str | None = None) -> NullTranslations:
    if not _catalogues:
        load()
    return _catalogues.get(interface_locale(locale or _locale.get()), NullTranslations())


def interface_locale(locale: str) -> str:
    return locale if locale in INTERFACE_LOCALES else DEFAULT_LOCALE


def set_locale(locale: str):
    return _locale.set(locale)


def get_locale() -> str:
    return _locale.get()


def gettext(message: str, **variables) -> str:
    text = translations().gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    text = translations().ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


def pgettext(context: str, message: str, **variables) -> str:
    text = translations().pgettext(context, message)
    return text % variables if variables else text


def lazy_gettext(message: str, **variables) -> LazyProxy:
    return LazyProxy(gettext, message, enable_cache=False, **variables)


_ = gettext


def localized(value, locale: str | None = None, fallbacks: list[str] | tuple[str, ...] = ()) -> str:
    """A multilingual object ({"en": .., "nl": ..}) in the chosen locale, else the first fallback it has,
    else any; plain strings (citizens' posts) as they are."""
    if value is None:
        return ""
    if not isinstance(value, dict):
        return str(value)
    for candidate in (locale or _locale.get(), *fallbacks, DEFAULT_LOCALE):
        if value.get(candidate):
            return value[candidate]
    return next((v for v in value.values() if v), "")


def choose_locale(offered: list[str], session_choice: str | None, accept_language: str | None) -> str:
    """The session's choice if the city offers it, else the browser's best offered language, else the
    city's first locale."""
    offered = [o for o in offered if o] or [DEFAULT_LOCALE]
    if session_choice in offered:
        return session_choice
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        for candidate in (tag, tag.split("-")[0]):
            if candidate in offered:
                return candidate
    return offered[0]


def language_name(locale: str) -> str:
    return LANGUAGE_NAMES.get(locale, locale)
