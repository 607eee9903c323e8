"""The schema of an index version's `meta.sqlite`, and the names that say which format a version is in.

The writer (lifecycle) creates these tables and the reads query them; nothing outside the store package
writes SQL over an index version.
"""

from __future__ import annotations

import re

# Bumped whenever a version's files or tables change; an index in another format is refused, not misread.
FORMAT_VERSION = 4
# Older formats whose passages and vectors a build may still reuse (format 3 lacks the sentences table: a
# build from it cuts and embeds the sentences of the articles it keeps, and nothing else).
REUSABLE_FORMATS = (3, FORMAT_VERSION)

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    lang TEXT NOT NULL,
    category TEXT,
    audience TEXT NOT NULL,
    owner TEXT,
    updated TEXT,
    review_by TEXT,
    products TEXT NOT NULL,
    tags TEXT NOT NULL,
    metadata TEXT NOT NULL,
    html TEXT NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles(id),
    ordinal INTEGER NOT NULL,
    heading_path TEXT NOT NULL,
    anchor TEXT NOT NULL,
    text TEXT NOT NULL,
    token_count INTEGER NOT NULL,
    terms TEXT NOT NULL  -- analysed keyword terms, space-separated: a rebuild reuses them as it reuses vectors
);
CREATE INDEX passages_by_article ON passages(article_id, ordinal);
CREATE TABLE replies (
    article_id TEXT NOT NULL REFERENCES articles(id),
    lang TEXT NOT NULL,
    channel TEXT NOT NULL,
    text TEXT NOT NULL,
    line INTEGER NOT NULL,
    PRIMARY KEY (article_id, lang, channel)
);
"""

# Candidate extract sentences, keyed by their article and passage ordinal (which a kept article keeps when
# its passages move to new ids), each with its vector as float16 bytes and its keyword terms (space-separated):
# a search compares them with the question without embedding or analysing anything. `terms` is NULL in
# versions written before it was kept; a build from one fills it in.
SENTENCES_SCHEMA = """
CREATE TABLE IF NOT EXISTS sentences (
    article_id TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BLOB NOT NULL,
    terms TEXT,
    PRIMARY KEY (article_id, ordinal, position)
) WITHOUT ROWID;
"""
SENTENCE_VECTOR_DTYPE = "<f2"

ARTICLE_COLUMNS = (
    "id", "path", "title", "lang", "category", "audience", "owner", "updated", "review_by",
    "products", "tags", "metadata", "html", "content_hash",
)


# A version's folder name: its build time and a random suffix (see lifecycle.new_version_name).
VERSION_NAME = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")
