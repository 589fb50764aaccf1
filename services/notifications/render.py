"""Texts of notifications in the reader's locale, from the Jinja2 templates in templates/.

templates/<locale>/messages.j2 holds every kind's title and body in that locale; templates/<locale>/
email.{html,txt} and digest.{html,txt} are the e-mails (they extend the shared layouts at the root of
templates/ and may override them). A locale without templates falls back to English.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
LOCALES = tuple(sorted(p.name for p in TEMPLATES.iterdir() if (p / "messages.j2").exists()))
DEFAULT_LOCALE = "en"


def pick(texts, locale: str | None = None) -> str:
    """One text of a multilingual object {"en": ..., "nl": ...}: the locale's, else English, else any."""
    if isinstance(texts, str):
        return texts
    if not isinstance(texts, dict) or not texts:
        return ""
    for key in (locale, (locale or "").split("-")[0], DEFAULT_LOCALE):
        if key and texts.get(key):
            return texts[key]
    return next((v for v in texts.values() if v), "")


def locale_of(*candidates) -> str:
    """The first candidate (`nl-BE`, `fr`, ...) the templates speak, else English."""
    for candidate in candidates:
        if candidate:
            base = str(candidate).split("-")[0].lower()
            if base in LOCALES:
                return base
    return DEFAULT_LOCALE


class _Data(dict):
    """Template access to notification data where a missing field is None, not an error."""

    def __getattr__(self, name):
        return self.get(name)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.globals["pick"] = pick
    return env


def _messages(locale: str):
    return environment().get_template(f"{locale_of(locale)}/messages.j2").module


def text(kind: str, data: dict, locale: str | None) -> tuple[str, str]:
    """(title, body) of one notification, plain text."""
    m = _messages(locale)
    d = _Data(data or {})
    return str(m.title(kind, d)).strip(), " ".join(str(m.body(kind, d)).split())


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str
    locale: str


def _render(template: str, locale: str, **context) -> Email:
    env = environment()
    m = _messages(locale)
    context = {"m": m, "locale": locale, **context}
    txt = env.get_template(f"{locale}/{template}.txt").render(**context)
    html = env.get_template(f"{locale}/{template}.html").render(**context)
    return Email(subject=context["subject"], text=_tidy(txt), html=html, locale=locale)


def _tidy(value: str) -> str:
    lines = [line.rstrip() for line in value.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"


def notification_email(kind: str, data: dict, *, locale: str | None, name: str, city_name: str,
                       unsubscribe_url: str) -> Email:
    loc = locale_of(locale)
    title, body = text(kind, data, loc)
    return _render("email", loc, subject=title, title=title, body=body, name=name, city_name=city_name,
                   unsubscribe_url=unsubscribe_url)


def digest_email(items: list[tuple[str, dict]], *, locale: str | None, name: str, city_name: str,
                 unsubscribe_url: str) -> Email:
    """One e-mail summing up notifications [(kind, data), ...], oldest first."""
    loc = locale_of(locale)
    rendered = [dict(zip(("title", "body"), text(kind, data, loc), strict=True)) for kind, data in items]
    subject = str(_messages(loc).digest_subject(len(rendered))).strip()
    return _render("digest", loc, subject=subject, items=rendered, name=name, city_name=city_name,
                   unsubscribe_url=unsubscribe_url)


__all__ = ["Email", "LOCALES", "digest_email", "locale_of", "notification_email", "pick", "text"]
