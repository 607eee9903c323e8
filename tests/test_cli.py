"""The `kb` command through click's runner and a real subprocess: output, JSON, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from indexer.cli import main


def test_every_command_has_help(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in main.commands.values():
        assert command.help, f"{command.name} has no help text"
        sub = runner.invoke(main, [command.name, "-h"])
        assert sub.exit_code == 0
        assert command.help.splitlines()[0] in sub.output


def test_help_does_not_import_torch():
    code = "import sys; from indexer.cli import main; sys.argv=['kb','--help']\n" \
           "try:\n    main()\nexcept SystemExit:\n    pass\n" \
           "print(sorted(m for m in ('torch','sentence_transformers','faiss','flask') if m in sys.modules))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip().splitlines()[-1] == "[]"


def test_index_then_search(runner, mini_kb, tmp_path, embedder):
    index_dir = tmp_path / "index"
    built = runner.invoke(main, ["index", "--kb", str(mini_kb), "--index", str(index_dir), "--quiet"])
    assert built.exit_code == 0, built.output
    assert built.output.startswith("3 added, 0 changed, 0 removed, 0 unchanged in ")

    found = runner.invoke(main, ["search", "--index", str(index_dir), "-k", "2", "hvor", "lenge", "angrerett"])
    assert found.exit_code == 0, found.output
    assert found.output.startswith(" 1. ")
    assert "Angrerett ved netthandel" in found.output.splitlines()[0]
    assert "[angrerett]" in found.output.splitlines()[0]


def test_search_json_shape(runner, sample_index):
    result = runner.invoke(main, ["search", "--index", str(sample_index.index_dir), "--json", "-k", "3",
                                  "kunden", "vil", "angre", "kjøpet"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["ok"] is True
    assert payload["query"] == "kunden vil angre kjøpet"
    assert len(payload["results"]) == 3
    first = payload["results"][0]
    for key in ("rank", "score", "article_id", "title", "section", "anchor", "lang", "path", "text", "metadata"):
        assert key in first
    assert [r["rank"] for r in payload["results"]] == [1, 2, 3]
    assert len({r["article_id"] for r in payload["results"]}) == 3


def test_index_reports_skipped_files_and_strict_fails(runner, mini_kb, tmp_path, embedder):
    (mini_kb / "broken.md").write_text("---\ntitle: [x\n---\nBody\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    lenient = runner.invoke(main, ["index", "--kb", str(mini_kb), "--index", str(index_dir), "-q"])
    assert lenient.exit_code == 0
    assert "skipped broken.md:3: invalid YAML front matter" in lenient.output
    assert "; 1 skipped" in lenient.output

    strict = runner.invoke(main, ["index", "--kb", str(mini_kb), "--index", str(index_dir), "-q", "--strict"])
    assert strict.exit_code == 1
    assert "Error: 1 article(s) have problems; nothing was indexed (--strict)" in strict.output


def test_index_json_report(runner, mini_kb, tmp_path, embedder):
    result = runner.invoke(main, ["index", "--kb", str(mini_kb), "--index", str(tmp_path / "i"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["ok"], report["articles"], report["added"], report["problems"]) == (True, 3, 3, [])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "--index", "{missing}", "angrerett"], "Error: no index in {missing}; build one with: kb index"),
        (["index", "--kb", "{missing}", "--index", "{missing}"], "Error: KB folder {missing} does not exist"),
    ],
)
def test_clear_errors(runner, tmp_path, args, message):
    missing = str(tmp_path / "missing")
    result = runner.invoke(main, [arg.format(missing=missing) for arg in args])
    assert result.exit_code == 1
    assert message.format(missing=missing) in result.output


def test_empty_and_oversized_questions(runner, sample_index):
    index = str(sample_index.index_dir)
    empty = runner.invoke(main, ["search", "--index", index, "   "])
    assert (empty.exit_code, empty.output.strip()) == (1, "Error: the question is empty")
    long = runner.invoke(main, ["search", "--index", index, "x" * 5000])
    assert long.exit_code == 1
    assert "Error: the question is 5,000 characters long; the limit is 4,000" in long.output


def test_an_unwritable_index_folder_is_a_clear_error(runner, mini_kb, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = runner.invoke(main, ["index", "--kb", str(mini_kb), "--index", str(blocker / "index"), "-q"])
    assert result.exit_code == 1
    assert f"Error: cannot write in the index folder {blocker / 'index'}: Not a directory" in result.output


ASSIST_MESSAGE = "Hei!\n\nHvor lang er angrefristen? Og kan jeg betale med delbetaling?\n\nMvh\nKari Nordmann\n"


def test_assist_reads_a_file_and_prints_needs_and_the_reply(runner, sample_index, tmp_path):
    message = tmp_path / "mail.txt"
    message.write_text(ASSIST_MESSAGE, encoding="utf-8")
    result = runner.invoke(main, ["assist", "--index", str(sample_index.index_dir), str(message)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Need 1 (nb): Hvor lang er angrefristen?"
    assert "[retur/angrerett]" in lines[1]
    assert "Need 2 (nb): Og kan jeg betale med delbetaling?" in lines
    assert "Values: customer_name Kari Nordmann" in lines
    assert "Reply (email, nb):" in lines
    assert "    Hei Kari Nordmann," in lines


def test_assist_json_from_standard_input(runner, sample_index):
    result = runner.invoke(main, ["assist", "--index", str(sample_index.index_dir), "--json", "--channel", "social",
                                  "-"], input=ASSIST_MESSAGE)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert [need["text"] for need in body["needs"]] == ["Hvor lang er angrefristen?",
                                                        "Og kan jeg betale med delbetaling?"]
    assert body["reply"]["channel"] == "social" and "Kari" not in body["reply"]["text"]


def test_assist_names_the_file_of_a_message_with_nothing_to_answer(runner, sample_index, tmp_path):
    message = tmp_path / "signature.txt"
    message.write_text("Mvh\nKari Nordmann\n", encoding="utf-8")
    result = runner.invoke(main, ["assist", "--index", str(sample_index.index_dir), str(message)])
    assert result.exit_code == 1
    assert result.output == (f"Error: {message}: the message has no question or request once greetings, "
                             "signatures and quoted mail are set aside\n")
