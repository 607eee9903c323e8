"""Warnings shared by many articles, or about unchanged ones, are printed once per build, with a count;
the article just saved is still named in full, and --verbose lists every one."""

from __future__ import annotations

import json

from indexer.cli import main
from indexer.ingest.builder import build_index
from indexer.ingest.buildlog import SHOW_EACH, BuildWarning, summarise

ITPRO = "audience 'ITPro' is not one of customer, internal; treated as customer"


def _write_itpro_articles(kb, count: int) -> list[str]:
    names = []
    for number in range(count):
        name = f"itpro-{number:02d}.md"
        (kb / name).write_text(f"---\ntitle: Oppsett {number}\nlang: nb\naudience: ITPro\n---\n# Oppsett {number}\n\n"
                               f"Slik setter du opp tjeneste nummer {number} for kunden.\n", encoding="utf-8")
        names.append(name)
    return names


def test_unchanged_articles_warnings_are_summarised_once(mini_kb, mini_settings, embedder):
    names = _write_itpro_articles(mini_kb, 6)
    first_log: list[str] = []
    first = build_index(mini_settings, embedder=embedder, log=first_log.append)
    # Six fresh articles share the message: more than SHOW_EACH, so one line for them all.
    assert [line for line in first_log if ITPRO in line] == [
        f"warning: {ITPRO}: 6 articles (e.g. {', '.join(names[:3])}); kb index --verbose lists each"]
    assert sorted(str(w) for w in first.warnings if w.message == ITPRO) == [f"{name}: {ITPRO}" for name in names]

    edited = mini_kb / names[4]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nEn ny setning.\n", encoding="utf-8")
    second_log: list[str] = []
    second = build_index(mini_settings, embedder=embedder, log=second_log.append)
    assert (second.changed, second.unchanged) == (1, 8)
    # The saved article in full; the five unchanged ones, whose warnings the version kept, in one line.
    others = [name for name in names if name != names[4]]
    assert [line for line in second_log if ITPRO in line] == [
        f"warning: {names[4]}: {ITPRO}",
        f"warning: {ITPRO}: 5 other articles (e.g. {', '.join(others[:3])}); kb index --verbose lists each"]
    assert len([w for w in second.warnings if w.message == ITPRO]) == 6

    third_log: list[str] = []
    build_index(mini_settings, embedder=embedder, log=third_log.append, verbose=True)
    assert sorted(line for line in third_log if ITPRO in line) == [f"warning: {name}: {ITPRO}" for name in names]


def test_kb_index_verbose_and_json_list_every_warning(mini_kb, mini_settings, runner, embedder):
    names = _write_itpro_articles(mini_kb, SHOW_EACH + 2)
    arguments = ["index", "--kb", str(mini_kb), "--index", str(mini_settings.index_dir), "--quiet"]
    summarised = runner.invoke(main, arguments)
    assert summarised.exit_code == 0, summarised.output
    assert summarised.output.count(ITPRO) == 1 and f"{len(names)} articles" in summarised.output
    verbose = runner.invoke(main, [*arguments, "--verbose"])
    assert verbose.exit_code == 0, verbose.output
    assert all(f"{name}: {ITPRO}" in verbose.output for name in names)
    as_json = runner.invoke(main, [*arguments, "--json"])
    warnings = json.loads(as_json.stdout)["warnings"]
    assert sorted(w for w in warnings if ITPRO in w) == [f"{name}: {ITPRO}" for name in names]


def test_few_warnings_are_printed_each_and_lines_kept():
    warnings = [BuildWarning.parse("a.md", "line 7: <div> is never closed"),
                BuildWarning("b.md", "stale", None, fresh=False),
                BuildWarning("c.md", "stale", None, fresh=True)]
    assert warnings[0].line == 7 and str(warnings[0]) == "a.md:7: <div> is never closed"
    # A message any unchanged article holds is summarised even when few hold it.
    assert summarise(warnings) == ["a.md:7: <div> is never closed", "c.md: stale",
                                   "stale: 1 other article (e.g. b.md); kb index --verbose lists each"]
    assert summarise(warnings, verbose=True) == [str(warning) for warning in warnings]
