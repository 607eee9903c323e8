"""`kb check`: every kind of finding, with file, line and level, and its exit status."""

from __future__ import annotations

import datetime as dt
import json

from indexer.cli import main
from indexer.ingest.checks import check_kb

from .conftest import SAMPLE_KB

TODAY = dt.date(2026, 11, 27)
PASTED = ("Kunden kan returnere varen i hvilken som helst butikk eller sende den med Posten innen fristen, "
          "og pengene kommer tilbake til samme betalingsmåte innen fjorten dager etter at varen er mottatt.")


def write(kb, relpath, text):
    path = kb / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_sample_kb_is_clean():
    assert check_kb(SAMPLE_KB, today=TODAY) == []


def test_every_kind_of_finding(tmp_path):
    kb = tmp_path / "kb"
    write(kb, "a.md", "---\ntitle: Retur\nlang: nb\naudience: customer\nupdated: 2026-13-01\n"
                      "review_by: 2026-11-01\n---\n# Retur\n\n" + PASTED + "\n\nSe [intern](intern.md) og "
                      "[borte](borte.md) og [avsnitt](b.md#finnes-ikke).\n")
    write(kb, "b.md", "---\ntitle: retur\nlang: nb\nreview_by: 2026-12-05\n---\n# Annen\n\n" + PASTED + "\n")
    write(kb, "intern.md", "---\ntitle: Intern\nlang: dk\naudience: internal\ntags: angrerett\n---\n# Intern\n\nx\n")
    write(kb, "c.md", "---\nid: a\nlang: en\naudience: staff\n---\n# C\n\nSame id.\n")
    write(kb, "uten-sprak.md", "# Uten språk\n\nTekst.\n")
    write(kb, "broken.md", "---\ntitle: [x\n---\nBody\n")

    findings = [str(finding) for finding in check_kb(kb, today=TODAY)]
    assert findings == [
        "a.md: warning: passage 1 is nearly the same text as passage 1 of b.md (100% shared)",
        "a.md:5: error: updated 2026-13-01 is not a real date",
        "a.md:6: warning: stale: review was due 2026-11-01",
        "a.md:12: error: link to missing article borte",
        "a.md:12: error: link to missing section #finnes-ikke in b",
        "a.md:12: warning: customer-facing article links to internal article intern",
        "b.md:2: warning: duplicate title 'retur', also in a.md",
        "b.md:4: info: review due 2026-12-05, within 14 days",
        "broken.md:3: error: invalid YAML front matter: did not find expected ',' or ']'",
        "c.md:2: error: duplicate id 'a', also in a.md",
        "c.md:4: error: audience must be one of customer, internal, not 'staff'",
        "intern.md:3: error: lang must be one of nb, en, not 'dk'",
        "intern.md:5: error: tags must be a list of words, e.g. [a, b]",
        "uten-sprak.md:1: warning: no language given; the KB default 'nb' is used",
    ]


def test_cli_exit_status_and_json(tmp_path, runner):
    kb = tmp_path / "kb"
    write(kb, "ok.md", "---\nlang: nb\n---\n# Ok\n\nTekst.\n")
    clean = runner.invoke(main, ["check", "--kb", str(kb)])
    assert (clean.exit_code, clean.output) == (0, "0 error(s), 0 warning(s), 0 notice(s)\n")

    write(kb, "bad.md", "---\nlang: nb\naudience: everyone\n---\n# Bad\n\nTekst.\n")
    failed = runner.invoke(main, ["check", "--kb", str(kb), "--json"])
    assert failed.exit_code == 1
    payload = json.loads(failed.output)
    assert payload == {"ok": False, "findings": [
        {"path": "bad.md", "line": 3, "level": "error",
         "message": "audience must be one of customer, internal, not 'everyone'"},
    ]}
