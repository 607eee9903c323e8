"""Tuned constants live in one frozen object per concern, and every field says which bench set it and how.

A class whose name ends in `Tuning` is such an object; the comment above each field must name a bench
(or the test it was set on) and give a figure, so a newcomer can re-run the measurement before changing it.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re

import pytest

import indexer

CITATION = re.compile(r"\b(bench|tests)/\w+\.py\b")
FIGURE = re.compile(r"\d\.\d")


def tuning_objects() -> dict[str, object]:
    """Every module-level instance of a `*Tuning` class in the core, by module and name."""
    found = {}
    for info in pkgutil.walk_packages(indexer.__path__, prefix="indexer."):
        if info.name == "indexer.cli":
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if type(value).__name__.endswith("Tuning") and type(value).__module__ == info.name:
                found[f"{info.name}.{name}"] = value
    return found


def field_comments(cls: type) -> dict[str, str]:
    """The comment lines written directly above each field of a dataclass, joined."""
    comments, pending = {}, []
    for line in inspect.getsource(cls).splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("# "))
            continue
        match = re.match(r"(\w+)\s*:", stripped)
        if match:
            comments[match.group(1)] = " ".join(pending)
        pending = []
    return comments


def test_the_known_concerns_have_their_tuning():
    names = {name.rsplit(".", 1)[1] for name in tuning_objects()}
    assert {"FUSION", "KEYWORDS", "GAP_GROUPING", "CONVERSATION"} <= names


@pytest.mark.parametrize("name", sorted(tuning_objects()))
def test_tuning_is_frozen_and_cites_its_measurement(name):
    tuning = tuning_objects()[name]
    assert dataclasses.is_dataclass(tuning)
    fields = dataclasses.fields(tuning)
    assert fields, f"{name} has no fields"
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(tuning, fields[0].name, getattr(tuning, fields[0].name))
    comments = field_comments(type(tuning))
    for field in fields:
        comment = comments.get(field.name, "")
        # Fields set together (k1 and b) share the comment above the first of them.
        if not comment:
            earlier = [f.name for f in fields[: fields.index(field)] if comments.get(f.name)]
            comment = comments[earlier[-1]] if earlier else ""
        assert CITATION.search(comment), f"{name}.{field.name}: its comment names no bench or test"
        assert FIGURE.search(comment), f"{name}.{field.name}: its comment gives no measured figure"
