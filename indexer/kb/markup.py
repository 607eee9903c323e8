"""Turn an article's Markdown into sections of clean text (for embedding) and sanitized HTML (for display)."""

from __future__ import annotations

import html
import posixpath
import re
import unicodedata
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from ..errors import ArticleError
from .headings import reply_heading_lang
from .rawhtml import drop_scripts

# Where the web app serves articles; relative `.md` links inside the KB are rewritten to point there.
ARTICLE_ROUTE = "/articles/"

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "kbd", "li", "mark", "ol", "p", "pre", "s", "span", "strong", "sub",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "title"},
    "a": {"href"},
    "code": {"class"},
    "ol": {"start"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan"},
}
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}

_PLACEHOLDER = re.compile("\x02wzxhzdk:(\\d+)\x03")
_TAG = re.compile(r"<[^>]+>")
_ANCHOR_IN_HTML = re.compile(r"""<a\s[^>]*(?:name|id)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
# docfx/Learn syntax that real help centres use and that means nothing outside their site.
_DOCFX_LINE = re.compile(r"^\s*(\[!INCLUDE\s*\[.*|:::.*|\[!div\b.*)$", re.MULTILINE | re.IGNORECASE)
_DOCFX_ALERT = re.compile(r"^(\s*>\s*)\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*$", re.MULTILINE | re.IGNORECASE)
_SPACE = re.compile(r"[ \t\r\f\v]+")
_WORD = re.compile(r"\w+")


@dataclass
class Block:
    """One block of a section: a paragraph, a list or table (items kept apart so they can be split), or code."""

    kind: str
    text: str
    items: list[str] = field(default_factory=list)
    lead: str = ""


@dataclass
class Section:
    """The text under one heading, with the heading path from the article title down and its anchor."""

    heading_path: list[str]
    anchor: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Rendered:
    """What display and embedding need from one article."""

    html: str
    sections: list[Section]


def slugify(text: str) -> str:
    """A readable anchor that keeps letters such as æ, ø and å."""
    text = unicodedata.normalize("NFKC", text).lower()
    slug = re.sub(r"[^\w]+", "-", text, flags=re.UNICODE).strip("-_")
    return slug or "section"


def _restates(heading: str, title: str) -> bool:
    """Whether a heading only repeats the title, with no word the title lacks.

    "Konfigurere e-post i Outlook mobilappen" under "1800014 Konfigurere e-post i Outlook-mobilappen" does;
    "SharePoint Overføringen går sakte" under "Hvorfor kan jeg ikke redigere denne filen?" does not.
    """
    return set(_WORD.findall(heading.casefold())) <= set(_WORD.findall(title.casefold()))


def render_article(body: str, title: str, article_path: str) -> Rendered:
    """Parse the Markdown body once; return sanitized HTML and the sections with clean text."""
    collector = _TreeCollector(article_path)
    md = markdown.Markdown(
        extensions=["tables", "fenced_code", "sane_lists", _CollectorExtension(collector)],
        output_format="html",
    )
    try:
        raw_html = md.convert(drop_scripts(_strip_docfx(body)))
        sections = collector.sections(md, title)
    except RecursionError:
        raise ArticleError(article_path, "nested too deeply to read (lists or HTML inside each other)") from None
    clean_html = nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )
    return Rendered(html=clean_html, sections=sections)


def _strip_docfx(body: str) -> str:
    body = _DOCFX_LINE.sub("", body)
    return _DOCFX_ALERT.sub(r"\1**\2:**", body)


class _CollectorExtension(Extension):
    def __init__(self, collector: _TreeCollector):
        super().__init__()
        self.collector = collector

    def extendMarkdown(self, md):  # noqa: N802 - name fixed by the markdown API
        self.collector.md = md
        # After 'unescape' (priority 0): inline Markdown is resolved, only raw-HTML placeholders remain.
        md.treeprocessors.register(self.collector, "kb_collector", -10)


class _TreeCollector(Treeprocessor):
    """Sets heading ids, rewrites links and images, and keeps the tree for section extraction."""

    def __init__(self, article_path: str):
        super().__init__()
        self.article_path = article_path
        self.root: etree.Element | None = None
        self.used_anchors: set[str] = set()

    def run(self, root):
        self.root = root
        for element in root.iter():
            if element.tag in HEADINGS:
                element.set("id", self._anchor_for(element))
            elif element.tag == "a":
                self._rewrite_link(element)
        self._replace_images(root)
        return None

    def _text(self, element: etree.Element) -> str:
        return _clean(_element_text(element, self.md))

    def _anchor_for(self, heading: etree.Element) -> str:
        explicit = _ANCHOR_IN_HTML.search(_raw_html_of(heading, self.md))
        base = explicit.group(1) if explicit else slugify(self._text(heading))
        anchor, n = base, 2
        while anchor in self.used_anchors:
            anchor, n = f"{base}-{n}", n + 1
        self.used_anchors.add(anchor)
        return anchor

    def _rewrite_link(self, link: etree.Element) -> None:
        href = (link.get("href") or "").strip()
        if not href or re.match(r"^[a-z][a-z0-9+.-]*:", href, re.IGNORECASE) or href.startswith(("#", "//")):
            return
        target, _, fragment = href.partition("#")
        target = target.split("?", 1)[0]
        if target.startswith("/") or target.startswith("~"):
            link.attrib.pop("href", None)
            return
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(self.article_path), target))
        if resolved.startswith("../") or resolved == "..":
            # A link out of the KB folder has nowhere to go on our site.
            link.attrib.pop("href", None)
            return
        if resolved.lower().endswith(".md"):
            resolved = resolved[:-3]
        link.set("href", ARTICLE_ROUTE + resolved + (f"#{fragment}" if fragment else ""))

    def _replace_images(self, root: etree.Element) -> None:
        for parent in root.iter():
            for index, child in enumerate(list(parent)):
                if child.tag == "img":
                    span = etree.Element("span")
                    span.text = child.get("alt") or ""
                    span.tail = child.tail
                    parent.remove(child)
                    parent.insert(index, span)

    def sections(self, md: markdown.Markdown, title: str) -> list[Section]:
        """Walk the top-level blocks; headings open sections, everything else fills them."""
        self.md = md
        sections: list[Section] = [Section(heading_path=[title], anchor="")]
        stack: list[tuple[int, str]] = []
        # Level of the reply section being skipped: replies are sent to customers, not searched (see replies).
        reply_level = 0
        if self.root is None:
            return []
        for element in self.root:
            if element.tag in HEADINGS:
                level = HEADINGS[element.tag]
                text = self._text(element)
                if reply_level and level > reply_level:
                    continue
                reply_level = level if reply_heading_lang(text) else 0
                if reply_level:
                    continue
                leading = not stack and len(sections) == 1 and not sections[0].blocks
                if level == 1 and (text == title or leading):
                    sections[0].anchor = sections[0].anchor or element.get("id", "")
                    stack = []
                    if leading and not _restates(text, title):
                        # The article's own heading says more than its title: it heads every section.
                        stack = [(level, text)]
                        sections[0].heading_path = [title, text]
                    continue
                while stack and stack[-1][0] >= level:
                    stack.pop()
                stack.append((level, text))
                sections.append(Section([title] + [t for _, t in stack], element.get("id", "")))
                continue
            if reply_level:
                continue
            block = self._block(element)
            if block is not None and (block.text or block.items):
                sections[-1].blocks.append(block)
        return [section for section in sections if section.blocks]

    def _block(self, element: etree.Element) -> Block | None:
        tag = element.tag
        if tag in ("ul", "ol"):
            start = int(element.get("start", "1") or 1) if tag == "ol" else 0
            items = []
            for n, item in enumerate(element.findall("li")):
                marker = f"{start + n}." if tag == "ol" else "-"
                text = self._text(item)
                if text:
                    items.append(f"{marker} {text}")
            return Block("list", "\n".join(items), items=items)
        if tag == "table":
            rows = []
            for row in element.iter("tr"):
                cells = [self._text(cell) for cell in row if cell.tag in ("td", "th")]
                if any(cells):
                    rows.append(" | ".join(cells))
            if not rows:
                return None
            return Block("table", "\n".join(rows), items=rows[1:], lead=rows[0])
        if tag == "pre":
            code = html.unescape(_PLACEHOLDER.sub("", "".join(element.itertext()))).strip()
            return Block("code", code, items=[line for line in code.splitlines() if line.strip()])
        if tag == "hr":
            return None
        return Block("text", self._text(element))


def _element_text(element: etree.Element, md: markdown.Markdown) -> str:
    parts = [element.text or ""]
    for child in element:
        if child.tag == "br":
            parts.append("\n")
        elif child.tag in ("p", "li", "ul", "ol", "div", "blockquote", "tr", "pre"):
            parts.append(" ")
        parts.append(_element_text(child, md))
        if child.tag in ("td", "th"):
            parts.append(" ")
        parts.append(child.tail or "")
    return _resolve_placeholders("".join(parts), md)


def _raw_html_of(element: etree.Element, md: markdown.Markdown) -> str:
    text = "".join(element.itertext())
    return "".join(
        str(md.htmlStash.rawHtmlBlocks[int(n)])
        for n in _PLACEHOLDER.findall(text)
        if int(n) < len(md.htmlStash.rawHtmlBlocks)
    )


def _resolve_placeholders(text: str, md: markdown.Markdown) -> str:
    blocks = md.htmlStash.rawHtmlBlocks

    def replace(match: re.Match) -> str:
        index = int(match.group(1))
        raw = str(blocks[index]) if index < len(blocks) else ""
        # nh3 with no allowed tags keeps the text but drops script and style contents.
        return html.unescape(nh3.clean(raw, tags=set()))

    return _PLACEHOLDER.sub(replace, text)


def _clean(text: str) -> str:
    lines = [_SPACE.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)
