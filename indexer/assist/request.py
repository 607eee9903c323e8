"""What an agent may send the assistant, checked once for the API and the CLI alike, with its bounds."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import RESULTS_PER_NEED
from ..errors import MessageTooLong, QueryError
from ..retrieval.search import FILTERS, validate_filters
from ..vocabulary import CHANNELS, LANGUAGES

# A long customer e-mail with the thread quoted below it is about 6,000 characters; a 20 kB paste is a
# mistake (a whole mailbox, a log file) and is refused before any work is done.
MAX_MESSAGE_CHARS = 12_000
# A phone call of half an hour is about 80 turns; only the last ones are read for what they refer to.
MAX_TURNS = 100
ROLES = ("customer", "agent")
MAX_RESULTS_PER_NEED = 10


@dataclass(frozen=True)
class Turn:
    """One turn of a conversation: who spoke and what they said."""

    role: str
    text: str


@dataclass
class AssistRequest:
    """A pasted message (`text`) or a conversation (`turns`), for a channel, optionally in a language."""

    text: str | None = None
    turns: list[Turn] | None = None
    channel: str = "email"
    lang: str | None = None
    filters: dict = field(default_factory=dict)
    k: int = RESULTS_PER_NEED

    @classmethod
    def from_json(cls, body: dict) -> AssistRequest:
        """A request from a JSON object; QueryError (or MessageTooLong) saying what is wrong."""
        text, turns = body.get("text"), body.get("turns")
        if (text is None) == (turns is None):
            raise QueryError("send either text (a pasted message) or turns (a conversation), not both")
        channel = body.get("channel", "phone" if turns is not None else "email")
        if channel not in CHANNELS:
            raise QueryError(f"channel must be one of {', '.join(CHANNELS)}")
        lang = body.get("lang")
        if lang is not None and lang not in LANGUAGES:
            raise QueryError(f"lang must be {' or '.join(LANGUAGES)}")
        k = body.get("k", RESULTS_PER_NEED)
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_RESULTS_PER_NEED:
            raise QueryError(f"k must be a whole number between 1 and {MAX_RESULTS_PER_NEED}")
        filters = validate_filters({name: body.get(name) for name in FILTERS if name != "lang"})
        request = cls(text=None, turns=None, channel=channel, lang=lang, filters=filters, k=k)
        if text is not None:
            request.text = checked_text(text)
        else:
            request.turns = checked_turns(turns)
        return request


def checked_text(text) -> str:
    """A pasted message within bounds."""
    if not isinstance(text, str):
        raise QueryError("text must be a string")
    if len(text) > MAX_MESSAGE_CHARS:
        raise MessageTooLong(f"the message is {len(text):,} characters long; the limit is {MAX_MESSAGE_CHARS:,}")
    if not text.strip():
        raise QueryError("the message is empty")
    return text


def checked_turns(turns) -> list[Turn]:
    """A conversation within bounds: a list of {role, text}, roles customer or agent, one customer turn at least."""
    if not isinstance(turns, list) or not turns:
        raise QueryError("turns must be a non-empty list of {role, text}")
    if len(turns) > MAX_TURNS:
        raise MessageTooLong(f"the conversation has {len(turns):,} turns; the limit is {MAX_TURNS}")
    checked, total = [], 0
    for number, turn in enumerate(turns, start=1):
        if not isinstance(turn, dict) or not isinstance(turn.get("text"), str):
            raise QueryError(f"turn {number} must be an object with role and text")
        if turn.get("role") not in ROLES:
            raise QueryError(f"turn {number} has role {str(turn.get('role'))[:40]!r}; use customer or agent")
        total += len(turn["text"])
        if total > MAX_MESSAGE_CHARS:
            raise MessageTooLong(f"the conversation is over {MAX_MESSAGE_CHARS:,} characters long")
        checked.append(Turn(turn["role"], turn["text"]))
    if not any(turn.role == "customer" and turn.text.strip() for turn in checked):
        raise QueryError("the conversation has no customer turn with text")
    return checked
