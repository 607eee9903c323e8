"""Mask what identifies a customer before a question or comment is stored.

Agents paste what customers write. The query log keeps what they asked about, never who asked: e-mail
addresses, card numbers, bank accounts, Norwegian national identity numbers (11 digits), phone numbers and
order-like numbers are replaced by a tag before anything reaches the database. Product codes with few digits
(`KM-700`, `E-101`, `AU55-Q4`), prices and years stay: editors need them to see what is asked.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# 13 to 19 digits in groups separated by spaces or dashes: payment cards.
CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
# Norwegian bank accounts, 4.2.5 digits.
ACCOUNT = re.compile(r"(?<![\w-])\d{4}[ .]\d{2}[ .]\d{5}(?![\w-])")
# 11 digits, optionally as 6 + 5 with a space or dot: fødselsnummer and d-nummer.
NATIONAL_ID = re.compile(r"(?<![\w-])\d{6}[ .]?\d{5}(?![\w-])")
# Norwegian numbers (8 digits, grouped 3-2-3, 2-2-2-2 or whole, optional +47 / 0047) and other
# international numbers written with a leading +.
PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)47[ -]?)?(?:\d{3}[ -]?\d{2}[ -]?\d{3}|\d{2}[ -]?\d{2}[ -]?\d{2}[ -]?\d{2})(?![\w-])"
    r"|(?<![\w+])\+\d{1,3}(?:[ -]?\d){6,12}(?![\w-])"
)
# Order, case and account numbers: anything with five or more digits in a row, with or without a prefix.
NUMBER = re.compile(r"(?<![\w-])(?:[A-Za-zÆØÅæøå]{1,4}-?)?\d{5,}(?:[-./]\d+)*(?![\w-])")

MASKS = (
    (EMAIL, "[e-mail]"),
    (CARD, "[card]"),
    (ACCOUNT, "[account]"),
    (NATIONAL_ID, "[national-id]"),
    (PHONE, "[phone]"),
    (NUMBER, "[number]"),
)


def mask(text: str) -> str:
    """`text` with e-mail addresses, cards, national ids, phone numbers and long numbers replaced by tags."""
    for pattern, tag in MASKS:
        text = pattern.sub(tag, text)
    return text
