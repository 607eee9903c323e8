"""Markdown to clean text and sanitized HTML: headings, anchors, tables, lists, links, hostile HTML."""

from __future__ import annotations

from indexer.kb.markup import render_article, slugify

BODY = """# <a name="reset"></a>Reset &amp; *unlock*

Intro with a [link](../retur/angrerett.md#frist), an [outside](../../etc/passwd.md) one and ![a photo](x.png).

## Steps æøå

1. Open **Min side**.
2. Choose *Profil*.

### Prices

| Service | Price |
|---|---|
| Wall mount | 1,290 kr |

```bash
kb index --strict
```

## Steps æøå

<div onclick="steal()">Raw <b>html</b><script>alert(1)</script></div>

[bad](javascript:alert(1)) and [site](https://example.org/help)
"""


def rendered():
    return render_article(BODY, "Reset & unlock", "konto/reset.md")


def test_heading_path_and_anchors():
    sections = rendered().sections
    assert [(s.heading_path, s.anchor) for s in sections] == [
        (["Reset & unlock"], "reset"),
        (["Reset & unlock", "Steps æøå"], "steps-æøå"),
        (["Reset & unlock", "Steps æøå", "Prices"], "prices"),
        (["Reset & unlock", "Steps æøå"], "steps-æøå-2"),
    ]


def test_an_opening_heading_that_says_more_than_the_title_heads_every_section():
    body = ("# <a name=\"slow\"></a>SharePoint-overføringen går sakte\n\nNettverket avgjør.\n\n"
            "## Hva du kan gjøre\n\nDel opp.\n")
    title = "Hvorfor kan jeg ikke redigere denne filen?"
    sections = render_article(body, title, "slow.md").sections
    assert [(s.heading_path, s.anchor) for s in sections] == [
        ([title, "SharePoint-overføringen går sakte"], "slow"),
        ([title, "SharePoint-overføringen går sakte", "Hva du kan gjøre"], "hva-du-kan-gjøre"),
    ]
    # One that only restates the title, in other case or punctuation, adds nothing.
    restated = render_article("# Outlook mobilappen\n\nVelg Kom i gang.\n", "1800014 Outlook-mobilappen", "o.md")
    assert [s.heading_path for s in restated.sections] == [["1800014 Outlook-mobilappen"]]


def test_clean_text_of_blocks():
    sections = rendered().sections
    assert sections[0].blocks[0].text == "Intro with a link, an outside one and a photo."
    steps = sections[1].blocks[0]
    assert steps.kind == "list"
    assert steps.items == ["1. Open Min side.", "2. Choose Profil."]
    table = sections[2].blocks[0]
    assert (table.kind, table.lead, table.items) == ("table", "Service | Price", ["Wall mount | 1,290 kr"])
    assert sections[2].blocks[1].text == "kb index --strict"
    assert sections[3].blocks[0].text == "Raw html"


def test_html_is_sanitized():
    html = rendered().html
    for forbidden in ("<script", "onclick", "javascript:", "<img", "alert(1)</script>"):
        assert forbidden not in html
    assert '<h1 id="reset">' in html
    assert '<h2 id="steps-æøå">' in html
    assert '<a href="https://example.org/help" rel="noopener noreferrer">site</a>' in html


def test_links_inside_the_kb_point_to_article_pages_and_others_lose_their_target():
    html = rendered().html
    assert 'href="/articles/retur/angrerett#frist"' in html
    assert "passwd" not in html


def test_docfx_includes_and_alerts_are_cleaned():
    body = "# T\n\n[!INCLUDE [x](includes/x.md)]\n\n> [!NOTE]\n> Keep the receipt.\n"
    sections = render_article(body, "T", "a.md").sections
    assert [b.text for s in sections for b in s.blocks] == ["NOTE:\nKeep the receipt."]


def test_slugify_keeps_norwegian_letters():
    assert slugify("Hvor lenge gjelder åpent kjøp?") == "hvor-lenge-gjelder-åpent-kjøp"
    assert slugify("!!!") == "section"
