"""Run the assistant over the live index: clean, split, search each need, fill values, compose one reply."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ..config import MAX_QUERY_CHARS
from ..errors import NothingToAnswer
from ..replies.templates import declared_for
from ..retrieval.search import SearchResponse
from ..text.language import detect_language
from ..text.privacy import mask
from .cleaning import CleanedMessage, clean_message
from .compose import choose_answer, compose_reply
from .conversation import earlier_subject, latest_customer_turns
from .needs import split_needs
from .request import AssistRequest
from .subjects import Subjects
from .values import extract_values, without_values

# The tags masking leaves; they are taken out of what is searched (they match no article).
_MASK_TAG = re.compile(r"\[(?:e-mail|card|account|national-id|phone|number|name)\]")
DEFAULT_LANG = "nb"


@dataclass
class NeedAnswer:
    """One need: as the customer wrote it, what was searched for it, in which language, and what was found."""

    text: str
    lang: str
    query: str
    subject: str | None
    search: SearchResponse

    def as_dict(self) -> dict:
        """The need as /api/assist returns it, with its escalation route: an urgent criterion the need meets,
        else its first result's; other layers may add keys (a search id)."""
        results, urgent = self.search.results, self.search.urgent or []
        route = urgent[0] if urgent else (results[0].get("route") if results else None)
        return {"text": self.text, "lang": self.lang, "query": self.query, "subject": self.subject,
                "route": route, "urgent": urgent, "results": results}


@dataclass
class AssistResponse:
    """Every need with its results, the values the message gave, and the one reply."""

    needs: list[NeedAnswer]
    values: dict
    reply: dict
    lang: str
    channel: str
    version: str
    set_aside: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The JSON shape shared by `kb assist --json` and /api/assist, which put it in their envelope."""
        return {"lang": self.lang, "channel": self.channel, "index_version": self.version,
                "needs": [need.as_dict() for need in self.needs], "values": self.values, "reply": self.reply,
                "set_aside": self.set_aside}

    def log_entries(self) -> dict:
        """What the query log records of this request: its values (masked by the store) and each need as a
        search of its own, without the names and numbers the message gave."""
        searches = [{**need.search.log_entry("hybrid"), "query": without_values(need.query, self.values)}
                    for need in self.needs]
        return {"channel": self.channel, "lang": self.lang, "values": self.values, "searches": searches}


class Assistant:
    """Answers pasted messages and conversations with the searcher it is given; safe to share between threads."""

    def __init__(self, searcher):
        self.searcher = searcher
        self._subjects: tuple[str, Subjects] | None = None

    def subjects(self, version) -> Subjects:
        """The subjects of the live version, built once per version."""
        cached = self._subjects
        if cached is None or cached[0] != version.name:
            cached = (version.name, Subjects.of_version(version))
            self._subjects = cached
        return cached[1]

    def assist(self, request: AssistRequest) -> AssistResponse:
        """The needs of the message or the latest customer turns, each searched, and one reply for them all."""
        version = self.searcher.version
        subjects = self.subjects(version)
        subject = None
        if request.turns is not None:
            latest, earlier = latest_customer_turns(request.turns)
            cleaned = clean_message("\n".join(turn.text for turn in latest))
            subject = earlier_subject(earlier, subjects)
            context = clean_message("\n".join(turn.text for turn in earlier if turn.role == "customer"))
        else:
            cleaned = clean_message(request.text)
            context = None
        needs = split_needs(cleaned.text)
        if not needs:
            raise NothingToAnswer("the message has no question or request once greetings, signatures and "
                                  "quoted mail are set aside")
        values = _values(cleaned, context, subjects)
        message_lang = request.lang or detect_language(cleaned.text) or DEFAULT_LANG
        planned = [self._plan(need, request, message_lang, subject, subjects, values) for need in needs]
        # Every need's question embedded in one call; each search then reuses its vector and its language.
        vectors = self.searcher.query_vectors([plan.query for plan in planned], [plan.lang for plan in planned])
        answered = [
            NeedAnswer(text=plan.text, lang=plan.lang, query=plan.query, subject=plan.subject,
                       search=self.searcher.search(plan.query, k=request.k, filters=request.filters,
                                                   replies=(request.channel,), analyse_as=plan.lang,
                                                   query_vector=vector, extract_results=0))
            for plan, vector in zip(planned, vectors, strict=True)
        ]
        reply_lang = request.lang or _most_common([need.lang for need in answered]) or message_lang
        answers = [answer for index, need in enumerate(answered)
                   if (answer := choose_answer(index, need.search.results, reply_lang,
                                               _extract_for(self.searcher, need.search, request.channel)))
                   is not None]
        reply = compose_reply(answers, reply_lang, request.channel, values, declared_for(version.placeholders, {}))
        set_aside = {"greeting": bool(cleaned.greeting), "signature": bool(cleaned.signature or cleaned.sign_off_name),
                     "quoted_lines": len(cleaned.quoted)}
        return AssistResponse(needs=answered, values=values, reply=reply, lang=reply_lang, channel=request.channel,
                              version=version.name, set_aside=set_aside)

    @staticmethod
    def _plan(need, request: AssistRequest, message_lang: str, subject: str | None, subjects: Subjects,
              values: dict) -> _Plan:
        """What is searched for one need, in which language (told once, from its own words or the message's)."""
        lang = request.lang or detect_language(need.text) or message_lang
        own_subject = subjects.best(need.text) if subjects else None
        carried = subject if subject and not own_subject else None
        query = searchable(f"{carried} {need.text}" if carried else need.text, values) or mask(need.text)
        return _Plan(text=need.text, lang=lang, query=query, subject=own_subject or carried)


@dataclass(frozen=True)
class _Plan:
    text: str
    lang: str
    query: str
    subject: str | None


def _extract_for(searcher, search: SearchResponse, channel: str):
    """Makes the extract of one of `search`'s results, for the reply that may use it."""
    return lambda result: searcher.add_extract(search, result, (channel,))


def searchable(text: str, values: dict) -> str:
    """What is searched for a need: the customer's words without their name, numbers and addresses."""
    cleaned = _MASK_TAG.sub(" ", mask(without_values(text, values)))
    return re.sub(r"\s+", " ", cleaned).strip()[:MAX_QUERY_CHARS]


def _values(cleaned: CleanedMessage, context: CleanedMessage | None, subjects: Subjects) -> dict:
    """The message's values; in a conversation, what earlier customer turns said fills what the latest lack."""
    values = extract_values(cleaned, subjects)
    if context is not None and context.text:
        for kind, value in extract_values(context, subjects).items():
            values.setdefault(kind, value)
    return values


def _most_common(langs: list[str]) -> str | None:
    counted = Counter(lang for lang in langs if lang)
    return counted.most_common(1)[0][0] if counted else None
