"""What a message tells that a reply needs: order and service numbers, the customer's name, the products.

The numbers are read in the KB's formats (order FH-1234567, service SR-123456), also as customers write them
("fh 1234567", "ordre 1234567"), and written back in the KB's format. The name comes from the sign-off or
the signature, or from "jeg heter ..." / "my name is ...". Each value fills the placeholders that ask for it.
"""

from __future__ import annotations

import re

from .cleaning import CleanedMessage
from .subjects import Subjects

# The sample KB's formats, as its articles write them: FH- and seven digits, SR- and six.
ORDER_NUMBER = re.compile(r"(?<![\w-])(?:FH[- ]?|(?:ordre|order|ordrenummer|ordrenr\.?|order number|order no\.?)"
                          r"[ :#]*(?:nr\.?|nummer|number|no\.?)?[ :#]*)(?P<digits>\d{7})(?![\w-])", re.IGNORECASE)
SERVICE_NUMBER = re.compile(r"(?<![\w-])(?:SR[- ]?|(?:servicenummer|servicenr\.?|service number|service no\.?)"
                            r"[ :#]*)(?P<digits>\d{6})(?![\w-])", re.IGNORECASE)
ORDER_FORMAT = "FH-{digits}"
SERVICE_FORMAT = "SR-{digits}"

_NAME_WORD = r"[A-ZÆØÅ][a-zæøåéèüöä'-]+"
PERSON_NAME = re.compile(rf"^{_NAME_WORD}(?: (?:{_NAME_WORD}|[A-ZÆØÅ]\.)){{0,3}}$")
_INTRODUCTION = re.compile(
    rf"\b(?i:jeg heter|mitt navn er|navnet mitt er|my name is|this is)\s+(?P<name>{_NAME_WORD}"
    rf"(?: {_NAME_WORD}){{0,2}})",
)
# Words that start a signature line but are not a name.
_NOT_NAMES = frozenset({"Fjordhjem", "Kundeservice", "Customer", "Sent", "Sendt", "Tlf", "Tel", "Mobil", "Phone"})

# Which placeholders each value fills.
PLACEHOLDERS_FOR = {
    "order_number": ("ordrenummer", "order_number"),
    "service_number": ("servicenummer", "service_number"),
    "customer_name": ("kundenavn", "customer_name"),
}


def extract_values(cleaned: CleanedMessage, subjects: Subjects | None = None) -> dict:
    """The values a cleaned message gives: the customer's own words first, quoted mail as a fallback."""
    own = cleaned.text
    everything = "\n".join([own, *cleaned.signature, *cleaned.quoted])
    values: dict = {}
    order = _number(ORDER_NUMBER, own) or _number(ORDER_NUMBER, everything)
    if order:
        values["order_number"] = ORDER_FORMAT.format(digits=order)
    service = _number(SERVICE_NUMBER, own) or _number(SERVICE_NUMBER, everything)
    if service:
        values["service_number"] = SERVICE_FORMAT.format(digits=service)
    name = customer_name(cleaned)
    if name:
        values["customer_name"] = name
    if subjects:
        products = [mention.subject for mention in subjects.mentions(own)]
        if products:
            values["products"] = products
    return values


def customer_name(cleaned: CleanedMessage) -> str | None:
    """The name the customer signs with or introduces themselves by."""
    candidates = [cleaned.sign_off_name, *cleaned.signature[:2]]
    for candidate in candidates:
        candidate = candidate.strip(" ,.!")
        if candidate and PERSON_NAME.match(candidate) and candidate.split()[0] not in _NOT_NAMES:
            return candidate
    match = _INTRODUCTION.search(cleaned.text)
    if match and match.group("name").split()[0] not in _NOT_NAMES:
        return match.group("name")
    return None


def placeholder_values(values: dict) -> dict[str, str]:
    """Placeholder names with the value that fills them."""
    filled = {}
    for kind, names in PLACEHOLDERS_FOR.items():
        if values.get(kind):
            filled.update(dict.fromkeys(names, values[kind]))
    return filled


def without_values(text: str, values: dict) -> str:
    """`text` with the name the message gave replaced by a tag, so no store or log keeps it."""
    name = values.get("customer_name")
    if name:
        text = re.sub(re.escape(name), "[name]", text, flags=re.IGNORECASE)
        first = name.split()[0]
        if len(first) > 2:
            text = re.sub(rf"\b{re.escape(first)}\b", "[name]", text)
    return text


def _number(pattern: re.Pattern, text: str) -> str | None:
    match = pattern.search(text)
    return match.group("digits") if match else None
