"""The files of a KB folder: which are articles (never following a path out of the folder), and its own YAML."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from ..errors import ArticleError
from . import yamlsafe

# Not articles: the editors' own notes, synonyms and other files that start with '_' or '.'.
SKIPPED_NAMES = {"readme.md", "license.md", "changelog.md", "contributing.md", "security.md"}


def list_article_files(kb_dir: Path) -> list[Path]:
    """Every `*.md` under `kb_dir` in a stable order, minus README-like files, `_*`/`.*` names and escapes."""
    root = Path(kb_dir).resolve()
    found: list[Path] = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(name for name in subdirs if not name.startswith(("_", ".")))
        for name in sorted(files):
            if not name.lower().endswith(".md") or name.startswith(("_", ".")):
                continue
            if name.lower() in SKIPPED_NAMES:
                continue
            path = Path(directory) / name
            # os.walk does not follow linked folders; a linked file must still point inside the KB.
            if path.is_symlink() and not is_inside(path, root):
                continue
            found.append(path)
    return found


def is_inside(path: Path, root: Path) -> bool:
    """True when `path`, with symlinks resolved, lies within `root`."""
    try:
        Path(path).resolve().relative_to(Path(root).resolve())
    except ValueError:
        return False
    return True


def read_kb_yaml(kb_dir: Path, name: str):
    """The data in one of the KB's own YAML files (`_synonyms.yaml`, ...), or None when there is none.

    ArticleError names the file, and the line of a YAML mistake, as for a broken article.
    """
    path = Path(kb_dir) / name
    if not path.is_file():
        return None
    if not is_inside(path, kb_dir):
        raise ArticleError(name, "is a link to a file outside the KB folder; not read")
    try:
        return yamlsafe.load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ArticleError(name, "not valid UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ArticleError(name, f"invalid YAML: {getattr(exc, 'problem', exc)}",
                           line=mark.line + 1 if mark else None) from None
