"""Articles and KB files built to hurt the parser: each is named and skipped within a bound, the rest indexed."""

from __future__ import annotations

import os
import time

import pytest
import yaml

from indexer.cli import main
from indexer.ingest.builder import build_index
from indexer.ingest.checks import check_kb
from indexer.kb.yamlsafe import MAX_YAML_VALUES
from indexer.store import IndexRoot

FRONT = "---\ntitle: {title}\nlang: nb\n---\n"
# Seven levels of ten aliases each: 10^7 values from a few hundred bytes.
ALIAS_BOMB = "---\n" + "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 8)) + "title: Bombe\n---\n# Bombe\n\nTekst.\n"
FIFTY_MB = 50 * 1024 * 1024


def write(kb, name: str, text: str | bytes) -> None:
    path = kb / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())


@pytest.fixture
def hostile_kb(mini_kb, tmp_path):
    write(mini_kb, "liste.md", FRONT.format(title="Liste") + "Trinn:\n\n1" + "0" * 4999 + ". Gjør dette\n")
    write(mini_kb, "selv.md", "---\ntitle: Selv\nx: &a [*a]\n---\n# Selv\n\nTekst.\n")
    write(mini_kb, "bombe.md", ALIAS_BOMB)
    write(mini_kb, "dyp.md", "---\ntitle: Dyp\nx: " + "[" * 60 + "]" * 60 + "\n---\nTekst.\n")
    write(mini_kb, "dypest.md", "---\ntitle: Dypest\nx: " + "[" * 3000 + "]" * 3000 + "\n---\nTekst.\n")
    write(mini_kb, "sitat.md", FRONT.format(title="Sitat") + "> " * 30 + "dypt\n")
    with open(mini_kb / "stor.md", "wb") as handle:
        handle.write(FRONT.format(title="Stor").encode())
        handle.write(b"Ord og flere ord i en lang linje.\n" * (FIFTY_MB // 34))
    outside = tmp_path / "secret.yaml"
    outside.write_text("- [passord, hemmelig]\n")
    os.symlink(outside, mini_kb / "_synonyms.yaml")
    return mini_kb


SKIPPED = [
    ("_synonyms.yaml", None, "is a link to a file outside the KB folder; not read"),
    ("bombe.md", 6, f"invalid YAML front matter: expands to more than {MAX_YAML_VALUES:,} values through aliases"),
    ("dyp.md", 3, "invalid YAML front matter: nested more than 50 levels deep"),
    # libyaml's parser stops at its own depth of 1,000 and says where; the pure-Python one recurses until stopped.
    ("dypest.md", 3, "invalid YAML front matter: exceeded maximum nesting depth") if yaml.__with_libyaml__
    else ("dypest.md", 1, "invalid YAML front matter: nested more than 50 levels deep"),
    ("liste.md", 7, "a numbered list starts at a number of 5,000 digits; at most 9 are read"),
    ("selv.md", 3, "invalid YAML front matter: an alias refers to the value that contains it"),
    ("sitat.md", 5, "block quotes nested more than 20 levels deep"),
]


def test_each_hostile_file_is_named_and_skipped_and_the_rest_indexed(hostile_kb, mini_settings, embedder):
    started = time.perf_counter()
    report = build_index(mini_settings, embedder=embedder)
    seconds = time.perf_counter() - started
    size = (hostile_kb / "stor.md").stat().st_size
    expected = [*SKIPPED,
                ("stor.md", None, f"{size:,} bytes; an article may have at most 1,048,576 (split it into several)")]
    assert sorted((p.path, p.line, p.message) for p in report.problems) == expected
    assert report.articles == 3
    assert IndexRoot(mini_settings.index_dir).open_current().manifest["counts"]["skipped"] == len(expected)
    assert seconds < 60, "the bounds keep a hostile KB from holding the build"


def test_kb_check_names_the_same_files(hostile_kb, runner):
    findings = {(f.path, f.line, f.message) for f in check_kb(hostile_kb) if f.level == "error"}
    assert ("liste.md", 7, "a numbered list starts at a number of 5,000 digits; at most 9 are read") in findings
    assert ("selv.md", 3, "invalid YAML front matter: an alias refers to the value that contains it") in findings
    result = runner.invoke(main, ["check", "--kb", str(hostile_kb)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "bombe.md:6: error: invalid YAML front matter: expands to more than 100,000 values" in result.output


def test_scripts_never_become_passage_or_reply_text(mini_kb, mini_settings, embedder):
    write(mini_kb, "skript.md", FRONT.format(title="Skript") + (
        "Trykk på knappen <script>stjelPassord()</script> for å fortsette.\n\n"
        "<script>\nvar hemmelig = 1;\n</script>\n\n"
        "```html\n<script>eksempel()</script>\n```\n\n"
        "## Svar til kunden\n\n### Chat\n\nHei! <script>alert(1)</script>Vi hjelper deg <b>gjerne</b>.\n"))
    build_index(mini_settings, embedder=embedder)
    version = IndexRoot(mini_settings.index_dir).open_current()
    text = "\n".join(row["text"] for row in version.article_passages("skript"))
    assert "stjelPassord" not in text and "hemmelig" not in text
    assert "Trykk på knappen" in text and "eksempel()" in text
    (reply,) = version.replies("skript")
    assert reply["text"] == "Hei! Vi hjelper deg gjerne."


def test_an_unclosed_html_block_is_a_warning(mini_kb, mini_settings, embedder):
    write(mini_kb, "uavsluttet.md", FRONT.format(title="Uavsluttet") + "Først.\n\n<div>\nInne\n\n## Resten\n\nTekst.\n")
    report = build_index(mini_settings, embedder=embedder)
    message = "<div> is never closed, so everything after it is raw HTML: not shown as Markdown and not searched"
    assert f"uavsluttet.md:7: {message}" in [str(warning) for warning in report.warnings]
    findings = [(f.line, f.level, f.message) for f in check_kb(mini_kb) if f.path == "uavsluttet.md"]
    assert (7, "warning", message) in findings
