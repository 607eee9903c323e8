"""The `kb` command: index the KB, search it, serve the agent page.

The library does the work; each command parses options, calls it, and prints. Heavy imports (torch,
faiss, Flask) happen inside the commands so `kb --help` stays instant.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import textwrap

import click

from . import __version__
from .config import DEFAULT_RESULTS, RESULTS_PER_NEED, SERVING
from .vocabulary import AUDIENCES, CHANNELS, EDITOR_SECTIONS, ERROR, INFO, LANGUAGES, MODES, REASON_SECTIONS, WARNING

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
        help="model: multilingual-e5-small (bundled, the default), all-MiniLM-L6-v2 (bundled) or any "
        "sentence-transformers model by name or local path (env KB_MODEL).",
    )(func)


def kb_option(help_text: str, exists: bool = True):
    """--kb DIR, also from KB_DIR."""
    return click.option("--kb", "kb_dir", envvar="KB_DIR", default="kb", show_default=True,
                        type=click.Path(file_okay=False, exists=exists), help=f"{help_text} (env KB_DIR).")


def mode_option(help_text: str):
    """--mode hybrid|dense|lexical, for the commands that search."""
    return click.option("--mode", type=click.Choice(MODES), default=MODES[0], show_default=True, help=help_text)


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
@kb_option("KB folder with Markdown articles", exists=False)
@index_option
@model_option
@click.option("--strict", is_flag=True, help="Fail the build when any article has a problem.")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("-v", "--verbose", is_flag=True, help="Every warning for every article, not one line per message.")
def index_command(kb_dir, index_dir, model, strict, as_json, quiet, verbose):
    """Build the index for a KB folder and switch it in atomically.

    Unchanged articles keep their vectors; changed and new ones are embedded. Articles with problems are
    named with file and line, skipped, and counted in the summary (with --strict the build fails instead).
    A warning shared by many articles, or about an unchanged one, is printed once with a count (all of
    them with --verbose or --json). The live index is never touched until the new one is complete.
    """
    from .errors import KBError
    from .ingest.builder import build_index

    settings = settings_for(kb_dir=kb_dir, index_dir=index_dir, model=model)
    try:
        report = build_index(settings, strict=strict, progress=not quiet and not as_json, verbose=verbose,
                             log=lambda message: click.echo(message, err=True))
    except KBError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps({"ok": True, **report.as_dict()}, ensure_ascii=False, indent=2))
        return
    click.echo(report.summary())


@main.command("watch")
@kb_option("KB folder to watch")
@index_option
@model_option
@click.option("--debounce", type=float, default=0.5, show_default=True,
              help="Seconds of quiet after the last save before rebuilding.")
def watch_command(kb_dir, index_dir, model, debounce):
    """Rebuild the index whenever an article is saved, until interrupted.

    Builds once at the start, then after each burst of changes; a running `kb serve` picks the new
    version up within a second. A broken article is reported and skipped, the rest goes live.
    """
    from .ingest.watch import watch

    def report(result, error):
        if error is not None:
            click.echo(f"Error: {error}", err=True)
            return
        for problem in result.problems:
            click.echo(f"skipped {problem}", err=True)
        for line in result.warning_lines():
            click.echo(f"warning: {line}", err=True)
        click.echo(result.summary())

    settings = settings_for(kb_dir=kb_dir, index_dir=index_dir, model=model)
    click.echo(f"Watching {kb_dir} (Ctrl-C to stop)", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        watch(settings, report, debounce=debounce)


@main.command("check")
@kb_option("KB folder to check")
@click.option("--default-lang", envvar="KB_DEFAULT_LANG", default="nb", show_default=True,
              help="Language of articles that name none.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as a JSON list.")
def check_command(kb_dir, default_lang, as_json):
    """Lint the KB for editors and for CI on the KB repository.

    Checks front matter against the schema, duplicate ids and titles, links to missing articles or
    sections, review dates passed or due, internal articles linked from customer-facing ones, and the
    same text pasted into two articles. Prints one line per finding, `path:line: level: message`, and
    exits 1 when any is an error. Needs no index and no model.
    """
    from .ingest.checks import check_kb

    findings = check_kb(kb_dir, default_lang)
    errors = sum(1 for finding in findings if finding.level == ERROR)
    if as_json:
        click.echo(json.dumps({"ok": errors == 0, "findings": [f.as_dict() for f in findings]},
                              ensure_ascii=False, indent=2))
    else:
        for finding in findings:
            click.echo(str(finding))
        levels = [finding.level for finding in findings]
        click.echo(f"{errors} error(s), {levels.count(WARNING)} warning(s), {levels.count(INFO)} notice(s)",
                   err=True)
    if errors:
        raise SystemExit(1)


@main.command("search")
@index_option
@model_option
@click.option("-k", "k", type=int, default=DEFAULT_RESULTS, show_default=True, help="Number of articles to return.")
@click.option("--lang", type=click.Choice(LANGUAGES), help="Only articles in this language.")
@click.option("--category", help="Only articles in this category.")
@click.option("--product", help="Only articles about this product code.")
@click.option("--audience", type=click.Choice(AUDIENCES), help="Only customer-facing or internal.")
@mode_option("Retrieval: keywords and meaning fused, or one side alone.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object, as /api/search returns it.")
@click.argument("question", nargs=-1, required=True)
def search_command(index_dir, model, k, lang, category, product, audience, mode, as_json, question):
    """Print the passages that best answer QUESTION, best article first."""
    from .errors import KBError
    from .retrieval.search import Searcher

    query = " ".join(question)
    filters = {"lang": lang, "category": category, "product": product, "audience": audience}
    try:
        searcher = Searcher(settings_for(index_dir=index_dir, model=model))
        response = searcher.search(query, k=k, mode=mode, filters=filters)
    except KBError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps({"ok": True, **response.as_dict()}, ensure_ascii=False, indent=2))
        return
    if not response.results:
        click.echo("No results.")
    for result in response.results:
        heading = result["title"] + (f" › {result['section']}" if result["section"] else "")
        click.echo(f"{result['rank']:>2}. {result['score']:.3f}  {heading}  [{result['article_id']}]")
        lines = (textwrap.fill(line, width=96) for line in result["text"].splitlines())
        click.echo(textwrap.indent("\n".join(lines), "    "))
        click.echo()


@main.command("assist")
@index_option
@model_option
@click.option("--channel", type=click.Choice(CHANNELS), default="email",
              show_default=True, help="Channel the reply is written for.")
@click.option("--lang", type=click.Choice(LANGUAGES), help="Language of the message (detected by default).")
@click.option("-k", "k", type=int, default=RESULTS_PER_NEED, show_default=True, help="Articles per need.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object, as /api/assist returns it.")
@click.argument("message_file", type=click.File("r", encoding="utf-8"), default="-", required=False)
def assist_command(index_dir, model, channel, lang, k, as_json, message_file):
    """Answer a pasted customer message: every need searched, one reply for them all.

    Reads MESSAGE_FILE, or standard input for - (the default). Greetings, signatures and quoted mail are
    set aside; each question or request is searched on its own; order numbers and the customer's name
    fill the reply, which answers every need at once.
    """
    from .assist import Assistant, AssistRequest
    from .errors import KBError
    from .retrieval.search import Searcher

    try:
        text = message_file.read()
        request = AssistRequest.from_json({"text": text, "channel": channel, "lang": lang, "k": k})
        searcher = Searcher(settings_for(index_dir=index_dir, model=model))
        response = Assistant(searcher).assist(request)
    except KBError as exc:
        fail(f"{getattr(message_file, 'name', '-')}: {exc}")
    except UnicodeDecodeError:
        fail(f"{getattr(message_file, 'name', '-')}: not UTF-8 text")
    if as_json:
        click.echo(json.dumps({"ok": True, **response.as_dict()}, ensure_ascii=False, indent=2))
        return
    for number, need in enumerate(response.needs, start=1):
        click.echo(f"Need {number} ({need.lang}): {need.text}")
        for result in need.search.results:
            heading = result["title"] + (f" › {result['section']}" if result["section"] else "")
            click.echo(f"   {result['rank']}. {result['score']:.3f}  {heading}  [{result['article_id']}]")
        click.echo()
    if response.values:
        shown = {kind: ", ".join(value) if isinstance(value, list) else value
                 for kind, value in response.values.items()}
        click.echo("Values: " + "; ".join(f"{kind} {value}" for kind, value in shown.items()))
        click.echo()
    click.echo(f"Reply ({response.reply['channel']}, {response.reply['lang']}):")
    click.echo(textwrap.indent(response.reply["text"], "    "))


@main.command("eval")
@index_option
@model_option
@mode_option("Which retrieval to measure.")
@click.option("--fail-under", type=float, default=None,
              help="Exit 1 when Recall@3 (overall or in any language) is below this, e.g. 0.95.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.argument("questions_file", type=click.Path(exists=True, dir_okay=False))
def eval_command(index_dir, model, mode, fail_under, as_json, questions_file):
    """Measure search against a golden-question file.

    QUESTIONS_FILE is YAML: a list of {question, expected: [article ids], lang}. Prints Recall@1/3/5,
    MRR@10 and nDCG@10 overall and per language, then every question whose first result was not an
    expected article, with what came first instead.
    """
    from .errors import KBError
    from .retrieval.evaluation import below, load_questions, report, run
    from .retrieval.search import Searcher

    try:
        questions = load_questions(questions_file)
        outcome = report(run(Searcher(settings_for(index_dir=index_dir, model=model)), questions, mode=mode))
    except KBError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps({"ok": True, "mode": mode, **outcome}, ensure_ascii=False, indent=2))
    else:
        click.echo(_format_scores("all", outcome["overall"]))
        for lang, scores in outcome["by_language"].items():
            click.echo(_format_scores(lang, scores))
        if outcome["misses"]:
            click.echo("\nNot first:")
        for miss in outcome["misses"]:
            rank = f"rank {miss['expected_rank']}" if miss["expected_rank"] else "not in the top 10"
            click.echo(f"  [{miss['lang'] or '?'}] {miss['question']}")
            click.echo(f"       expected {', '.join(miss['expected'])} ({rank}); first: {miss['first']}")
    if fail_under is not None and below(outcome, fail_under):
        raise SystemExit(1)


def _format_scores(label: str, scores: dict) -> str:
    return (
        f"{label:<4} {scores['questions']:>4} questions  R@1 {scores['recall@1']:.3f}  R@3 {scores['recall@3']:.3f}"
        f"  R@5 {scores['recall@5']:.3f}  MRR@10 {scores['mrr@10']:.3f}  nDCG@10 {scores['ndcg@10']:.3f}"
    )


@main.command("serve")
@index_option
@model_option
@click.option("--host", envvar="KB_HOST", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", envvar="KB_PORT", type=int, default=5000, show_default=True, help="Port to listen on.")
@click.option("--workers", envvar="KB_WORKERS", type=click.IntRange(1, 64), default=SERVING.workers, show_default=True,
              help="Worker processes (env KB_WORKERS); they share the model, loaded before they start.")
@click.option("--threads", envvar="KB_THREADS", type=click.IntRange(1, 64), default=SERVING.threads,
              show_default=True, help="Request threads per worker (env KB_THREADS).")
@click.option("--access-log", envvar="KB_ACCESS_LOG", type=click.Choice(["off", "paths", "full"]), default="paths",
              show_default=True,
              help="Request log on standard output (env KB_ACCESS_LOG): none, method/path/status only, or with "
                   "the masked query string, referrer, user agent and client network.")
def serve_command(index_dir, model, host, port, workers, threads, access_log):
    """Serve the agent page and the JSON API with gunicorn.

    Each worker runs its model on one thread: on a small machine, several workers each with one thread
    serve far more requests than threads fighting over the same cores. The model is loaded once, before
    the workers start, and they share its memory.
    """
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    from .errors import KBError
    from .querylog import check_store
    from .store import IndexRoot

    settings = settings_for(index_dir=index_dir, model=model)
    try:
        version = IndexRoot(settings.index_dir).open_current()
        version.check_model(settings.model)
        version.verify()
        warning = check_store(settings.feedback_target) if settings.feedback else None
    except KBError as exc:
        fail(str(exc))
    if warning:
        click.echo(f"Warning: {warning}", err=True)
    from webapp.serving import run_server

    click.echo(f"Serving index {version.name} on http://{host}:{port}/ with {workers} worker(s) of {threads} "
               "thread(s)", err=True)
    run_server(settings, {"WARM_UP": True}, host=host, port=port, workers=workers, threads=threads,
               access_log=access_log)


@main.command("report")
@index_option
@model_option
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only searches from this day on (YYYY-MM-DD; default: all the log keeps).")
@click.option("--days", type=int, default=None, help="Only the last N days (1 to 3650).")
@click.option("--format", "output", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True,
              help="How to print the report.")
@click.option("--section", type=click.Choice(EDITOR_SECTIONS + REASON_SECTIONS),
              default="articles", show_default=True,
              help="The part of the report --format csv prints; reasons, trends, products and comments print the "
                   "contact reasons report (in every format) instead of the editors' report.")
@click.option("--purge", is_flag=True,
              help="Delete what is older than the retention period (KB_RETENTION_DAYS, default 90) first.")
@click.option("--feedback-db", envvar="KB_FEEDBACK_DB", default=None,
              help="The query log: an SQLite file or a postgresql:// URL (env KB_FEEDBACK_DB; default: "
                   "feedback.sqlite in the index directory).")
def report_command(index_dir, model, since, days, output, section, purge, feedback_db):
    """What agents searched and rated, and why customers contact us.

    Content gaps are questions with no good result or marked wrong, grouped by meaning. Per article:
    times shown and used, and helped / wrong / outdated ratings, with the owner. `--section reasons` gives
    the contact reasons report for team leaders instead: searches, answers used, ratings, escalations and
    customer feedback per category, product and department per week, the topics rising or falling, and
    per product what is asked and which articles answer it. With --purge, everything older than the
    retention period is deleted first.
    """
    import datetime as dt

    from .embedding import embedder_for
    from .errors import KBError
    from .querylog import now, open_store
    from .reports.editors import as_csv, as_text, build_report
    from .reports.period import period_start
    from .reports.reasons import build_reasons, reasons_csv, reasons_text
    from .store import IndexRoot

    # The pool's own warnings about each failed connection say no more than the one Error line.
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
    settings = settings_for(index_dir=index_dir, model=model, feedback_db=feedback_db)
    try:
        store = open_store(settings.feedback_target)
    except KBError as exc:
        fail(str(exc))
    try:
        if purge:
            cutoff = now() - dt.timedelta(days=settings.retention_days)
            purged = store.purge(cutoff)
            click.echo(f"Purged {purged.searches:,} searches, {purged.feedback:,} ratings, {purged.events:,} events, "
                       f"{purged.escalations:,} escalations and {purged.contact_feedback:,} customer feedback notes "
                       f"from before {cutoff:%Y-%m-%d} ({settings.retention_days} days kept)", err=True)
        start = period_start(days, since)
        version = IndexRoot(settings.index_dir).open_current()
        version.verify()
        if section in REASON_SECTIONS:
            report = build_reasons(store, version, start)
        else:
            report = build_report(store, version, embedder_for(settings), start)
    except KBError as exc:
        fail(str(exc))
    finally:
        store.close()
    if output == "json":
        click.echo(json.dumps({"ok": True, **report}, ensure_ascii=False, indent=2))
    elif output == "csv":
        click.echo(reasons_csv(report, section) if section in REASON_SECTIONS else as_csv(report, section), nl=False)
    else:
        click.echo(reasons_text(report) if section in REASON_SECTIONS else as_text(report))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
