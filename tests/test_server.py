"""`kb serve` as agents meet it: a real gunicorn server on loopback answering the page and the API."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest

from .conftest import get


def test_server_answers_search(live_server):
    status, body = get(live_server + "/api/search?q=hvor+lenge+er+angreretten&k=3")
    payload = json.loads(body)
    assert status == 200
    assert payload["ok"] is True
    assert payload["results"][0]["article_id"] == "retur/angrerett"


def test_server_serves_the_page_and_static_files(live_server):
    status, body = get(live_server + "/")
    assert status == 200
    assert b'<input id="q"' in body
    status, script = get(live_server + "/static/app.js")
    assert status == 200
    assert b"/results?" in script


def test_server_errors_are_envelopes(live_server):
    with pytest.raises(urllib.error.HTTPError) as caught:
        get(live_server + "/api/search?q=")
    assert caught.value.code == 400
    assert json.loads(caught.value.read()) == {"ok": False, "error": "the question is empty", "status": 400}


def test_serve_refuses_a_missing_index(tmp_path):
    kb = Path(sys.executable).with_name("kb")
    result = subprocess.run([str(kb), "serve", "--index", str(tmp_path / "none")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert f"Error: no index in {tmp_path / 'none'}; build one with: kb index" in result.stderr
