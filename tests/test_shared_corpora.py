"""Real help-centre Markdown from ../shared/data/kb-*: every file parses (or is refused for truly broken YAML).

Rendering is checked on every third file: Python-Markdown takes ~20 ms an article, and all four corpora whole
would cost the suite over a minute for little more than the sample finds.
"""

from __future__ import annotations

import pytest
import yaml

from indexer.errors import ArticleError
from indexer.kb.articles import _FRONT_MATTER, read_article
from indexer.kb.chunking import ChunkSettings, chunk_sections
from indexer.kb.files import list_article_files
from indexer.kb.markup import render_article

from .conftest import SHARED_DATA

CORPORA = {
    "ms-officedocs-support": ("kb-en/ms-officedocs-support", "en"),
    "ms-business-central-en": ("kb-en/ms-business-central-en", "en"),
    "ms-alchemyinsights-nb-NO": ("kb-no/ms-alchemyinsights-nb-NO", "nb"),
    "ms-business-central-nb-no": ("kb-no/ms-business-central-nb-no", "nb"),
}

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "kb-en").is_dir(), reason=f"shared corpora not found at {SHARED_DATA} (outside a CI checkout)"
)


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_every_file_parses_and_a_sample_renders(name):
    relative, lang = CORPORA[name]
    root = (SHARED_DATA / relative).resolve()
    files = list_article_files(root)
    assert len(files) > 900
    parsed = 0
    for number, path in enumerate(files):
        try:
            article = read_article(path, root, default_lang=lang)
        except ArticleError as exc:
            # Only front matter that YAML itself rejects may be refused, and the error must say where.
            assert exc.message.startswith("invalid YAML front matter"), str(exc)
            assert exc.line is not None and exc.line >= 2
            with pytest.raises(yaml.YAMLError):
                yaml.safe_load(_FRONT_MATTER.match(path.read_text(encoding="utf-8-sig")).group(1))
            continue
        assert article.title.strip()
        parsed += 1
        if number % 3 == 0:
            assert "<script" not in render_article(article.body, article.title, article.path).html
    assert parsed >= len(files) - 3


def test_norwegian_locale_is_read_from_front_matter():
    root = (SHARED_DATA / "kb-no/ms-alchemyinsights-nb-NO").resolve()
    files = list_article_files(root)[:200]
    langs = {read_article(path, root, default_lang="en").lang for path in files}
    assert langs == {"nb"}


def test_real_passages_fit_the_model(embedder):
    settings = ChunkSettings.for_limit(embedder.token_limit)
    root = (SHARED_DATA / "kb-en/ms-officedocs-support").resolve()
    files = list_article_files(root)[::25]
    counts = []
    for path in files:
        article = read_article(path, root, default_lang="en")
        sections = render_article(article.body, article.title, article.path).sections
        counts.extend(p.token_count for p in chunk_sections(sections, embedder.count_tokens, settings))
    assert len(counts) > 300
    assert max(counts) <= settings.max_tokens


def test_english_articles_without_a_language_key_are_told_from_their_text():
    """ms-officedocs-support declares no language: with the KB default bokmål, its text still decides."""
    root = (SHARED_DATA / "kb-en/ms-officedocs-support").resolve()
    files = list_article_files(root)[::10]
    langs = [read_article(path, root, default_lang="nb").lang for path in files]
    assert len(langs) > 200
    assert langs.count("en") == len(langs)
