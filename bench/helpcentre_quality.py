"""Agent questions over two real help centres, asked through `/api/search` of a real `kb serve`.

    python bench/helpcentre_quality.py --nb-index /work/wt/_data/alchemy-nb --en-index /work/wt/_data/officedocs
    python bench/helpcentre_quality.py --nb-kb ../shared/data/kb-no/ms-alchemyinsights-nb-NO \
        --en-kb ../shared/data/kb-en/ms-officedocs-support --work bench/results/helpcentres

The questions are bench/agent_questions.yaml (how they were written is said at its top). Each help
centre is served by its own `kb serve` (one worker, no query log), every question is asked once per
mode (hybrid, dense, lexical) with k=3, and R@1 and R@3 are printed per language and mode, with the
questions hybrid missed. `--langs nb` asks one help centre only; `--questions bench/agent_questions_dev.yaml`
asks the dev set, the one to choose search constants on. Either give built indexes (`--nb-index`,
`--en-index`), or the help centres' folders and a work folder, where `kb index` builds (or updates) an
index as a new user would, with no settings: a second run re-embeds nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from _server import KB, get_json, search_url, serve, stop  # noqa: E402

MODES = ("hybrid", "dense", "lexical")
QUESTIONS = BENCH / "agent_questions.yaml"


def load(path: Path) -> list[dict]:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [{"question": item["question"], "lang": item["lang"], "kb": item["kb"],
             "expected": list(item["expected"])} for item in items]


def built_index(kb_dir: Path, work: Path) -> Path:
    """An index of `kb_dir` under `work`, built or brought up to date by `kb index` with no settings."""
    index_dir = work / "index"
    subprocess.run([str(KB), "index", "--kb", str(kb_dir), "--index", str(index_dir)], check=True,
                   env={**os.environ, "OMP_NUM_THREADS": "1"})
    return index_dir


def ask(base: str, questions: list[dict]) -> dict:
    """Per mode: the first three article ids returned for each question."""
    ranked = {}
    for mode in MODES:
        ranked[mode] = []
        for item in questions:
            status, body = get_json(search_url(base, item["question"], k=3, mode=mode, replies=0, route=0))
            if status != 200:
                raise RuntimeError(f"/api/search answered {status} to {item['question']!r}")
            ranked[mode].append([result["article_id"] for result in body["results"]])
    return ranked


def recall(questions: list[dict], ranked: list[list[str]], depth: int) -> float:
    hits = sum(bool(set(found[:depth]) & set(item["expected"])) for item, found in zip(questions, ranked, strict=True))
    return hits / len(questions)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--nb-index", type=Path)
    parser.add_argument("--en-index", type=Path)
    parser.add_argument("--nb-kb", type=Path)
    parser.add_argument("--en-kb", type=Path)
    parser.add_argument("--work", type=Path, default=BENCH / "results" / "helpcentres")
    parser.add_argument("--langs", default="nb,en", help="the help centres to ask, comma-separated (nb, en)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    questions = load(args.questions)
    load_average = os.getloadavg()
    summary = {"load_average": [round(value, 2) for value in load_average], "languages": {}}
    langs = [lang.strip() for lang in args.langs.split(",") if lang.strip()]
    unknown = [lang for lang in langs if lang not in ("nb", "en")]
    if unknown or not langs:
        parser.error(f"--langs takes nb, en or both, not {args.langs!r}")
    for lang in langs:
        index_dir = getattr(args, f"{lang}_index")
        if index_dir is None:
            kb_dir = getattr(args, f"{lang}_kb")
            if kb_dir is None:
                parser.error(f"give --{lang}-index or --{lang}-kb")
            index_dir = built_index(kb_dir.resolve(), args.work / lang)
        asked = [item for item in questions if item["kb"] == lang]
        process, base = serve(index_dir, workers=1, env={"KB_FEEDBACK": "0"})
        try:
            model = get_json(base + "/api/health")[1].get("index", {}).get("model")
            ranked = ask(base, asked)
        finally:
            stop(process)
        scores = {mode: {f"r@{depth}": round(recall(asked, ranked[mode], depth), 3) for depth in (1, 3)}
                  for mode in MODES}
        misses = [{"question": item["question"], "expected": item["expected"], "got": found}
                  for item, found in zip(asked, ranked["hybrid"], strict=True)
                  if not set(found) & set(item["expected"])]
        summary["languages"][lang] = {"questions": len(asked), "index": str(index_dir), "model": model,
                                      "scores": scores, "hybrid_misses": misses}
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return 0
    print(f"load average at start {load_average[0]:.2f} {load_average[1]:.2f} {load_average[2]:.2f}")
    for lang, result in summary["languages"].items():
        scores = result["scores"]
        best_half = max(scores["dense"]["r@3"], scores["lexical"]["r@3"])
        print(f"{lang}: {result['questions']} questions, model {result['model']}, index {result['index']}")
        for mode in MODES:
            print(f"  {mode:<8} R@1 {scores[mode]['r@1']:.3f}  R@3 {scores[mode]['r@3']:.3f}")
        print(f"  hybrid R@3 against its better half: {scores['hybrid']['r@3'] - best_half:+.3f}")
        for miss in result["hybrid_misses"]:
            print(f"  missed: {miss['question']}\n     expected {miss['expected'][0]}; got {', '.join(miss['got'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
