"""Values a hand-off needs from what the customer wrote: order, service and organisation numbers, products."""

from __future__ import annotations

import re

from ..lexical import STEMMERS
from ..synonyms import Synonyms, contains_phrase, phrase_form

# The forms the KB's articles give: FH-1234567 and SR-123456 (intern/eskaleringsruter).
VALUE_PATTERNS = {
    "order_number": re.compile(r"(?<![\w-])(?P<value>FH-?\d{7})(?![\w-])", re.IGNORECASE),
    "service_number": re.compile(r"(?<![\w-])(?P<value>SR-?\d{6})(?![\w-])", re.IGNORECASE),
    # Nine digits only after a word that says they are an organisation number: bare, they could be anything.
    "org_number": re.compile(r"(?:org\.? ?nr\.?|organisasjonsnummer|organi[sz]ation number):? ?"
                             r"(?P<value>\d{3} ?\d{3} ?\d{3})(?!\d)", re.IGNORECASE),
}


def found_values(text: str) -> dict[str, list[str]]:
    """Each kind of value in `text`, in order of appearance, each value once (order and service numbers in
    capitals, as the CRM writes them)."""
    found = {}
    for kind, pattern in VALUE_PATTERNS.items():
        values = [match.group("value").upper() for match in pattern.finditer(text)]
        if values:
            found[kind] = list(dict.fromkeys(values))
    return found


def value_spans(text: str, kinds) -> list[tuple[int, int, str]]:
    """Where the values of `kinds` stand in `text` (start, end, kind), so masking can treat them apart."""
    return sorted((*match.span("value"), kind) for kind in kinds for match in VALUE_PATTERNS[kind].finditer(text))


def mentioned_products(text: str, products: list[str], synonyms: Synonyms | None = None) -> list[str]:
    """The KB's product codes `text` names, directly or by a synonym (`Aura 55` for AU55-Q4), in KB order."""
    forms = [phrase_form(text, lang) for lang in STEMMERS]
    named = set()
    groups = synonyms.groups if synonyms else []
    for code in products:
        names = [code, *(member for group in groups if code in group for member in group)]
        for name in names:
            variants = [phrase_form(name, lang) for lang in STEMMERS]
            if any(contains_phrase(form, variant) for form, variant in zip(forms, variants, strict=True)):
                named.add(code)
                break
    return [code for code in products if code in named]
