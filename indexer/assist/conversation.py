"""A conversation's latest customer turns, and what they refer to that was named before.

On the phone the question of the moment leans on what was said earlier: "and what is the check-in time
there?", "kan jeg returnere den?". The needs are those of the latest customer turns (everything the customer
said since the agent last spoke); the subject they refer to is the last one named in earlier turns, by
either side, when the latest turns name none of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from .request import Turn
from .subjects import Subjects

# Earlier turns looked through for the subject, latest first: about the last few minutes of a call.
CONTEXT_TURNS = 12


@dataclass(frozen=True)
class ConversationTuning:
    """How earlier turns lend their subject to the latest, set by the bench its comment names."""

    # Each turn further back counts this much less when two subjects were named: of 0.7 / 0.8 / 0.9, chosen on
    # the even-numbered DSTC10 questions, the odd-numbered half (no part in the choice) then finds the snippet
    # in the first five for 0.692 (bench/assist_quality.py --part dstc10 --recency-split).
    recency: float = 0.8


CONVERSATION = ConversationTuning()


def latest_customer_turns(turns: list[Turn]) -> tuple[list[Turn], list[Turn]]:
    """The customer's latest turns (those after the agent last spoke, or the last customer block when the
    agent spoke last) and the turns before them."""
    end = len(turns)
    while end > 0 and turns[end - 1].role != "customer":
        end -= 1
    start = end
    while start > 0 and turns[start - 1].role == "customer":
        start -= 1
    return turns[start:end], turns[:start]


def earlier_subject(earlier: list[Turn], subjects: Subjects) -> str | None:
    """The subject the earlier turns name most clearly, recent turns counting more; None when they name none.

    Not simply the latest: a customer says "Union Square" (a district, and a subject of its own) after the
    agent named the hotel in it, and a stray word of a name ("found") is weaker than a whole name said once.
    """
    best, best_score = None, 0.0
    for age, turn in enumerate(reversed(earlier[-CONTEXT_TURNS:])):
        for mention in subjects.mentions(turn.text)[:1]:
            score = mention.share * mention.weight * CONVERSATION.recency ** age
            if score > best_score:
                best, best_score = mention.subject, score
    return best
