"""Reply templates that editors write inside articles, their placeholders, and how a template is filled.

The convention (documented for editors in kb/README.md): a section headed `Svar til kunde` (bokmål) or
`Reply to customer` (English) holds the reply an agent may send as it is. Subsections headed `Telefon` /
`Phone`, `Chat`, `E-post` / `Email` and `Sosiale medier` / `Social media` give a variant per channel; text
directly under the section serves every channel that has no variant of its own. Placeholders are lower-case
names in braces, `{kundenavn}`, declared with an optional fallback in `kb/_placeholders.yaml` or in the
article's front matter under `placeholders:`. These sections are replies, not knowledge: they are not search passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ArticleError, QueryError
from ..kb import rawhtml
from ..kb.files import read_kb_yaml
from ..kb.headings import channel_heading, reply_heading_lang, scan_lines

# A template written for no channel in particular; it serves each channel without a variant of its own.
ANY_CHANNEL = "any"
PLACEHOLDERS_FILE = "_placeholders.yaml"
PLACEHOLDER = re.compile(r"\{([a-zæøå][a-zæøå0-9_]{0,39})\}")
MAX_VALUE_CHARS = 200
MAX_DECLARATIONS = 1000

# The placeholders that suggested replies use in their greeting and sign-off; the KB may override them.
BUILTIN_PLACEHOLDERS: dict[str, str | None] = {
    "kundenavn": "", "customer_name": "",
    "agentnavn": "Kundeservice", "agent_name": "Customer Service",
}

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_STRONG = re.compile(r"(\*\*|__)(\S(?:.*?\S)?)\1")
_EMPHASIS = re.compile(r"(?<![\w*])\*(\S(?:[^*]*?\S)?)\*(?![\w*])")
_CODE = re.compile(r"`([^`]+)`")
_BULLET = re.compile(r"^(\s*)[*+][ \t]+", re.MULTILINE)
# Marks where an empty fallback went, so only the space around it is tidied, never the editor's own text.
_EMPTY = "\x00"
_EMPTY_BEFORE_PUNCTUATION = re.compile(r"[ \t]*\x00[ \t]*([,.!?;:])")
_EMPTY_BETWEEN_SPACES = re.compile(r"[ \t]+\x00[ \t]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Template:
    """One reply as the editor wrote it: language, channel, plain text with placeholders, source line."""

    lang: str
    channel: str
    text: str
    line: int

    @property
    def placeholders(self) -> list[str]:
        """Placeholder names in order of first use."""
        return list(dict.fromkeys(PLACEHOLDER.findall(self.text)))


@dataclass(frozen=True)
class Filled:
    """A template with values put in; `missing` names placeholders that have neither value nor fallback."""

    text: str
    missing: list[str]

    @property
    def complete(self) -> bool:
        """True when nothing in braces is left for the agent to fill."""
        return not self.missing


def parse_templates(body: str, body_line: int = 1) -> tuple[list[Template], list[tuple[int, str]]]:
    """The templates in an article body, and (line, message) warnings for what could not be read."""
    templates: list[Template] = []
    warnings: list[tuple[int, str]] = []
    parts: dict[tuple[str, str], tuple[int, list[str]]] = {}
    reply_level, lang, channel = 0, "", ANY_CHANNEL
    for offset, line, heading in scan_lines(body):
        number = body_line + offset
        if heading:
            level, text = heading
            if reply_level and level <= reply_level:
                reply_level = 0
            if not reply_level:
                found = reply_heading_lang(text)
                if found:
                    reply_level, lang, channel = level, found, ANY_CHANNEL
                continue
            channel = channel_heading(text)
            if not channel:
                warnings.append((number, f"reply section has an unknown channel heading {text.strip()!r}; "
                                         "use Telefon/Phone, Chat, E-post/Email or Sosiale medier/Social media"))
            continue
        if reply_level and channel and (line.strip() or (lang, channel) in parts):
            parts.setdefault((lang, channel), (number, []))[1].append(line)
    for (lang, channel), (line, lines) in parts.items():
        text = plain_text("\n".join(lines))
        if text:
            templates.append(Template(lang=lang, channel=channel, text=text, line=line))
    return templates, warnings


def plain_text(markdown_text: str) -> str:
    """What an agent pastes: HTML (scripts and styles with their content), Markdown emphasis, code marks and
    link targets removed, bullets as '-'."""
    text = _LINK.sub(r"\1", rawhtml.plain(markdown_text))
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = _BULLET.sub(r"\1- ", text)
    lines = [line.rstrip() for line in text.split("\n")]
    cleaned: list[str] = []
    for line in lines:
        if not line and (not cleaned or not cleaned[-1]):
            continue
        cleaned.append(line)
    return "\n".join(cleaned).strip()


def declarations(raw, where: str) -> dict[str, str | None]:
    """Placeholder names with their fallback (None: the agent must fill it) from YAML data.

    Accepts a mapping `{name: fallback}` (an empty value or `~` means no fallback) or a list of names.
    """
    if raw is None:
        return {}
    if isinstance(raw, list):
        raw = {item: None for item in raw}
    if not isinstance(raw, dict):
        raise ArticleError(where, "placeholders must be a mapping of name to fallback text, or a list of names")
    if len(raw) > MAX_DECLARATIONS:
        raise ArticleError(where, f"more than {MAX_DECLARATIONS} placeholders declared")
    declared: dict[str, str | None] = {}
    for name, fallback in raw.items():
        name = str(name).strip().strip("{}")
        if not PLACEHOLDER.fullmatch("{" + name + "}"):
            raise ArticleError(where, f"placeholder name {name!r} must be lower-case letters, digits and '_'")
        if fallback is not None and not isinstance(fallback, str | int | float):
            raise ArticleError(where, f"the fallback of placeholder {name!r} must be text")
        declared[name] = None if fallback is None else _clean_value(str(fallback))
    return declared


def load_kb_declarations(kb_dir: Path) -> dict[str, str | None]:
    """The KB-wide placeholders in `_placeholders.yaml`, or none; ArticleError names a broken file."""
    data = read_kb_yaml(kb_dir, PLACEHOLDERS_FILE)
    return declarations(data, PLACEHOLDERS_FILE)


def declared_for(kb_declared: dict[str, str | None], article_metadata: dict) -> dict[str, str | None]:
    """What one article may use: built-in, then KB-wide, then the article's own declarations."""
    try:
        own = declarations(article_metadata.get("placeholders"), "front matter")
    except ArticleError:
        own = {}
    return {**BUILTIN_PLACEHOLDERS, **kb_declared, **own}


def undeclared(template: Template, declared: dict[str, str | None]) -> list[str]:
    """Placeholders a template uses that nobody declared."""
    return [name for name in template.placeholders if name not in declared]


def check_templates(
    body: str, body_line: int, metadata: dict, kb_declared: dict[str, str | None]
) -> tuple[list[Template], list[tuple[int, str, str]]]:
    """An article's templates, and what an editor must fix in them as (line, level, message): channel
    headings that cannot be read (warnings) and placeholders nobody declared (errors, at the line using them).

    The indexer and `kb check` both report from this, so an editor reads the same words in both.
    """
    templates, headings = parse_templates(body, body_line)
    problems = [(line, "warning", message) for line, message in headings]
    declared = declared_for(kb_declared, metadata)
    lines = body.split("\n")
    for template in templates:
        for name in undeclared(template, declared):
            used_at = next((number for number in range(template.line, body_line + len(lines))
                            if "{" + name + "}" in lines[number - body_line]), template.line)
            problems.append((used_at, "error",
                             f"reply template uses undeclared placeholder {{{name}}}; declare it under "
                             f"'placeholders:' in the front matter or in {PLACEHOLDERS_FILE}"))
    return templates, problems


def placeholder_fields(text: str, declared: dict[str, str | None]) -> list[dict]:
    """The fields an agent sees for a reply: name and fallback (None when the field must be filled)."""
    return [{"name": name, "fallback": declared.get(name)} for name in dict.fromkeys(PLACEHOLDER.findall(text))]


def validate_values(values) -> dict[str, str]:
    """Placeholder values from a client: a mapping of short texts, or QueryError saying what is wrong."""
    if values is None:
        return {}
    if not isinstance(values, dict) or len(values) > MAX_DECLARATIONS:
        raise QueryError("values must be an object of placeholder names and texts")
    cleaned = {}
    for name, value in values.items():
        if not isinstance(name, str) or not isinstance(value, str | int | float) or isinstance(value, bool):
            raise QueryError("values must be an object of placeholder names and texts")
        if len(str(value)) > MAX_VALUE_CHARS:
            raise QueryError(f"the value of {{{name}}} is longer than {MAX_VALUE_CHARS} characters")
        cleaned[name] = _clean_value(str(value))
    return cleaned


def fill(text: str, values: dict[str, str], declared: dict[str, str | None]) -> Filled:
    """Put values into a template: a value typed, else the declared fallback, else the name is missing.

    The text is never half-filled silently: every placeholder left without value or fallback is named
    in `missing`, and the caller must not offer such a text for copying. A fallback that is empty
    leaves no stray space before punctuation ("Hei {kundenavn}," becomes "Hei,").
    """
    missing: list[str] = []

    def replace(match: re.Match) -> str:
        name = match.group(1)
        value = values.get(name, "").strip() or declared.get(name)
        if value is None:
            if name not in missing:
                missing.append(name)
            return match.group(0)
        return value or _EMPTY

    filled = PLACEHOLDER.sub(replace, text)
    filled = _EMPTY_BEFORE_PUNCTUATION.sub(r"\1", filled)
    filled = _EMPTY_BETWEEN_SPACES.sub(" ", filled).replace(_EMPTY, "")
    return Filled(text=filled, missing=missing)


def _clean_value(value: str) -> str:
    """One line of text: control characters and line breaks become spaces."""
    return _CONTROL.sub(" ", value).strip()
