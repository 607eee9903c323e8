"""One reply for the whole message: one greeting, an answer per need, one closing, for the channel.

Each need is answered from its best result that has a reply in the reply's language: the editors' template
when the article has one, else the extract suggested from it. The greetings and sign-offs of the single
replies are taken off (see replyframe) and one frame is put around all answers. An answer two needs share
is given once. Placeholders are filled with what the message told; a sentence whose placeholder has
neither value nor fallback is left out of the text (the agent sees the field in `template` and can fill it),
so the text never shows a raw `{placeholder}`. On social media the public rules apply (see social).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..replies.frame import body_of, frame
from ..replies.social import GREETING, TO_PRIVATE, public_reply
from ..replies.templates import PLACEHOLDER, fill
from .values import placeholder_values

# Results of a need that may answer it, best first; lower ones are rarely what the customer asked.
ANSWER_RESULTS = 2
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Answer:
    """The reply chosen for one need: its bare text and where it comes from."""

    need: int
    kind: str
    text: str
    source: dict


def choose_answer(need_index: int, results: list[dict], lang: str,
                  extract: Callable[[dict], None] | None = None) -> Answer | None:
    """The reply for a need: the first of its best results with a reply in `lang`; None when none has one.

    `extract(result)` gives a result without replies (an article the editors wrote no template for) its
    extract when it is asked for: only the results a reply may come from are worth one.
    """
    for result in results[:ANSWER_RESULTS]:
        if result.get("metadata", {}).get("audience") == "internal":
            continue
        if extract is not None and not result.get("replies") and result.get("lang") == lang:
            extract(result)
        reply = next((reply for reply in result.get("replies", []) if reply["lang"] == lang), None)
        if reply is not None:
            body = reply["text"] if reply["channel"] == "social" else body_of(reply["text"])
            if body:
                return Answer(need_index, reply["kind"], body, reply["source"])
    return None


def compose_reply(answers: list[Answer], lang: str, channel: str, values: dict, declared: dict) -> dict:
    """The combined reply: `text` ready to send, `template` with its fields, `placeholders`, `sources`."""
    unique: list[Answer] = []
    for answer in answers:
        if all(answer.text != kept.text and answer.source.get("article_id") != kept.source.get("article_id")
               for kept in unique):
            unique.append(answer)
    if channel == "social":
        template = public_reply([_bare_social(answer.text, lang) for answer in unique], lang)
        filled_values: dict[str, str] = {}
    else:
        template = frame("\n\n".join(answer.text for answer in unique), lang, channel)
        filled_values = placeholder_values(values)
    names = list(dict.fromkeys(PLACEHOLDER.findall(template)))
    fields = [{"name": name, "fallback": declared.get(name), "value": filled_values.get(name)} for name in names]
    missing = [name for name in names if not filled_values.get(name) and declared.get(name) is None]
    text = fill(_without_sentences_using(template, missing), filled_values, declared).text
    return {
        "text": text, "template": template, "lang": lang, "channel": channel, "placeholders": fields,
        "sources": [{**answer.source, "need": answer.need, "kind": answer.kind} for answer in unique],
    }


def _bare_social(text: str, lang: str) -> str:
    """A social reply's answer sentences, without the greeting and the move to private messages."""
    for fixed in (GREETING.get(lang, ""), TO_PRIVATE.get(lang, "")):
        text = text.replace(fixed, "")
    return text.strip()


def _without_sentences_using(text: str, names: list[str]) -> str:
    """`text` without the sentences (or list items) that use one of `names`."""
    if not names:
        return text
    marks = tuple("{" + name + "}" for name in names)
    lines = []
    for line in text.split("\n"):
        if not any(mark in line for mark in marks):
            lines.append(line)
            continue
        prefix = re.match(r"^\s*(?:[-*+]\s+)?", line).group(0)
        kept = [s for s in _SENTENCE_END.split(line[len(prefix):]) if not any(mark in s for mark in marks)]
        if kept:
            lines.append(prefix + " ".join(kept))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
