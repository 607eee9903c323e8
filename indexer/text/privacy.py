"""Mask what identifies a customer before a question, comment or request line is stored or logged.

Agents paste what customers write. The query log keeps what they asked about, never who asked: e-mail
addresses (also written `kari(at)example.no` or `kari @ example.no`), card numbers, bank accounts and IBANs,
Norwegian national identity numbers (11 digits, also as a birth date and a separate person number), dates
after "født" / "born", phone numbers, order-like numbers, street addresses (a street name ending like
"-gata", "-veien" or "Street" with a house number, and a postcode after it), a name directly before such an
address, and a name after "jeg heter", "mvh", "hilsen", "my name is", "regards" and the like. Product codes
with few digits (`KM-700`, `E-101`, `AU55-Q4`), prices, years and a postcode on its own stay: editors need
them to see what is asked. A name with no cue before it ("Kari Nordmann lurer på ...") cannot be told from a
product or place name and is not masked.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qsl, urlencode

_AT = r"(?:\s*@\s*|\s*[(\[{]\s*(?:at|alfakrøll|krøllalfa)\s*[)\]}]\s*)"
_DOT = r"(?:\.|\s*[(\[{]\s*(?:dot|punktum)\s*[)\]}]\s*)"
# Tried once per run of address characters, from its start, without giving characters back (a match found
# from inside a run is found from its start as well): tried at every position it was the dearest mask, 35-40
# µs a line of ms-officedocs-support, against 6-7 µs now.
EMAIL = re.compile(rf"(?<![\w.+-])[\w.+-]++{_AT}[\w-]+(?:{_DOT}[\w-]+)+", re.UNICODE | re.IGNORECASE)
# IBANs written in groups of four (NO93 8601 1117 947, GB82 WEST 1234 5698 7654 32), and the Norwegian
# 11-digit account number in the IBAN's grouping (8601 1117 947).
IBAN = re.compile(r"(?<![\w-])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w-])")
# 13 to 19 digits in groups separated by spaces or dashes: payment cards.
CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
# Norwegian bank accounts, 4.2.5 digits, or 4 4 3 as in an IBAN.
ACCOUNT = re.compile(r"(?<![\w-])(?:\d{4}[ .]\d{2}[ .]\d{5}|\d{4} \d{4} \d{3})(?![\w-])")
# 11 digits, optionally as 6 + 5 with a space or dot, or a birth date with separators and the 5-digit
# person number after it (01.01.70 12345): fødselsnummer and d-nummer.
NATIONAL_ID = re.compile(r"(?<![\w-])(?:\d{6}[ .]?\d{5}|\d{2}[./-]\d{2}[./-](?:\d{2}|\d{4})[ .]\d{5})(?![\w-])")
# A date after a word that says it is a birth date.
BIRTH_DATE = re.compile(
    r"(?<!\w)(født|f\.|fødselsdato|fødd|born|date of birth|birth date|dob)(:?\s+)"
    r"\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?![\w-])", re.IGNORECASE)
# Norwegian numbers (8 digits, grouped 3-2-3, 2-2-2-2 or whole, optional +47 / 0047) and other
# international numbers written with a leading +.
PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)47[ -]?)?(?:\d{3}[ -]?\d{2}[ -]?\d{3}|\d{2}[ -]?\d{2}[ -]?\d{2}[ -]?\d{2})(?![\w-])"
    r"|(?<![\w+])\+\d{1,3}(?:[ -]?\d){6,12}(?![\w-])"
)
# Order, case and account numbers: anything with five or more digits in a row, with or without a prefix.
NUMBER = re.compile(r"(?<![\w-])(?:[A-Za-zÆØÅæøå]{1,4}-?)?\d{5,}(?:[-./]\d+)*(?![\w-])")

_WORD = r"[A-ZÆØÅ][a-zæøåéü]+(?:-[A-ZÆØÅ][a-zæøåéü]+)?"
_STREET_END = (r"(?:gata|gaten|gate|gt\.|veien|vegen|veg|vei|vn\.|allé|alle|plass|plassen|stien|sti|bakken|"
               r"torget|tunet|brygge|kaia|ringen|lia|haugen)")
# A street and house number (Storgata 1, Kirkeveien 12B, Hans Nielsen Hauges gate 5, 221B Baker Street,
# 10 Downing St), with a postcode and place after it when they follow.
ADDRESS = re.compile(
    rf"(?<!\w)(?:{_WORD} ){{0,3}}(?:[A-ZÆØÅ][a-zæøå]*{_STREET_END}|[Gg]ate|[Vv]ei|[Vv]eg) \d{{1,4}}[A-Za-z]?"
    r"(?:,? \d{4}(?: [A-ZÆØÅ][\wæøå-]+)?)?(?!\w)"
    rf"|(?<!\w)[a-zæøå]+{_STREET_END} \d{{1,4}}[A-Za-z]?,? \d{{4}}(?: [\wæøå-]+)?(?!\w)"
    rf"|(?<!\w)\d{{1,4}}[A-Za-z]? (?:{_WORD} ){{1,3}}(?:Street|St\.?|Road|Rd\.?|Avenue|Ave\.?|Lane|Drive|Way)(?!\w)"
)
# A name right before an address ("Kari Nordmann, [address]").
NAME_BEFORE_ADDRESS = re.compile(rf"(?<!\w)(?:{_WORD} ){{0,2}}{_WORD},? (?=\[address\])")
# A name after the words people introduce or sign with: one to three capitalised words.
NAME_AFTER_CUE = re.compile(
    r"(?<!\w)((?i:jeg heter|mitt navn er|navnet mitt er|navn:|mvh\.?|med vennlig hilsen|vennlig hilsen|hilsen|"
    r"my name is|name:|regards,?|best regards,?|kind regards,?|sincerely,?|thanks,|cheers,))"
    rf"(\s+)(?:{_WORD})(?:\s+{_WORD}){{0,2}}",
)
# A word every cue above holds, looked for in the case-folded text before the cue pattern is tried.
_CUE_WORDS = ("heter", "navn", "mvh", "hilsen", "name", "regards", "sincerely", "thanks,", "cheers,")

_DIGITS = re.compile(r"\d+")


def _has_cue_word(text: str) -> bool:
    folded = text.casefold()
    return any(word in folded for word in _CUE_WORDS)


# The masks in the order they are applied, grouped by what a text must hold before they are tried (None:
# always tried), where that is cheap to see: a digit for every mask from IBAN to ADDRESS (a tag never adds
# one), a masked address before a name is looked for in front of it, a cue's word before a name is looked
# for after one. Most sentences an agent or a KB answer writes hold none of these. So grouped, masking takes
# about half the time of every mask tried: 26.5 against 56.0 µs a line of ms-officedocs-support, 25.9
# against 52.9 µs of ms-alchemyinsights-nb-NO (bench/mask_cost.py, one run).
_MASK_GROUPS = (
    (None, ((EMAIL, "[e-mail]"),)),
    (lambda text: _DIGITS.search(text) is not None, (
        (IBAN, "[account]"),
        (CARD, "[card]"),
        (ACCOUNT, "[account]"),
        (NATIONAL_ID, "[national-id]"),
        (BIRTH_DATE, r"\1\2[date-of-birth]"),
        (PHONE, "[phone]"),
        (NUMBER, "[number]"),
        (ADDRESS, "[address]"),
    )),
    (lambda text: "[address]" in text, ((NAME_BEFORE_ADDRESS, "[name], "),)),
    (_has_cue_word, ((NAME_AFTER_CUE, r"\1\2[name]"),)),
)
MASKS = tuple(pair for _, group in _MASK_GROUPS for pair in group)


def mask(text: str) -> str:
    """`text` with e-mail addresses, accounts, cards, national ids, phone numbers, long numbers, addresses and
    introduced names replaced by tags."""
    for may_match, group in _MASK_GROUPS:
        if may_match is None or may_match(text):
            for pattern, tag in group:
                text = pattern.sub(tag, text)
    return text


def mask_filters(filters: dict, known: dict[str, list[str]]) -> dict:
    """Filters as the query log keeps them: a value the index knows (a category, product or language of its
    articles) stays, anything else is masked and has every run of digits replaced, since it was typed."""
    kept = {}
    for name, value in filters.items():
        text = str(value)
        if text.casefold() in {item.casefold() for item in known.get(name, [])}:
            kept[name] = text
        else:
            kept[name] = _DIGITS.sub("[digits]", mask(text))
    return kept


def mask_query_string(query_string: str) -> str:
    """A URL's query string with each value masked, for a request log that an operator asked to include it."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return urlencode([(name, mask(value)) for name, value in pairs], safe="[]")


def mask_address(address: str | None) -> str:
    """A client address with its host part dropped: the /24 of an IPv4 address, the /48 of an IPv6 one."""
    try:
        ip = ipaddress.ip_address((address or "").strip("[]"))
    except ValueError:
        return "-"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


# What a value of each kind becomes in a store: a name is personal whatever it looks like.
VALUE_TAGS = {"customer_name": "[name]"}


def mask_value(kind: str, value) -> str:
    """A value taken from a customer's message, as a store may keep it: names always hidden, the rest masked."""
    return VALUE_TAGS.get(kind) or mask(str(value))
