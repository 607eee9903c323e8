"""Both UI languages say everything: the same keys, every key used by a page, no key shown as text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from indexer.querylog import CONTACT_KINDS, RATINGS
from indexer.retrieval.search import FILTERS
from indexer.vocabulary import AUDIENCES, CHANNELS, LANGUAGES
from webapp.i18n import STRINGS, translate

WEBAPP = Path(__file__).resolve().parent.parent / "webapp"
# t('key') in a template or the app's code, and t('prefix_' ~ value), whose keys are the prefix and a value.
STATIC_KEY = re.compile(r"\bt\('([a-z0-9_]+)'\)")
DYNAMIC_PREFIX = re.compile(r"\bt\('([a-z0-9_]+_)' ~")
# The values a dynamic key is built from, where the core names them; each must have its text.
DOMAINS = {"channel_": CHANNELS, "lang_": LANGUAGES, "filter_": FILTERS, "rate_": RATINGS,
           "contact_": CONTACT_KINDS, "value_": LANGUAGES + AUDIENCES}


def sources() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for pattern in ("templates/*.html", "*.py")
                     for path in sorted(WEBAPP.glob(pattern)))


def test_both_languages_have_the_same_keys():
    assert set(STRINGS) == set(LANGUAGES)
    assert set(STRINGS["nb"]) ^ set(STRINGS["en"]) == set()


def test_every_key_a_page_asks_for_exists():
    assert set(STATIC_KEY.findall(sources())) - set(STRINGS["nb"]) == set()


def test_every_key_is_used():
    text = sources()
    static, prefixes = set(STATIC_KEY.findall(text)), tuple(set(DYNAMIC_PREFIX.findall(text)))
    assert static and prefixes
    assert sorted(key for key in STRINGS["nb"] if key not in static and not key.startswith(prefixes)) == []


def test_every_value_of_a_dynamic_key_has_its_text():
    assert set(DOMAINS) <= set(DYNAMIC_PREFIX.findall(sources()))
    missing = sorted(prefix + value for prefix, values in DOMAINS.items() for value in values
                     if prefix + value not in STRINGS["nb"])
    assert missing == []


def test_a_missing_key_is_an_error_not_the_key(app):
    with app.test_request_context("/?ui=en"):
        app.preprocess_request()
        assert translate("search_button") == STRINGS["en"]["search_button"]
        with pytest.raises(KeyError):
            translate("no_such_key")
