"""Synonyms and domain terms that editors keep in the KB (`_synonyms.yaml`), applied to questions.

The file maps a term to its equivalents; every entry is a group whose members all mean the same:

    angrerett: [angrefrist, right of withdrawal]
    bedrift: [firma, selskap, company]

When a question contains any member of a group (as whole words, case and accents ignored), the other
members are added to the keyword side of the search. The dense side keeps the question as typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ArticleError
from ..text.lexical import ANALYZER, STEMMERS, Analyzer
from .files import read_kb_yaml

SYNONYMS_FILE = "_synonyms.yaml"
MAX_GROUPS = 10_000
MAX_MEMBER_CHARS = 100


@dataclass
class Synonyms:
    """Groups of equivalent terms, matched on folded words."""

    groups: list[list[str]] = field(default_factory=list)

    def __post_init__(self):
        # Every member's stemmed form per language, computed once here instead of on every question.
        self._forms = [[[phrase_form(member, lang) for lang in STEMMERS] for member in group]
                       for group in self.groups]

    @classmethod
    def load(cls, kb_dir: Path) -> Synonyms:
        """The KB's synonyms file, or no synonyms when there is none; ArticleError names the line of a mistake."""
        data = read_kb_yaml(kb_dir, SYNONYMS_FILE)
        return cls.from_mapping(data or {})

    @classmethod
    def from_mapping(cls, data) -> Synonyms:
        """Groups from `{term: [equivalents]}`; a plain list of lists is accepted too."""
        if isinstance(data, dict):
            raw_groups = [[key, *(value if isinstance(value, list) else [value])] for key, value in data.items()]
        elif isinstance(data, list):
            raw_groups = [group for group in data if isinstance(group, list)]
        else:
            raise ArticleError(SYNONYMS_FILE, "expected a mapping of terms to lists of equivalents")
        groups = []
        for group in raw_groups[:MAX_GROUPS]:
            members = [str(member).strip()[:MAX_MEMBER_CHARS] for member in group if member is not None]
            members = [member for member in members if member]
            if len(members) > 1:
                groups.append(members)
        return cls(groups)

    def as_list(self) -> list[list[str]]:
        """For storing beside the index."""
        return self.groups

    def expand(self, question: str) -> list[str]:
        """Members of every group the question mentions, other than the words it already has.

        Words match after stemming in either language, so `erased` finds the group of `erase`.
        """
        forms = [phrase_form(question, lang) for lang in STEMMERS]
        additions: list[str] = []
        for group, members in zip(self.groups, self._forms, strict=True):
            mentioned = [any(contains_phrase(form, m) for form, m in zip(forms, variants, strict=True))
                         for variants in members]
            if any(mentioned):
                additions.extend(member for member, found in zip(group, mentioned, strict=True) if not found)
        return additions


def phrase_form(text: str, lang: str) -> str:
    """Folded, stemmed words without stopword removal (multi-word members keep their small words), padded
    with spaces so `contains_phrase` matches whole words only."""
    return " " + " ".join(ANALYZER.stem(word, lang) for word in Analyzer.words(text)) + " "


def contains_phrase(text: str, member: str) -> bool:
    """Whether the phrase form `member` occurs in the phrase form `text`, as whole words."""
    return bool(member.strip()) and member in text
