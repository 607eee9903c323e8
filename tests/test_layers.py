"""Imports point down: the core never imports the web edge, and no package has an import cycle among its parts.

grimp reads every import statement, those inside functions included (a cycle hidden by a late import is
still a cycle). A package is "locally acyclic" when no two of its children import each other, directly or
through their descendants; every package in `indexer` and `webapp` being so also rules out module cycles.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The CLI is an edge like the web app: it may start the server, nothing else in the core may.
EDGES = {"indexer.cli"}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("indexer", "webapp", cache_dir=None)


def packages(graph) -> list[str]:
    return sorted(module for module in graph.modules if graph.find_children(module))


def test_the_core_never_imports_the_web_edge_or_the_cli(graph):
    core = (graph.find_descendants("indexer") | {"indexer"}) - EDGES
    forbidden = graph.find_descendants("webapp") | {"webapp"} | EDGES
    upward = sorted(
        f"{importer} imports {imported} (line {detail['line_number']})"
        for importer in core
        for imported in graph.find_modules_directly_imported_by(importer) & forbidden
        for detail in graph.get_import_details(importer=importer, imported=imported)
    )
    assert upward == []


def test_the_check_sees_the_cli_import_the_web_edge(graph):
    """The rule above can bite: the CLI starts the server from webapp, and the graph holds that import."""
    assert graph.find_modules_directly_imported_by("indexer.cli") & graph.find_descendants("webapp")


def test_no_package_has_an_import_cycle_among_its_parts(graph):
    assert {"indexer", "indexer.kb", "indexer.retrieval", "indexer.store", "webapp"} <= set(packages(graph))
    cycles = {
        package: sorted(f"{importer} -> {imported}" for importer, imported in graph.nominate_cycle_breakers(package))
        for package in packages(graph)
    }
    assert {package: breakers for package, breakers in cycles.items() if breakers} == {}


def test_a_cycle_is_found_where_there_is_one(tmp_path, monkeypatch):
    """The cycle check works on a package that has one: two siblings importing each other in functions."""
    package = tmp_path / "cyclic"
    (package / "low").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "low" / "__init__.py").write_text("")
    (package / "low" / "a.py").write_text("def f():\n    from ..high import b\n")
    (package / "high.py").write_text("from .low import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cyclic = grimp.build_graph("cyclic", cache_dir=None)
    assert cyclic.nominate_cycle_breakers("cyclic")


@pytest.mark.parametrize("package", ["indexer", "webapp"])
def test_every_package_says_what_it_owns(package):
    """Each `__init__` opens with a docstring: a newcomer reads what the package owns before its modules."""
    root = Path(importlib.util.find_spec(package).origin).parent
    silent = [str(init.relative_to(root.parent)) for init in sorted(root.rglob("__init__.py"))
              if not ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))]
    assert silent == []


# A statement over one of an index version's tables (see indexer/store/schema.py).
INDEX_SQL = re.compile(r"\b(?:SELECT|INSERT|UPDATE|DELETE)\b.*?\b(?:FROM|INTO|UPDATE|JOIN)\s+"
                       r"(?:passages|articles|replies)\b")


def sql_over_index_versions(root: Path) -> dict[str, list[int]]:
    """Per file below `root`, the lines that hold SQL over an index version's tables."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        lines = [number for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if INDEX_SQL.search(line)]
        if lines:
            found[str(path.relative_to(ROOT))] = lines
    return found


def test_only_the_store_writes_sql_over_an_index_version():
    """The store owns the schema: builder, search, suggest, the web app, tests and benches call its named reads."""
    found = {}
    for folder in ("indexer", "webapp", "tests", "bench"):
        found.update(sql_over_index_versions(ROOT / folder))
    store = {path for path in found if path.startswith("indexer/store/")}
    assert store, "the pattern finds the store's own statements"
    assert {path: lines for path, lines in found.items() if path not in store and path != "tests/test_layers.py"} == {}
