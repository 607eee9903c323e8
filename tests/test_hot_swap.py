"""A running app picks up a newly published index without a restart, and never mixes two versions."""

from __future__ import annotations

import gc
import threading
import time

from indexer.ingest.builder import build_index
from indexer.store.lifecycle import KEEP_VERSIONS, new_version_name
from indexer.store.schema import VERSION_NAME
from webapp import create_app


def test_new_version_is_served_without_restart(mini_settings, mini_kb, embedder):
    first = build_index(mini_settings, embedder=embedder).version
    client = create_app(mini_settings, {"RELOAD_SECONDS": 0}).test_client()
    assert client.get("/api/health").get_json()["index"]["version"] == first
    before = client.get("/api/search?q=kundeklubb medlemsrabatt&k=1").get_json()
    assert before["results"][0]["article_id"] != "kundeklubb"

    (mini_kb / "kundeklubb.md").write_text(
        "---\ntitle: Kundeklubben\nlang: nb\n---\n# Kundeklubben\n\nMedlemsrabatt i kundeklubben er 10 prosent.\n",
        encoding="utf-8",
    )
    second = build_index(mini_settings, embedder=embedder).version
    after = client.get("/api/search?q=kundeklubb medlemsrabatt&k=1").get_json()
    assert after["index_version"] == second
    assert after["results"][0]["article_id"] == "kundeklubb"
    assert client.get("/api/health").get_json()["index"]["version"] == second
    assert second in client.get("/").get_data(as_text=True)


def test_searches_during_a_swap_all_succeed_on_one_version(mini_settings, mini_kb, embedder):
    initial = build_index(mini_settings, embedder=embedder).version
    app = create_app(mini_settings, {"RELOAD_SECONDS": 0})
    versions: list[str] = []
    failures: list[int] = []
    mixed: list[dict] = []
    stop = threading.Event()

    def ask():
        client = app.test_client()
        while not stop.is_set():
            response = client.get("/api/search?q=angrerett&k=3")
            if response.status_code != 200:
                failures.append(response.status_code)
                continue
            payload = response.get_json()
            versions.append(payload["index_version"])
            # Collected, not asserted here: an assert in a thread would only warn.
            if len({r["article_id"] for r in payload["results"]}) != len(payload["results"]):
                mixed.append(payload)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    built = []
    for n in range(3):
        (mini_kb / f"ny-{n}.md").write_text(f"# Ny {n}\n\nAngrerett tekst {n}.\n", encoding="utf-8")
        built.append(build_index(mini_settings, embedder=embedder).version)
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == []
    assert mixed == []
    assert versions and set(versions) <= {initial, *built}
    assert app.test_client().get("/api/search?q=angrerett").get_json()["index_version"] == built[-1]


def test_a_broken_publication_keeps_the_old_version(mini_settings, embedder):
    first = build_index(mini_settings, embedder=embedder).version
    client = create_app(mini_settings, {"RELOAD_SECONDS": 0}).test_client()
    assert client.get("/api/search?q=angrerett").get_json()["index_version"] == first
    (mini_settings.index_dir / "CURRENT").write_text("20990101T000000Z-gone00\n", encoding="utf-8")
    response = client.get("/api/search?q=angrerett")
    assert response.status_code == 200
    assert response.get_json()["index_version"] == first


def _publish(mini_settings, mini_kb, embedder, count: int) -> list[str]:
    built = []
    for n in range(count):
        (mini_kb / f"publisert-{n}.md").write_text(f"# Publisert {n}\n\nAngrerett tekst {n}.\n", encoding="utf-8")
        built.append(build_index(mini_settings, embedder=embedder).version)
    return built


def test_a_version_a_server_still_serves_is_never_removed(mini_settings, mini_kb, embedder):
    first = build_index(mini_settings, embedder=embedder).version
    app = create_app(mini_settings, {"RELOAD_SECONDS": 3600})
    assert app.test_client().get("/api/search?q=angrerett").get_json()["index_version"] == first
    # More builds than are kept, while the app has not looked for a new version yet (a worker sitting idle).
    _publish(mini_settings, mini_kb, embedder, KEEP_VERSIONS + 1)
    assert (mini_settings.index_dir / "versions" / first).is_dir()
    # A thread that has not read the version before opens its own SQLite handle on it.
    answers = []
    thread = threading.Thread(target=lambda: answers.append(app.test_client().get("/api/search?q=angrerett")))
    thread.start()
    thread.join()
    assert answers[0].status_code == 200, answers[0].get_json()
    assert answers[0].get_json()["index_version"] == first


def test_a_version_is_removed_once_no_server_holds_it(mini_settings, mini_kb, embedder):
    first = build_index(mini_settings, embedder=embedder).version
    client = create_app(mini_settings, {"RELOAD_SECONDS": 0}).test_client()
    assert client.get("/api/search?q=angrerett").get_json()["index_version"] == first
    second = _publish(mini_settings, mini_kb, embedder, 1)[0]
    assert client.get("/api/search?q=angrerett").get_json()["index_version"] == second
    gc.collect()
    _publish(mini_settings, mini_kb, embedder, KEEP_VERSIONS)
    versions = mini_settings.index_dir / "versions"
    assert not (versions / first).exists()
    assert (versions / second).is_dir()


def test_versions_built_in_one_second_sort_in_the_order_they_were_built():
    names = []
    for _ in range(200):
        names.append(new_version_name())
        time.sleep(0.00002)  # builds are never closer than this: each holds the build lock
    assert names == sorted(names)
    assert all(VERSION_NAME.match(name) for name in names)
