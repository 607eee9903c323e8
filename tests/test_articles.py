"""Parsing articles: our schema, the real-world fallbacks, and errors that name the file and line."""

from __future__ import annotations

import pytest

from indexer.errors import ArticleError
from indexer.kb.articles import normalize_lang, parse_article


def article(text: str, path: str = "retur/angrerett.md", default_lang: str = "nb"):
    return parse_article(text.encode("utf-8"), path, default_lang)


def test_schema_fields_are_read():
    parsed = article(
        "---\ntitle: Angrerett\nlang: nb\ncategory: retur\nproducts: [AU55-Q4]\ntags: [angrerett, retur]\n"
        "audience: internal\nowner: Kundeservice\nupdated: 2026-10-01\nreview_by: 2027-04-01\n---\n"
        "# Angrerett\n\nTekst.\n"
    )
    assert parsed.id == "retur/angrerett"
    assert parsed.title == "Angrerett"
    assert parsed.lang == "nb"
    assert parsed.summary() == {
        "category": "retur", "products": ["AU55-Q4"], "tags": ["angrerett", "retur"], "audience": "internal",
        "owner": "Kundeservice", "updated": "2026-10-01", "review_by": "2027-04-01",
    }
    assert parsed.body_line == 12


def test_unknown_keys_are_kept_as_metadata():
    parsed = article("---\nms.date: 09/28/2023\nauthor: someone\n---\n# Title\n\nBody")
    assert parsed.metadata == {"ms.date": "09/28/2023", "author": "someone"}


def test_explicit_id_wins_over_path():
    assert article("---\nid: policies/withdrawal\n---\nBody").id == "policies/withdrawal"


@pytest.mark.parametrize("bad_id", ["../outside", "a/../../b", "with space", "/"])
def test_unsafe_ids_are_refused(bad_id):
    with pytest.raises(ArticleError, match="id"):
        article(f"---\nid: '{bad_id}'\n---\nBody")


def test_title_falls_back_to_first_heading_without_html():
    parsed = article('---\nlang: en\n---\n# <a name="x"></a>Reset the password\n\nText')
    assert parsed.title == "Reset the password"


def test_title_falls_back_to_file_name():
    assert article("Only text.", path="konto/glemt-passord.nb.md").title == "Glemt passord"


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        ("---\nlang: en\n---\nx", "a.md", "en"),
        ("---\nms.contentlocale: nb-NO\n---\nx", "a.md", "nb"),
        ("---\nlocale: en_US\n---\nx", "a.md", "en"),
        ("---\nlanguage: English\n---\nx", "a.md", "en"),
        ("x", "guide.en.md", "en"),
        ("x", "guide.nb.md", "nb"),
        ("x", "guide.md", "nb"),
    ],
)
def test_language_sources_in_order(text, path, expected):
    assert article(text, path=path).lang == expected


def test_default_language_is_configurable():
    assert article("x", path="guide.md", default_lang="en").lang == "en"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("nb-NO", "nb"), ("no", "nb"), ("nn", "nb"), ("en-GB", "en"), ("de", "de"), ("", None), (42, None)],
)
def test_normalize_lang(value, expected):
    assert normalize_lang(value) == expected


def test_unknown_audience_becomes_customer_with_a_warning():
    parsed = article("---\naudience: ITPro\n---\nx")
    assert parsed.audience == "customer"
    assert parsed.warnings == ["audience 'ITPro' is not one of customer, internal; treated as customer"]


def test_broken_yaml_names_file_and_line():
    with pytest.raises(ArticleError) as caught:
        article("---\ntitle: ok\ntags: [a, b\nowner: x\n---\nBody", path="retur/broken.md")
    assert caught.value.path == "retur/broken.md"
    assert caught.value.line == 4
    assert str(caught.value).startswith("retur/broken.md:4: invalid YAML front matter:")


def test_non_utf8_names_the_line():
    with pytest.raises(ArticleError) as caught:
        parse_article(b"---\ntitle: x\n---\nlinje to\n" + b"bl\xe5b\xe6r\n", "latin1.md")
    assert str(caught.value) == "latin1.md:5: not valid UTF-8 (byte 0xe5)"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty.md: empty file"),
        (b"  \n\n", "empty.md: empty file"),
        (b"---\ntitle: x\n---\n\n", "empty.md:4: no content after the front matter"),
        (b"---\ntitle: x\nno end\n", "empty.md:1: front matter opened with '---' is never closed"),
        (b"---\n- a list\n---\nbody", "empty.md:2: front matter must be a mapping of keys to values"),
    ],
)
def test_unusable_files_are_refused(data, message):
    with pytest.raises(ArticleError) as caught:
        parse_article(data, "empty.md")
    assert str(caught.value) == message


def test_bom_and_crlf_are_accepted():
    parsed = parse_article(b"\xef\xbb\xbf---\r\ntitle: Hei\r\n---\r\nTekst\r\n", "crlf.md")
    assert parsed.title == "Hei"
    assert parsed.body == "Tekst\n"


def test_an_impossible_date_is_kept_as_written():
    parsed = article("---\nupdated: 2026-13-01\nreview_by: 2027-02-30\n---\nBody")
    assert (parsed.updated, parsed.review_by) == ("2026-13-01", "2027-02-30")
