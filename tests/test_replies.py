"""Reply templates: the editors' convention, placeholders and fallbacks, and what `kb check` says of them."""

from __future__ import annotations

import pytest

from indexer.errors import ArticleError, QueryError
from indexer.ingest.checks import check_kb
from indexer.kb.articles import parse_article
from indexer.kb.markup import render_article
from indexer.replies.templates import (
    BUILTIN_PLACEHOLDERS,
    Template,
    declarations,
    declared_for,
    fill,
    parse_templates,
    plain_text,
    validate_values,
)

ARTICLE = """---
title: Kansellere en bestilling
lang: nb
placeholders:
  leveringsdato: snart
---

# Kansellere en bestilling

Kunden kan kansellere gratis i Min side så lenge ordren ikke er sendt.

## Svar til kunde

Hei {kundenavn}! Ordren {ordrenummer} er kansellert.

### Telefon

- Ordren er kansellert.
- Pengene kommer tilbake innen **5 virkedager**.

### E-post

Hei {kundenavn},

Ordren {ordrenummer} er kansellert, se [Min side](https://fjordhjem.example/minside).
Den var ventet {leveringsdato}.

Med vennlig hilsen
{agentnavn}

## Reply to customer

### Chat

Hi {customer_name}, order {order_number} is cancelled.

## Hvis ordren er sendt

Da må kunden returnere varen.

```markdown
## Svar til kunde
Not a reply: this is inside a code block.
```
"""


def parsed(text: str = ARTICLE):
    article = parse_article(text.encode(), "ordre/kansellere.md")
    return article, *parse_templates(article.body, article.body_line)


def test_templates_per_language_and_channel_with_their_lines():
    _, templates, warnings = parsed()
    assert warnings == []
    assert [(t.lang, t.channel, t.line) for t in templates] == [
        ("nb", "any", 14), ("nb", "phone", 18), ("nb", "email", 23), ("en", "chat", 35),
    ]
    by_channel = {(t.lang, t.channel): t for t in templates}
    assert by_channel[("nb", "any")].text == "Hei {kundenavn}! Ordren {ordrenummer} er kansellert."
    assert by_channel[("nb", "phone")].text == "- Ordren er kansellert.\n- Pengene kommer tilbake innen 5 virkedager."
    assert by_channel[("nb", "email")].text == (
        "Hei {kundenavn},\n\nOrdren {ordrenummer} er kansellert, se Min side.\nDen var ventet {leveringsdato}.\n\n"
        "Med vennlig hilsen\n{agentnavn}"
    )
    assert by_channel[("nb", "email")].placeholders == ["kundenavn", "ordrenummer", "leveringsdato", "agentnavn"]


def test_reply_sections_are_not_search_passages():
    article, _, _ = parsed()
    sections = render_article(article.body, article.title, article.path).sections
    assert [section.heading_path for section in sections] == [
        ["Kansellere en bestilling"], ["Kansellere en bestilling", "Hvis ordren er sendt"],
    ]
    assert not any("{kundenavn}" in block.text for section in sections for block in section.blocks)


def test_unknown_channel_heading_is_named_with_its_line():
    text = "# T\n\n## Reply to customer\n\n### Fax\n\nHello.\n\n### Chat\n\nHi there, all sorted.\n"
    _, templates, warnings = parsed(text)
    assert warnings == [(5, "reply section has an unknown channel heading 'Fax'; use Telefon/Phone, Chat, "
                            "E-post/Email or Sosiale medier/Social media")]
    assert [(t.lang, t.channel, t.text) for t in templates] == [("en", "chat", "Hi there, all sorted.")]


def test_plain_text_keeps_what_a_customer_reads():
    assert plain_text("* **Viktig:** se [Min side](https://x.example) og `FH-1`\n\n\n\nTakk") == (
        "- Viktig: se Min side og FH-1\n\nTakk"
    )
    assert plain_text("{order_number} and {customer_name}") == "{order_number} and {customer_name}"


DECLARED = {**BUILTIN_PLACEHOLDERS, "ordrenummer": None, "dato": "så snart som mulig"}


@pytest.mark.parametrize(("text", "values", "expected", "missing"), [
    ("Hei {kundenavn}, ordre {ordrenummer}.", {"kundenavn": "Kari", "ordrenummer": "FH-1234567"},
     "Hei Kari, ordre FH-1234567.", []),
    ("Hei {kundenavn}, ordre {ordrenummer}.", {"ordrenummer": "FH-1"}, "Hei, ordre FH-1.", []),
    ("Hei {kundenavn}! Levering {dato}.", {}, "Hei! Levering så snart som mulig.", []),
    ("Hei {kundenavn}, ordre {ordrenummer}.", {"kundenavn": "  "}, "Hei, ordre {ordrenummer}.", ["ordrenummer"]),
    ("Ordre {ordrenummer} og {ukjent}, igjen {ordrenummer}.", {}, "Ordre {ordrenummer} og {ukjent}, igjen "
     "{ordrenummer}.", ["ordrenummer", "ukjent"]),
    ("Navn: {kundenavn}", {"kundenavn": "{ordrenummer}"}, "Navn: {ordrenummer}", []),
    ("Med vennlig hilsen\n{agentnavn}", {}, "Med vennlig hilsen\nKundeservice", []),
])
def test_fill_uses_values_then_fallbacks_and_names_what_is_missing(text, values, expected, missing):
    filled = fill(text, values, DECLARED)
    assert (filled.text, filled.missing, filled.complete) == (expected, missing, not missing)


def test_values_are_bounded_single_lines():
    assert validate_values({"kundenavn": "Kari\nNordmann\x07", "ordrenummer": 1234567}) == {
        "kundenavn": "Kari Nordmann", "ordrenummer": "1234567"}
    with pytest.raises(QueryError, match=r"the value of \{kundenavn\} is longer than 200 characters"):
        validate_values({"kundenavn": "x" * 201})
    with pytest.raises(QueryError, match="values must be an object"):
        validate_values(["kundenavn"])
    with pytest.raises(QueryError, match="values must be an object"):
        validate_values({"kundenavn": {"nested": 1}})


def test_declarations_as_mapping_or_list_and_bad_names_refused():
    assert declarations({"dato": "snart", "ordrenummer": None}, "x.md") == {"dato": "snart", "ordrenummer": None}
    assert declarations(["ordrenummer"], "x.md") == {"ordrenummer": None}
    with pytest.raises(ArticleError, match="placeholder name 'Order Number' must be lower-case"):
        declarations({"Order Number": None}, "x.md")
    with pytest.raises(ArticleError, match="must be a mapping"):
        declarations("ordrenummer", "x.md")
    article, _, _ = parsed()
    declared = declared_for({"dato": None}, article.metadata)
    assert declared["leveringsdato"] == "snart" and declared["dato"] is None and declared["agentnavn"] == "Kundeservice"


def test_template_placeholders_in_order():
    assert Template("nb", "chat", "{a} {b} {a} {c_2}", 1).placeholders == ["a", "b", "c_2"]


def test_kb_check_reports_undeclared_placeholders_at_their_line(tmp_path):
    (tmp_path / "_placeholders.yaml").write_text("ordrenummer: ~\n", encoding="utf-8")
    text = ARTICLE.replace("Den var ventet {leveringsdato}.", "Den var ventet {leveringsdato}, {hentested}.")
    (tmp_path / "kansellere.md").write_text(text, encoding="utf-8")
    (tmp_path / "intern.md").write_text(
        "---\nlang: nb\naudience: internal\n---\n# Intern\n\nTekst.\n\n## Svar til kunde\n\nHei {kundenavn}.\n",
        encoding="utf-8")
    findings = [str(f) for f in check_kb(tmp_path) if "reply" in f.message or "placeholder" in f.message]
    assert findings == [
        "intern.md:11: warning: internal article has a reply template; it is never offered for customers",
        "kansellere.md:26: error: reply template uses undeclared placeholder {hentested}; declare it under "
        "'placeholders:' in the front matter or in _placeholders.yaml",
        "kansellere.md:35: error: reply template uses undeclared placeholder {order_number}; declare it under "
        "'placeholders:' in the front matter or in _placeholders.yaml",
    ]


def test_kb_check_reports_a_broken_placeholders_file(tmp_path):
    (tmp_path / "_placeholders.yaml").write_text("ordrenummer: [\n", encoding="utf-8")
    (tmp_path / "a.md").write_text("---\nlang: nb\n---\n# A\n\nTekst om noe.\n", encoding="utf-8")
    findings = [str(f) for f in check_kb(tmp_path)]
    assert any(f.startswith("_placeholders.yaml:") and ": error: invalid YAML" in f for f in findings), findings
