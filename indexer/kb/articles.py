"""Read one Markdown article: front matter, our schema with real-world fallbacks, and the body."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import ArticleError
from ..text.language import detect_text_language
from ..vocabulary import AUDIENCES
from . import yamlsafe
from .rawhtml import unclosed_block_warning

# How far ahead an article's review date counts as due soon (kb check, the editors' stale list).
REVIEW_SOON_DAYS = 14

# Front matter keys that real help centres use for the article's locale, in order of preference.
LOCALE_KEYS = ("lang", "language", "locale", "ms.contentlocale")

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_FIRST_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_TAG = re.compile(r"<[^>]+>")
_LANG_SUFFIX = re.compile(r"\.(nb|no|nn|en)$", re.IGNORECASE)
_SAFE_ID = re.compile(r"^[\w][\w.\-/]*$", re.UNICODE)

# Five times the largest article in the shared help-centre corpora (206 kB, a table of contents); a 50 MB
# file would otherwise hold every build for minutes.
MAX_ARTICLE_BYTES = 1024 * 1024
# Digits of an ordered list's first number: nobody numbers steps past a billion, and int() refuses a number
# of more than 4,300 digits with an exception.
MAX_LIST_NUMBER_DIGITS = 9
# Block quotes inside block quotes: Python-Markdown recurses once per level.
MAX_QUOTE_DEPTH = 20
_LONG_LIST_NUMBER = re.compile(rf"^[ \t]*(?:>[ \t]*)*(\d{{{MAX_LIST_NUMBER_DIGITS + 1},}})[.)](?=[ \t]|$)",
                               re.MULTILINE)
_DEEP_QUOTE = re.compile(rf"^[ \t]*(?:>[ \t]*){{{MAX_QUOTE_DEPTH + 1}}}", re.MULTILINE)


class _FrontMatterLoader(yamlsafe.BoundedSafeLoader):
    """Safe YAML that keeps dates as the text the editor wrote, so a wrong date is a finding, not a crash."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Article:
    """One parsed article: our schema's fields, every front matter key as metadata, and the Markdown body."""

    id: str
    path: str
    title: str
    lang: str
    body: str
    body_line: int
    content_hash: str
    category: str | None = None
    products: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    audience: str = "customer"
    owner: str | None = None
    updated: str | None = None
    review_by: str | None = None
    metadata: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """The schema fields a search result carries beside the passage."""
        return {
            "category": self.category,
            "products": self.products,
            "tags": self.tags,
            "audience": self.audience,
            "owner": self.owner,
            "updated": self.updated,
            "review_by": self.review_by,
        }


def normalize_lang(value) -> str | None:
    """Map a language or locale tag (`nb-NO`, `no`, `en_US`, `English`) to `nb`, `en` or its primary subtag."""
    if not isinstance(value, str) or not value.strip():
        return None
    tag = value.strip().lower().replace("_", "-")
    primary = tag.split("-")[0]
    if primary in ("nb", "no", "nob", "nor", "nn", "nno") or tag in ("norsk", "bokmål", "bokmal", "norwegian"):
        return "nb"
    if primary in ("en", "eng") or tag == "english":
        return "en"
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def content_hash(data: bytes) -> str:
    """A stable fingerprint of an article's bytes, so unchanged articles are never parsed or embedded again."""
    return hashlib.sha256(data).hexdigest()


def read_article(path: Path, kb_root: Path, default_lang: str = "nb") -> Article:
    """Parse the file at `path` (inside `kb_root`) or raise ArticleError naming the file and line."""
    relpath = path.relative_to(kb_root).as_posix()
    data = path.read_bytes()
    return parse_article(data, relpath, default_lang)


def parse_article(data: bytes, relpath: str, default_lang: str = "nb") -> Article:
    """Parse an article's bytes; `relpath` is its path inside the KB, used for the default id and in errors."""
    if len(data) > MAX_ARTICLE_BYTES:
        raise ArticleError(relpath, f"{len(data):,} bytes; an article may have at most {MAX_ARTICLE_BYTES:,} "
                                    "(split it into several)")
    text = _decode(data, relpath)
    if not text.strip():
        raise ArticleError(relpath, "empty file")
    meta, body, body_line = _split_front_matter(text, relpath)
    if not body.strip():
        raise ArticleError(relpath, "no content after the front matter", line=body_line)

    warnings: list[str] = []
    _check_body(body, relpath, body_line, warnings)
    metadata = {str(key): _json_safe(value) for key, value in meta.items()}
    article_id = _article_id(meta.get("id"), relpath)
    title = _title(meta.get("title"), body, relpath)
    lang = _language(meta, relpath, warnings) or detect_text_language(f"{title}\n{body}") or default_lang
    audience = meta.get("audience")
    if audience not in AUDIENCES:
        if audience is not None:
            warnings.append(f"audience {audience!r} is not one of {', '.join(AUDIENCES)}; treated as customer")
        audience = "customer"

    return Article(
        id=article_id,
        path=relpath,
        title=title,
        lang=lang,
        body=body,
        body_line=body_line,
        content_hash=content_hash(data),
        category=_optional_str(meta.get("category")),
        products=_str_list(meta.get("products")),
        tags=_str_list(meta.get("tags")),
        audience=audience,
        owner=_optional_str(meta.get("owner")),
        updated=_date_str(meta.get("updated")),
        review_by=_date_str(meta.get("review_by")),
        metadata=metadata,
        warnings=warnings,
    )


def _check_body(body: str, relpath: str, body_line: int, warnings: list[str]) -> None:
    """ArticleError for Markdown the parser cannot take within bounds; a warning for raw HTML left open."""
    def line_of(position: int) -> int:
        return body_line + body[:position].count("\n")

    number = _LONG_LIST_NUMBER.search(body)
    if number:
        raise ArticleError(relpath, f"a numbered list starts at a number of {len(number.group(1)):,} digits; "
                                    f"at most {MAX_LIST_NUMBER_DIGITS} are read", line=line_of(number.start(1)))
    quote = _DEEP_QUOTE.search(body)
    if quote:
        raise ArticleError(relpath, f"block quotes nested more than {MAX_QUOTE_DEPTH} levels deep",
                           line=line_of(quote.start()))
    unclosed = unclosed_block_warning(body, body_line)
    if unclosed:
        warnings.append(f"line {unclosed[0]}: {unclosed[1]}")


def _decode(data: bytes, relpath: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ArticleError(relpath, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line=line) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ArticleError(relpath, "contains NUL bytes; is this a binary file?", line=line)
    return text.replace("\r\n", "\n")


def _split_front_matter(text: str, relpath: str) -> tuple[dict, str, int]:
    match = _FRONT_MATTER.match(text)
    if not match:
        if text.startswith("---\n"):
            raise ArticleError(relpath, "front matter opened with '---' is never closed", line=1)
        return {}, text, 1
    raw = match.group(1) or ""
    try:
        meta = yamlsafe.load(raw, _FrontMatterLoader)
    except (ValueError, TypeError) as exc:
        raise ArticleError(relpath, f"invalid YAML front matter: {exc}", line=2) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ArticleError(relpath, f"invalid YAML front matter: {problem}", line=line) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ArticleError(relpath, "front matter must be a mapping of keys to values", line=2)
    body_line = text[: match.end()].count("\n") + 1
    return meta, text[match.end():], body_line


def _article_id(value, relpath: str) -> str:
    if value is None:
        return relpath[:-3] if relpath.lower().endswith(".md") else relpath
    article_id = str(value).strip().strip("/")
    if not _SAFE_ID.match(article_id) or ".." in article_id.split("/"):
        raise ArticleError(relpath, f"id {value!r} may hold only letters, digits, '-', '_', '.' and '/'")
    return article_id


def _title(value, body: str, relpath: str) -> str:
    if isinstance(value, str | int | float) and str(value).strip():
        return str(value).strip()
    match = _FIRST_HEADING.search(body)
    if match:
        heading = _TAG.sub("", match.group(1)).strip()
        if heading:
            return heading
    stem = Path(relpath).name
    stem = _LANG_SUFFIX.sub("", stem[:-3] if stem.lower().endswith(".md") else stem)
    return re.sub(r"[-_]+", " ", stem).strip().capitalize() or relpath


def _language(meta: dict, relpath: str, warnings: list[str]) -> str | None:
    """The language the front matter or the file name declares, if any."""
    for key in LOCALE_KEYS:
        if key in meta:
            lang = normalize_lang(meta[key])
            if lang:
                return lang
            warnings.append(f"{key}: {meta[key]!r} is not a language tag; looking further")
    stem = relpath[:-3] if relpath.lower().endswith(".md") else relpath
    suffix = _LANG_SUFFIX.search(stem)
    if suffix:
        return normalize_lang(suffix.group(1))
    return None


def _optional_str(value) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return str(value).strip()


def _str_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(item).strip() for item in value if item is not None and str(item).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _date_str(value) -> str | None:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return _optional_str(value)


def _json_safe(value):
    """Front matter as JSON can hold it: dates become ISO strings, anything else odd becomes text."""
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
