"""What is masked before a question or comment is stored, and what stays because editors need it."""

from __future__ import annotations

import pytest

from indexer.privacy import mask


@pytest.mark.parametrize(("typed", "stored"), [
    ("kari.nordmann@example.no lurer på refusjon", "[e-mail] lurer på refusjon"),
    ("Svar til Ola.Hansen+kunde@firma.co.uk om ordren", "Svar til [e-mail] om ordren"),
    ("Kortnummer 4111 1111 1111 1111 ble belastet to ganger", "Kortnummer [card] ble belastet to ganger"),
    ("card 5555-5555-5555-4444 charged twice", "card [card] charged twice"),
    ("visa 4012888888881881 declined", "visa [card] declined"),
    ("fnr 01019012345 vil ha innsyn", "fnr [national-id] vil ha innsyn"),
    ("fødselsnummer 010190 12345", "fødselsnummer [national-id]"),
    ("kontonummer 1234.56.78903 for refusjon", "kontonummer [account] for refusjon"),
    ("ring meg på 412 34 567", "ring meg på [phone]"),
    ("tlf 41 23 45 67 etter kl 16", "tlf [phone] etter kl 16"),
    ("mobil +47 41234567", "mobil [phone]"),
    ("mobil 0047 412 34 567", "mobil [phone]"),
    ("call +44 20 7946 0958", "call [phone]"),
    ("ordre FH-1234567 har ikke kommet", "ordre [number] har ikke kommet"),
    ("servicenummer SR-318204 status", "servicenummer [number] status"),
    ("sak 2045123456", "sak [number]"),
    # What editors need stays: product codes, error codes, prices, years, postcodes, versions.
    ("TV AU55-Q4 viser E-101", "TV AU55-Q4 viser E-101"),
    ("KM-700 feilkode E24", "KM-700 feilkode E24"),
    ("purregebyr 35 kr i 2026", "purregebyr 35 kr i 2026"),
    ("postnummer 0150 Oslo", "postnummer 0150 Oslo"),
    ("Hub-1 firmware 2.4.1", "Hub-1 firmware 2.4.1"),
    ("kostet 12 990 kr", "kostet 12 990 kr"),
])
def test_mask(typed, stored):
    assert mask(typed) == stored


def test_masking_is_stable():
    once = mask("kari@example.no, 412 34 567, FH-1234567")
    assert mask(once) == once == "[e-mail], [phone], [number]"
