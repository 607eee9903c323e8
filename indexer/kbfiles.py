"""Which files of a KB folder are articles, without ever following a path out of the folder."""

from __future__ import annotations

import os
from pathlib import Path

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
