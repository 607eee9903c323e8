"""`kb watch`: a saved article goes live by itself; a broken one is reported and the rest still goes live."""

from __future__ import annotations

import threading
import time

from indexer.ingest.watch import watch
from indexer.retrieval.search import Searcher
from indexer.store import IndexRoot

WAIT_SECONDS = 60


def wait_for(condition, seconds=WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_saved_articles_go_live(mini_settings, mini_kb, embedder):
    reports, errors = [], []
    stop = threading.Event()
    thread = threading.Thread(
        target=watch,
        args=(mini_settings, lambda report, error: (reports.append(report) if report else errors.append(error))),
        kwargs={"stop": stop, "debounce": 0.2, "embedder": embedder},
    )
    thread.start()
    try:
        assert wait_for(lambda: len(reports) >= 1)
        root = IndexRoot(mini_settings.index_dir)

        (mini_kb / "kundeklubb.md").write_text("# Kundeklubben\n\nMedlemsrabatt er 10 prosent.\n", encoding="utf-8")
        # A build may start between the file's creation and its first write; the one after it indexes it.
        assert wait_for(lambda: root.open_current().article("kundeklubb") is not None)
        answer = Searcher(mini_settings, embedder).search("medlemsrabatt kundeklubb", k=1)
        assert answer.results[0]["article_id"] == "kundeklubb"

        (mini_kb / "halvferdig.md").write_text("---\ntitle: [ikke ferdig\n", encoding="utf-8")
        (mini_kb / "ny.md").write_text("# Ny artikkel\n\nOm gavekort og saldo.\n", encoding="utf-8")
        assert wait_for(lambda: any(r.added and any(p.path == "halvferdig.md" for p in r.problems)
                                    for r in reports[2:]))
        latest = IndexRoot(mini_settings.index_dir).open_current()
        assert latest.article("ny") is not None
        assert latest.article("halvferdig") is None
    finally:
        stop.set()
        thread.join(timeout=30)
    assert errors == []
    assert not thread.is_alive()


def test_a_folder_moved_out_of_the_kb_leaves_the_index(mini_settings, mini_kb, embedder, tmp_path):
    import shutil

    reports = []
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(mini_settings, lambda report, error: reports.append(report)),
                              kwargs={"stop": stop, "debounce": 0.2, "embedder": embedder})
    thread.start()
    try:
        root = IndexRoot(mini_settings.index_dir)
        assert wait_for(lambda: len(reports) >= 1)
        assert root.open_current().article("guides/tv-no-signal.en") is not None
        # Moving a folder out produces one event for the folder, none for the articles in it.
        shutil.move(str(mini_kb / "guides"), str(tmp_path / "archived-guides"))
        assert wait_for(lambda: root.open_current().article("guides/tv-no-signal.en") is None)
    finally:
        stop.set()
        thread.join(timeout=30)
