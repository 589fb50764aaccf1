import pytest
from pydantic import BaseModel, ValidationError

from services.common.errors import ValidationFailed
from services.common.texts import Locale, Multilingual, check_locales, locale_issues, multilingual


class Question(BaseModel):
    text: Multilingual(10)
    locale: Locale | None = None


def test_multilingual_strips_and_refuses_empty_or_long_texts():
    assert multilingual({"en": " Hi ", "nl": "Hoi"}, 10) == {"en": "Hi", "nl": "Hoi"}
    for bad, why in [({}, "at least one locale"), ({"en": "  "}, "'en' text is empty"),
                     ({"nl": "x" * 11}, "longer than 10")]:
        with pytest.raises(ValueError, match=why):
            multilingual(bad, 10)


def test_the_field_type_validates_texts_and_locale_tags():
    assert Question(text={"en": " a "}, locale="pt-BR").text == {"en": "a"}
    with pytest.raises(ValidationError):
        Question(text={"en": "x" * 11})
    with pytest.raises(ValidationError):
        Question(text={"en": "a"}, locale="english")


def test_locale_checks_name_each_key_outside_the_city():
    assert locale_issues({"en": "a", "fr": "b"}, ["en", "nl"], "title") == [
        {"field": "title.fr", "issue": "not a locale of this city (en, nl)"}]
    assert locale_issues({"fr": "b"}, [], "title") == []
    check_locales(["en"], title={"en": "a"}, description=None)
    with pytest.raises(ValidationFailed) as err:
        check_locales(["en"], title={"de": "a"}, description={"fr": "b"})
    assert [d["field"] for d in err.value.details] == ["title.de", "description.fr"]
