"""The hand-off note: what the department taking a case over needs, ready to paste into the CRM or an e-mail.

It says what the customer wants, what they were answered and from which articles, the values found
(order and service numbers, products), why the case moves and what the agent adds. Personal data the
department does not need is masked (see privacy); the values its route `keeps` stay as they are. The note
is written in the department's language and never stored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..config import MAX_QUERY_CHARS
from ..errors import CommentTooLong, QueryError
from ..routing.routes import DEFAULT_KEEPS, Department
from ..text.privacy import mask
from .values import VALUE_PATTERNS, found_values, value_spans

# The agent's own words on a hand-off: a few sentences, as a CRM summary field holds.
MAX_ADDED_CHARS = 2000
# The question as it opens the subject line.
SUBJECT_CHARS = 80
LABELS = {
    "nb": {"to": "Til", "urgent": "HASTER", "subject": "Eskalering til", "wants": "Hva kunden vil",
           "answered": "Hva kunden har fått svar om", "values": "Verdier fra saken", "why": "Hvorfor saken eskaleres",
           "added": "Agentens merknad", "none": "ingen", "speed": "Hvor raskt", "order_number": "Ordrenummer",
           "service_number": "Servicenummer", "org_number": "Organisasjonsnummer", "product": "Produkt",
           "crm_queue": "CRM-kø", "email": "e-post", "phone": "telefon"},
    "en": {"to": "To", "urgent": "URGENT", "subject": "Escalation to", "wants": "What the customer wants",
           "answered": "What the customer was answered", "values": "Values from the case",
           "why": "Why the case is escalated", "added": "Agent's note", "none": "none", "speed": "How fast",
           "order_number": "Order number", "service_number": "Service number", "org_number": "Organisation number",
           "product": "Product", "crm_queue": "CRM queue", "email": "e-mail", "phone": "phone"},
}


@dataclass(frozen=True)
class HandoffNote:
    """A note for one department; `values` are what it found, `masked` whether anything was masked."""

    department: str
    lang: str
    subject: str
    text: str
    values: dict
    masked: bool

    def as_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


def check_handoff_text(question, added, limit: int = MAX_QUERY_CHARS) -> tuple[str, str | None]:
    """The customer's words (at most `limit` characters) and the agent's addition, trimmed; QueryError or
    CommentTooLong (a 413) otherwise."""
    if not isinstance(question, str) or not question.strip():
        raise QueryError("question must be the customer's question or pasted message, as text")
    if len(question) > limit:
        raise CommentTooLong(f"the question is {len(question):,} characters long; the limit is {limit:,}")
    if added is not None and not isinstance(added, str):
        raise QueryError("note must be text")
    if added and len(added) > MAX_ADDED_CHARS:
        raise CommentTooLong(f"the note is {len(added):,} characters long; the limit is {MAX_ADDED_CHARS:,}")
    return question.strip(), (added or "").strip() or None


def masked_for(text: str, keeps) -> str:
    """`text` masked, except for the values of the kinds in `keeps` (order numbers, say) that stay readable;
    a value of another kind is replaced by its tag even where general masking would not see it."""
    pieces, position = [], 0
    for start, end, kind in value_spans(text, VALUE_PATTERNS):
        if start < position:
            continue
        pieces.append(mask(text[position:start]))
        pieces.append(text[start:end] if kind in keeps else f"[{kind.replace('_', '-')}]")
        position = end
    pieces.append(mask(text[position:]))
    return "".join(pieces)


def write_note(question: str, route: dict, department: Department | None, articles: list[dict],
               products: list[str], added: str | None = None) -> HandoffNote:
    """The note for `route`'s department about `question`, answered from `articles` (title, id, section);
    the texts are checked by `check_handoff_text` first."""
    question, added = question.strip(), (added or "").strip() or None
    lang = department.lang if department else "nb"
    words = LABELS[lang]
    keeps = department.keeps if department else DEFAULT_KEEPS
    values = {kind: found for kind, found in found_values(f"{question}\n{added or ''}").items() if kind in keeps}
    if products:
        values["product"] = list(products)
    wants = masked_for(question, keeps)
    remark = masked_for(added, keeps) if added else None
    label = department.label.get(lang, department.name) if department else route["department"]
    subject = f"{words['subject']} {label}: {_shorten(wants)}"
    contact = department.contact if department else {}
    lines = [f"{words['to']}: {label}" + (" (" + ", ".join(f"{words[kind]} {value}" for kind, value in
                                                              contact.items()) + ")" if contact else "")]
    if route.get("urgent"):
        lines.append(f"{words['urgent']}: {route['reason'].get('criterion') or ''}".rstrip())
    speed = department.speed.get(lang) if department else None
    if route.get("urgent") and route.get("speed"):
        speed = route["speed"]
    if speed:
        lines.append(f"{words['speed']}: {speed}")
    lines += ["", f"{words['wants']}:", wants, "", f"{words['answered']}:"]
    lines += [f"- {a['title']}" + (f" › {a['section']}" if a.get("section") else "") + f" ({a['article_id']})"
              for a in articles] or [f"- {words['none']}"]
    lines += ["", f"{words['values']}:"]
    lines += [f"- {words[kind]}: {', '.join(found)}" for kind, found in values.items()] or [f"- {words['none']}"]
    reason = route.get("reason") or {}
    if reason.get("criterion"):
        lines += ["", f"{words['why']}:", f"{reason['criterion']} ({reason.get('matched')})"
                  if reason.get("kind") in ("urgent", "question") else reason["criterion"]]
    if remark:
        lines += ["", f"{words['added']}:", remark]
    text = "\n".join(lines)
    return HandoffNote(department=route["department"], lang=lang, subject=subject, text=text, values=values,
                       masked=wants != question or (remark or None) != added)


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SUBJECT_CHARS else flat[: SUBJECT_CHARS - 1].rstrip() + "…"
