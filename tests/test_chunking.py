"""Passages follow sections, carry their heading path, fit the model, and keep lists together."""

from __future__ import annotations

import pytest

from indexer.kb.chunking import ChunkSettings, chunk_sections
from indexer.kb.markup import render_article


@pytest.fixture(scope="module")
def count(embedder):
    return embedder.count_tokens


def chunks(body: str, count, settings=None):
    sections = render_article(body, "Tittel", "a.md").sections
    return chunk_sections(sections, count, settings or ChunkSettings.for_limit(254))


def test_settings_follow_the_model_limit(embedder):
    settings = ChunkSettings.for_limit(embedder.token_limit)
    # e5 reads 512 tokens: less <s>, </s> and the two pieces of "passage:", 508 are left for the text.
    assert (embedder.max_seq_length, embedder.token_limit) == (512, 508)
    assert settings.max_tokens == 508
    assert settings.target_tokens == 160


def test_short_sections_become_one_passage_each(count):
    passages = chunks("# Tittel\n\nInnledning.\n\n## Frist\n\nFjorten dager.\n\n## Pris\n\n99 kr.\n", count)
    assert [(p.heading_path, p.anchor, p.text) for p in passages] == [
        (["Tittel"], "tittel", "Innledning."),
        (["Tittel", "Frist"], "frist", "Fjorten dager."),
        (["Tittel", "Pris"], "pris", "99 kr."),
    ]
    assert passages[1].embed_text == "Tittel > Frist\nFjorten dager."


def test_long_sections_are_split_within_the_bound(count):
    sentence = "Kunden kan returnere varen i butikk eller sende den med Posten innen fristen som gjelder. "
    passages = chunks("# Tittel\n\n## Lang\n\n" + sentence * 120, count)
    settings = ChunkSettings.for_limit(254)
    assert len(passages) > 5
    assert all(p.token_count <= settings.max_tokens for p in passages)
    assert all(p.heading_path == ["Tittel", "Lang"] for p in passages)
    assert " ".join(p.text for p in passages).split() == (sentence * 120).split()


def test_a_word_longer_than_the_bound_is_cut(count):
    passages = chunks("# Tittel\n\n" + " ".join(f"ord{i}xyz" for i in range(600)), count)
    assert all(p.token_count <= 254 for p in passages)
    assert len(passages) >= 4


def test_numbered_steps_stay_together(count):
    steps = "\n".join(f"{i}. Trykk på knappen nummer {i} og vent." for i in range(1, 9))
    intro = "Dette er en lang innledning om hvordan kunden går fram. " * 10
    passages = chunks(f"# Tittel\n\n## Slik gjør du\n\n{intro}\n\n{steps}\n", count)
    with_steps = [p for p in passages if "1. Trykk" in p.text]
    assert len(with_steps) == 1
    assert all(f"{i}. Trykk" in with_steps[0].text for i in range(1, 9))


def test_long_table_repeats_its_header(count):
    rows = "\n".join(f"| Tjeneste nummer {i} med en lang beskrivelse av hva som er inkludert | {i * 100} kr |"
                     for i in range(60))
    passages = chunks(f"# Tittel\n\n## Priser\n\n| Tjeneste | Pris |\n|---|---|\n{rows}\n", count)
    assert len(passages) > 1
    assert all(p.text.startswith("Tjeneste | Pris") for p in passages)
    assert all(p.token_count <= 254 for p in passages)


def test_every_sample_kb_passage_fits(sample_index):
    from indexer.store import IndexRoot

    version = IndexRoot(sample_index.index_dir).open_current()
    counts = [row["token_count"] for row in version.all_passages()]
    assert len(counts) > 200
    assert max(counts) <= version.manifest["chunking"]["max_tokens"]
