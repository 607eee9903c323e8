"""Rebuild the index when editors save articles: watchdog events, a short debounce, then `build_index`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from ..config import Settings
from ..embedding import Embedder, embedder_for
from ..errors import KBError
from .builder import BuildReport, build_index

# Editors' tools write a file in several steps; wait this long after the last event before building.
DEBOUNCE_SECONDS = 0.5
# How often the loop looks for saved files and for the stop signal.
POLL_SECONDS = 0.2
# A rebuild waits this long for a `kb index` already running on the same index before it gives up.
LOCK_WAIT_SECONDS = 60
_RELEVANT_SUFFIXES = (".md", ".yaml", ".yml")
_EDITOR_NOISE = ("~", ".swp", ".swx", ".tmp", ".part")


class _Changes(FileSystemEventHandler):
    """Remembers when the last relevant change happened."""

    def __init__(self):
        super().__init__()
        self.last_change = 0.0
        self.pending = threading.Event()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory and event.event_type != "deleted":
            return
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        if any(_relevant(str(path)) for path in paths if path):
            self.last_change = time.monotonic()
            self.pending.set()


def _relevant(path: str) -> bool:
    name = Path(path).name
    return name.endswith(_RELEVANT_SUFFIXES) and not name.endswith(_EDITOR_NOISE) and not name.startswith(".#")


def watch(
    settings: Settings,
    on_build: Callable[[BuildReport | None, KBError | None], None],
    stop: threading.Event | None = None,
    debounce: float = DEBOUNCE_SECONDS,
    embedder: Embedder | None = None,
) -> None:
    """Build now, then after every burst of changes until `stop` is set; a failed build keeps the live index."""
    stop = stop or threading.Event()
    embedder = embedder or embedder_for(settings)
    changes = _Changes()
    observer = Observer()
    observer.schedule(changes, str(Path(settings.kb_dir)), recursive=True)
    observer.start()
    try:
        _build(settings, embedder, on_build)
        while not stop.is_set():
            if not changes.pending.wait(timeout=POLL_SECONDS):
                continue
            quiet_for = time.monotonic() - changes.last_change
            if quiet_for < debounce:
                stop.wait(debounce - quiet_for)
                continue
            changes.pending.clear()
            if time.monotonic() - changes.last_change < debounce:
                changes.pending.set()  # a save came in since the check above: wait for quiet again
                continue
            _build(settings, embedder, on_build)
    finally:
        observer.stop()
        observer.join()


def _build(settings: Settings, embedder: Embedder, on_build) -> None:
    try:
        report = build_index(settings, embedder=embedder, lock_wait=LOCK_WAIT_SECONDS)
    except KBError as exc:
        on_build(None, exc)
        return
    on_build(report, None)
