"""A conversation's latest customer turns, and what they refer to that was named before.

On the phone the question of the moment leans on what was said earlier: "and what is the check-in time
there?", "kan jeg returnere den?". The needs are those of the latest customer turns (everything the customer
said since the agent last spoke); the subject they refer to is the last one named in earlier turns, by
either side, when the latest turns name none of their own.
"""

from __future__ import annotations

from .request import Turn
from .subjects import Subjects

# Earlier turns looked through for the subject, latest first: about the last few minutes of a call.
CONTEXT_TURNS = 12


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
    """The subject last named in the earlier turns, or None."""
    for turn in reversed(earlier[-CONTEXT_TURNS:]):
        found = subjects.best(turn.text)
        if found:
            return found
    return None
