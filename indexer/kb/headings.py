"""The headings that mark reply sections in an article, which both the Markdown renderer and the reply
templates recognise: the renderer keeps those sections out of search passages, the templates read them."""

from __future__ import annotations

import re

REPLY_HEADINGS = {
    "svar til kunde": "nb", "svar til kunden": "nb", "svar til kunder": "nb",
    "reply to customer": "en", "reply to the customer": "en", "reply to customers": "en",
}
CHANNEL_HEADINGS = {
    "telefon": "phone", "phone": "phone", "chat": "chat",
    "e-post": "email", "epost": "email", "email": "email", "e-mail": "email",
    "sosiale medier": "social", "social media": "social", "social": "social",
}


def reply_heading_lang(heading: str) -> str | None:
    """The language of a reply section's heading, or None for any other heading."""
    return REPLY_HEADINGS.get(normal_heading(heading))


def channel_heading(heading: str) -> str:
    """The channel a reply subsection's heading names, or "" for a heading that names none."""
    return CHANNEL_HEADINGS.get(normal_heading(heading), "")


def normal_heading(text: str) -> str:
    """A heading as editors mean it: emphasis, code marks and colons dropped, spaces folded, lower case."""
    return re.sub(r"\s+", " ", re.sub(r"[*_`:]", "", text)).strip().lower()
