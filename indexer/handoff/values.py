"""Values a hand-off needs from what the customer wrote: order, service and organisation numbers.

Order and service numbers are read as the assistant reads them (see assist.values: "FH-1234567", also
"ordre 1234567") and written in the KB's format; organisation numbers only after a word that names them.
"""

from __future__ import annotations

import re

from ..assist.values import ORDER_FORMAT, ORDER_NUMBER, SERVICE_FORMAT, SERVICE_NUMBER

VALUE_PATTERNS = {
    "order_number": ORDER_NUMBER,
    "service_number": SERVICE_NUMBER,
    # Nine digits only after a word that says they are an organisation number: bare, they could be anything.
    "org_number": re.compile(r"(?:org\.? ?nr\.?|organisasjonsnummer|organi[sz]ation number):? ?"
                             r"(?P<digits>\d{3} ?\d{3} ?\d{3})(?!\d)", re.IGNORECASE),
}
FORMATS = {"order_number": ORDER_FORMAT, "service_number": SERVICE_FORMAT, "org_number": "{digits}"}


def found_values(text: str) -> dict[str, list[str]]:
    """Each kind of value in `text`, in the KB's format, in order of appearance, each value once."""
    found = {}
    for kind, pattern in VALUE_PATTERNS.items():
        values = [FORMATS[kind].format(digits=match.group("digits")) for match in pattern.finditer(text)]
        if values:
            found[kind] = list(dict.fromkeys(values))
    return found


def value_spans(text: str, kinds) -> list[tuple[int, int, str]]:
    """Where the values of `kinds` stand in `text` (start, end, kind), so masking can treat them apart."""
    return sorted((*match.span("digits"), kind) for kind in kinds for match in VALUE_PATTERNS[kind].finditer(text))
