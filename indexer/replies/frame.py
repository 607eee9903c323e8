"""The frame of a reply: the greeting that opens it and the closing that ends it, in each language.

Editors write each template as a whole reply, greeting and sign-off included. When one reply answers
several questions, those frames are taken off each answer and one greeting and one closing are put
around them all (see assist.compose); a social-media reply is built from the bare answer too.
"""

from __future__ import annotations

import re

from ..vocabulary import LANGUAGES

# One greeting and one closing per language and channel; {body} is the answers, one paragraph each.
FRAMES = {
    ("nb", "chat"): "Hei {kundenavn}!\n\n{body}\n\nEr det noe mer jeg kan hjelpe deg med?",
    ("nb", "email"): "Hei {kundenavn},\n\n{body}\n\nTa gjerne kontakt om du har flere spørsmål.\n\n"
                     "Med vennlig hilsen\n{agentnavn}",
    ("nb", "phone"): "- Hei {kundenavn}, takk for at du ringer.\n\n{body}\n\n- Er det noe mer jeg kan hjelpe deg med?",
    ("en", "chat"): "Hi {customer_name}!\n\n{body}\n\nIs there anything else I can help you with?",
    ("en", "email"): "Hi {customer_name},\n\n{body}\n\nDo get in touch if you have any further questions.\n\n"
                     "Kind regards\n{agent_name}",
    ("en", "phone"): "- Hi {customer_name}, thank you for calling.\n\n{body}\n\n"
                     "- Is there anything else I can help you with?",
}

_GREETING_LINE = re.compile(
    r"^\s*(hei|hallo|heisann|kjære|god dag|hi|hello|hey|dear|good (morning|afternoon|evening))\b[^\n]{0,40}[,!.]?\s*$",
    re.IGNORECASE,
)
_GREETING_PREFIX = re.compile(r"^\s*(hei|hallo|hi|hello)( \{[a-z_]+\})?[!,.]\s+", re.IGNORECASE)
_SIGN_OFF = re.compile(
    r"^\s*(med vennlig hilsen|vennlig hilsen|mvh|hilsen|beste hilsen|kind regards|best regards|regards|"
    r"best wishes|yours sincerely)\b",
    re.IGNORECASE,
)
_CLOSING_SENTENCE = re.compile(
    r"\s*(er det noe (mer|annet) (jeg|vi) kan hjelpe (deg )?med\??|ta gjerne kontakt[^.!?]*[.!?]|"
    r"si fra om det er noe mer[^.!?]*[.!?]|"
    r"is there anything else (i|we) can help (you )?with\??|(do )?get in touch if[^.!?]*[.!?]|"
    r"let (me|us) know if[^.!?]*[.!?])\s*$",
    re.IGNORECASE,
)


def body_of(text: str) -> str:
    """A reply without its greeting, its sign-off and its closing question: only what answers."""
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", text.strip()) if part.strip()]
    if paragraphs and _GREETING_LINE.match(paragraphs[0]):
        paragraphs.pop(0)
    elif paragraphs:
        paragraphs[0] = _GREETING_PREFIX.sub("", paragraphs[0], count=1)
    sign_off = next((index for index, part in enumerate(paragraphs) if _SIGN_OFF.match(part)), None)
    if sign_off is not None:
        paragraphs = paragraphs[:sign_off]
    while paragraphs:
        trimmed = _strip_closing(paragraphs[-1])
        if trimmed:
            paragraphs[-1] = trimmed
            break
        paragraphs.pop()
    return "\n\n".join(paragraphs)


def _strip_closing(paragraph: str) -> str:
    """A paragraph without the closing sentences at its end (a list item keeps its marker)."""
    lines = paragraph.split("\n")
    while lines:
        kept = _CLOSING_SENTENCE.sub("", lines[-1]).rstrip()
        if kept.strip() in ("", "-"):
            lines.pop()
            continue
        lines[-1] = kept
        break
    return "\n".join(lines).strip()


def frame(body: str, lang: str, channel: str) -> str:
    """The answers in one greeting and one closing for the channel, in `lang` (English when unknown)."""
    template = FRAMES.get((lang if lang in LANGUAGES else "en", channel))
    return template.replace("{body}", body) if template else body
