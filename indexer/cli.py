"""The `kb` command: index the KB, search it, serve the agent page.

The library does the work; each command parses options, calls it, and prints. Heavy imports (torch,
faiss, Flask) happen inside the commands so `kb --help` stays instant.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap

import click

from . import __version__

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def index_option(func):
    """--index DIR, also from KB_INDEX_DIR."""
    return click.option(
        "--index", "index_dir", envvar="KB_INDEX_DIR", default=".kb-index", show_default=True,
        type=click.Path(file_okay=False), help="Index directory (env KB_INDEX_DIR).",
    )(func)


def model_option(func):
    """--model NAME, also from KB_MODEL."""
    return click.option(
        "--model", envvar="KB_MODEL", default=None,
        help="sentence-transformers model name or local path (env KB_MODEL; default: bundled all-MiniLM-L6-v2).",
    )(func)


def settings_for(**overrides):
    """Settings from the environment with the command's options on top."""
    from .config import Settings

    return Settings.from_env(**overrides)


def fail(message: str) -> None:
    """Print `Error: message` and exit 1."""
    raise click.ClickException(message)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="kb")
def main():
    """Knowledge-base assistant for customer-service agents.

    Index Markdown articles from a KB folder, then search them from the terminal or serve the agent page.
    """


@main.command("index")
@click.option("--kb", "kb_dir", envvar="KB_DIR", default="kb", show_default=True,
              type=click.Path(file_okay=False), help="KB folder with Markdown articles (env KB_DIR).")
@index_option
@model_option
@click.option("--strict", is_flag=True, help="Fail the build when any article has a problem.")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def index_command(kb_dir, index_dir, model, strict, as_json, quiet):
    """Build the index for a KB folder and switch it in atomically.

    Unchanged articles keep their vectors; changed and new ones are embedded. Articles with problems are
    named with file and line, skipped, and counted in the summary (with --strict the build fails instead).
    The live index is never touched until the new one is complete.
    """
    from .builder import build_index
    from .errors import KBError

    settings = settings_for(kb_dir=kb_dir, index_dir=index_dir, model=model)
    try:
        report = build_index(settings, strict=strict, progress=not quiet and not as_json,
                             log=lambda message: click.echo(message, err=True))
    except KBError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps({"ok": True, **report.as_dict()}, ensure_ascii=False, indent=2))
        return
    click.echo(report.summary())


@main.command("search")
@index_option
@model_option
@click.option("-k", "k", type=int, default=5, show_default=True, help="Number of articles to return.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object, as /api/search returns it.")
@click.argument("question", nargs=-1, required=True)
def search_command(index_dir, model, k, as_json, question):
    """Print the passages that best answer QUESTION, best article first."""
    from .errors import KBError
    from .search import Searcher

    query = " ".join(question)
    try:
        response = Searcher(settings_for(index_dir=index_dir, model=model)).search(query, k=k)
    except KBError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(response.as_dict(), ensure_ascii=False, indent=2))
        return
    if not response.results:
        click.echo("No results.")
    for result in response.results:
        heading = result["title"] + (f" › {result['section']}" if result["section"] else "")
        click.echo(f"{result['rank']:>2}. {result['score']:.3f}  {heading}  [{result['article_id']}]")
        click.echo(textwrap.indent(textwrap.fill(result["text"], width=96), "    "))
        click.echo()


@main.command("serve")
@index_option
@model_option
@click.option("--host", envvar="KB_HOST", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", envvar="KB_PORT", type=int, default=5000, show_default=True, help="Port to listen on.")
@click.option("--workers", envvar="KB_WORKERS", type=int, default=2, show_default=True,
              help="Worker processes, each with its own copy of the model.")
def serve_command(index_dir, model, host, port, workers):
    """Serve the agent page and the JSON API with gunicorn.

    Each worker runs its model on one thread: on a small machine, several workers each with one thread
    serve far more requests than threads fighting over the same cores.
    """
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    from .errors import KBError
    from .store import IndexRoot

    settings = settings_for(index_dir=index_dir, model=model)
    try:
        version = IndexRoot(settings.index_dir).open_current()
        version.check_model(settings.model)
    except KBError as exc:
        fail(str(exc))
    from .serving import run_server

    click.echo(f"Serving index {version.name} on http://{host}:{port}/ with {workers} worker(s)", err=True)
    run_server(
        {"INDEX_DIR": str(settings.index_dir), "MODEL": settings.model, "WARM_UP": True},
        host=host, port=port, workers=workers,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
