"""The headings that mark reply sections in an article, which both the Markdown renderer and the reply
templates recognise: the renderer keeps those sections out of search passages, the templates read them.
`scan_lines` finds the headings of a body line by line, outside fenced code, for the templates."""

from __future__ import annotations

import re
from collections.abc import Iterator

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")

REPLY_HEADINGS = {
    "svar til kunde": "nb", "svar til kunden": "nb", "svar til kunder": "nb",
    "reply to customer": "en", "reply to the customer": "en", "reply to customers": "en",
}
CHANNEL_HEADINGS = {
    "telefon": "phone", "phone": "phone", "chat": "chat",
    "e-post": "email", "epost": "email", "email": "email", "e-mail": "email",
    "sosiale medier": "social", "social media": "social", "social": "social",
}


def scan_lines(body: str) -> Iterator[tuple[int, str, tuple[int, str] | None]]:
    """Each line of a Markdown body with its offset and, when it is a heading outside fenced code, its
    (level, text); a `#` line inside a fence is code."""
    fence = ""
    for offset, line in enumerate(body.split("\n")):
        fence_match = _FENCE.match(line)
        if fence_match and (not fence or fence_match.group(1).startswith(fence)):
            fence = "" if fence else fence_match.group(1)[:3]
        heading = None if fence or fence_match else _HEADING.match(line)
        yield offset, line, (len(heading.group(1)), heading.group(2)) if heading else None


def reply_heading_lang(heading: str) -> str | None:
    """The language of a reply section's heading, or None for any other heading."""
    return REPLY_HEADINGS.get(normal_heading(heading))


def channel_heading(heading: str) -> str:
    """The channel a reply subsection's heading names, or "" for a heading that names none."""
    return CHANNEL_HEADINGS.get(normal_heading(heading), "")


def normal_heading(text: str) -> str:
    """A heading as editors mean it: emphasis, code marks and colons dropped, spaces folded, lower case."""
    return re.sub(r"\s+", " ", re.sub(r"[*_`:]", "", text)).strip().lower()
