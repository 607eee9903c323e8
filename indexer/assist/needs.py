"""Split the customer's own words into needs: each question or request with the sentences that lead up to it.

"Jeg bestilte en KM-700 for to uker siden. Den har ikke kommet. Hvor er den?" is one need: the first two
sentences only give its background. A need is a sentence that asks (a question mark, a question word first,
"kan dere ...", "I'd like to ...") or requests; sentences that only tell are attached to the need after
them, or to the one before when none follows. A short follow-up that adds no topic of its own ("Og når kommer
den?", "Why?") belongs to the question before it. A message that asks nothing in so many words ("Varen kom
knust.") is one need as a whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_NORWEGIAN

from ..text.lexical import Analyzer

# Abbreviations whose full stop does not end a sentence.
_ABBREVIATIONS = (
    "f.eks", "bl.a", "ca", "nr", "kl", "osv", "dvs", "evt", "ev", "mht", "inkl", "ekskl", "tlf", "jf", "pr",
    "e.g", "i.e", "etc", "approx", "no", "vs", "mr", "mrs", "ms", "dr", "st", "tel",
)
_ABBREVIATION = re.compile(r"\b(" + "|".join(re.escape(a) for a in _ABBREVIATIONS) + r")\.$", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"»”')\]]*\s+")
_QUESTION_WORDS = (
    r"hva|hvor|hvordan|hvorfor|når|hvem|hvilken|hvilket|hvilke|kan|kunne|vil|skal|må|får|går|er|har|gjelder"
    r"|stemmer|finnes|trenger|bør|what|where|how|why|when|who|which|whose|can|could|would|will|shall|should"
    r"|do|does|did|is|are|am|was|were|may|might|has|have|any"
)
# A question word first (after "og", "and", "so", "also" ...), not "kan ikke"/"can't": that tells a problem.
_QUESTION_START = re.compile(
    r"^(?:(?:og|men|også|så|and|but|also|so|ok|okay|oh|then|uh|um+|umm)[, ]+)*(?:" + _QUESTION_WORDS + r")\b"
    r"(?!\s+(?:ikke|not)\b)(?!n't)",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(jeg (vil|ønsker|trenger|lurer|skulle|må|kan ikke|får ikke|klarer ikke|vet ikke)|vi (vil|ønsker|trenger|lurer)"
    r"|vennligst|gi (meg|oss) beskjed|send (meg|oss)|hjelp (meg|oss)|ønsker å|vil gjerne|skulle gjerne|ber om"
    r"|i (would like|'d like|want|need|wonder|was wondering|am wondering|'m wondering|can't|cannot|can not"
    r"|don't know|do not know)|we (would like|'d like|want|need)|please|let me know|tell me|help me"
    r"|i'm trying to|i am trying to|how to|is it possible|er det mulig)\b",
    re.IGNORECASE,
)
# Words that ask about something already named ("when will it come", "hvor lang tid tar det", "what do I need
# to send you") without a topic of their own; a follow-up made only of these and stopwords belongs to the
# question before.
_FOLLOW_UP_WORDS = frozenset(STOPWORDS_EN_PLUS) | frozenset(STOPWORDS_NORWEGIAN) | frozenset({
    "kommer", "komme", "skjer", "skje", "tar", "ta", "lang", "lenge", "tid", "koster", "kost", "mye", "gjør",
    "gjøre", "går", "gå", "fått", "får", "få", "dit", "ellers",
    "also", "come", "comes", "coming", "happen", "happens", "happening", "take", "takes", "long", "much",
    "many", "cost", "costs", "else", "really", "sure", "trenger", "sende", "sendt", "borte", "ferdig", "gjort",
    "snart", "need", "needed", "send", "sent", "gone", "done", "soon",
})
MIN_NEED_WORDS = 2
# A pasted message is read for at most this many needs; the rest joins the last one (bounded work).
MAX_NEEDS = 6


@dataclass
class Need:
    """One question or request as the customer wrote it, with the background sentences before it."""

    text: str
    question: str
    background: list[str]


def sentences(text: str) -> list[str]:
    """The sentences of a message; every line is one at least (chat messages often end without a stop)."""
    found = []
    for line in text.split("\n"):
        line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", line).strip()
        if not line:
            continue
        pending = ""
        for piece in _SENTENCE_BREAK.split(line):
            pending = f"{pending} {piece}".strip() if pending else piece.strip()
            if not pending:
                continue
            if _ABBREVIATION.search(pending) or re.search(r"\d\.$", pending) and not pending.endswith(".."):
                continue  # "ca. 3 dager", "3. november": the full stop is not the end
            found.append(pending)
            pending = ""
        if pending:
            found.append(pending)
    return found


def asks(sentence: str) -> bool:
    """Whether a sentence asks or requests something, as opposed to giving background."""
    stripped = sentence.strip()
    return stripped.endswith("?") or bool(_QUESTION_START.match(stripped)) or bool(_REQUEST.search(stripped))


def is_follow_up(sentence: str) -> bool:
    """A short question that adds no topic of its own: "Og når kommer den?", "Why?", "How long does it take?"."""
    words = [word.lower() for word in Analyzer.words(sentence)]
    return bool(words) and all(word in _FOLLOW_UP_WORDS or len(word) <= 2 for word in words)


def split_needs(text: str, max_needs: int = MAX_NEEDS) -> list[Need]:
    """The needs of a cleaned message, in the order the customer wrote them."""
    found = [sentence for sentence in sentences(text) if len(Analyzer.words(sentence)) >= 1]
    if not found:
        return []
    needs: list[Need] = []
    background: list[str] = []
    for sentence in found:
        if not asks(sentence):
            background.append(sentence)
            continue
        if needs and not background and is_follow_up(sentence):
            _extend(needs[-1], sentence)
            continue
        needs.append(Need(text="", question=sentence, background=background))
        background = []
        needs[-1].text = " ".join([*needs[-1].background, sentence])
    if background:
        if needs:
            for sentence in background:
                _extend(needs[-1], sentence)
        else:
            needs.append(Need(text=" ".join(background), question=background[-1], background=background[:-1]))
    needs = [need for need in needs if len(Analyzer.words(need.text)) >= MIN_NEED_WORDS] or needs
    while len(needs) > max_needs:
        last = needs.pop()
        _extend(needs[-1], last.text)
    return needs


def _extend(need: Need, sentence: str) -> None:
    need.text = f"{need.text} {sentence}".strip()
