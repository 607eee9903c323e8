"""How the fusion constants and centred vectors were chosen: each variant on each set, from one candidate run.

    python bench/tune_fusion.py                       # sample KB golden sets, norquad dev, SciFact train
    python bench/tune_fusion.py --norquad-split test --scifact-split test   # the held-out splits, once
    python bench/tune_fusion.py --sets sample,norquad,agent --agent-nb /work/wt/_data/alchemy-nb
                                                      # with the bokmål agent questions' dev set

For every question the product's own `Searcher.candidates` gives the keyword passages and the model's
passages (plain and language-centred cosine) once, 100 deep; every variant then fuses those lists with
`fusion.fuse`, groups them into articles as a search does, and is scored: Recall@1/@3 on the sample KB's
golden questions per language and on the cross-language ones, nDCG@10 on norquad-retrieval and SciFact
(indexes built by bench/beir.py in bench/results/, built here if missing). Tune on norquad's dev split
and SciFact's train split; the test splits are for the figures in the README. The `agent` set is the bokmål
questions of bench/agent_questions_dev.yaml over a built index of ms-alchemyinsights-nb-NO (`--agent-nb`);
`--agent-questions bench/agent_questions.yaml` scores the test questions instead, once, for the README.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import beir  # noqa: E402
import yaml  # noqa: E402

from indexer.config import Settings  # noqa: E402
from indexer.ingest.builder import build_index  # noqa: E402
from indexer.retrieval.centring import CentredVectors  # noqa: E402
from indexer.retrieval.evaluation import load_questions, ndcg_at  # noqa: E402
from indexer.retrieval.fusion import FUSION, FusionWeights, fuse  # noqa: E402
from indexer.retrieval.search import Searcher  # noqa: E402

DEPTH = 100
SHARED = ROOT.parent / "shared" / "data"


def beir_set(name: str, split: str, model: str | None) -> tuple[Searcher, list[tuple[str, dict, str | None]]]:
    """A BEIR data set's searcher (index built by bench/beir.py's layout when missing) and its questions."""
    dataset = SHARED / name
    lang = "nb" if "norquad" in name else "en"
    suffix = "" if model is None else "-" + model
    work = BENCH / "results" / (dataset.name + suffix)
    corpus = beir.read_jsonl(dataset / "corpus.jsonl")
    queries = {q["_id"]: q["text"] for q in beir.read_jsonl(dataset / "queries.jsonl")}
    qrels = beir.read_qrels(dataset / "qrels" / f"{split}.tsv")
    beir.write_kb(corpus, work / "kb", lang)
    settings = Settings.from_env(kb_dir=work / "kb", index_dir=work / "index", model=model, default_lang=lang)
    build_index(settings, progress=False)
    questions = [(queries[qid], {beir.article_id(doc): gain for doc, gain in docs.items()}, lang)
                 for qid, docs in qrels.items() if qid in queries]
    return Searcher(settings), questions


def sample_set(model: str | None) -> tuple[Searcher, dict[str, list]]:
    index_dir = BENCH / "results" / ("sample" + ("" if model is None else "-" + model)) / "index"
    settings = Settings.from_env(kb_dir=ROOT / "kb", index_dir=index_dir, model=model)
    build_index(settings, progress=False)
    sets = {}
    for question in load_questions(ROOT / "tests" / "golden_questions.yaml"):
        sets.setdefault(f"golden-{question.lang}", []).append((question.question, question.expected, question.lang))
    sets["cross"] = [(q.question, q.expected, q.lang)
                     for q in load_questions(ROOT / "tests" / "golden_cross_language.yaml")]
    return Searcher(settings), sets


def agent_set(index_dir: Path, questions_file: Path) -> tuple[Searcher, list[tuple[str, list, str]]]:
    """The searcher of a built help-centre index and the bokmål agent questions asked of it."""
    settings = Settings.from_env(kb_dir=index_dir, index_dir=index_dir)
    items = yaml.safe_load(questions_file.read_text(encoding="utf-8"))
    return Searcher(settings), [(item["question"], dict.fromkeys(item["expected"], 1.0), item["lang"]) for item in items
                                if item["kb"] == "nb"]


def gather(searcher: Searcher, questions: list) -> list[dict]:
    """Per question: both sides' passages (dense plain and centred), the question's language, what answers it."""
    version = searcher.version
    articles = {}
    rows = version.all_passages()
    for row in rows:
        articles[row["id"]] = row["article_id"]
    centred = CentredVectors(version.vectors(), version.passage_languages())
    gathered = []
    for text, expected, _ in questions:
        lexical = searcher.candidates(version, text, DEPTH, "lexical")
        vector = searcher.query_vector(text)
        plain = version.search(vector, DEPTH)
        lexical.dense, lexical.query_vector = plain, vector
        lexical.across = searcher.across_languages(version, vector, lexical.lang, DEPTH)
        gathered.append({
            "lexical": lexical.lexical, "plain": plain, "centred": centred.search(vector, lexical.lang, DEPTH),
            "across": lexical.across, "across_ranks": searcher.across_ranks(version, lexical, lexical.lang),
            "lang": lexical.lang, "expected": expected, "weights": lexical.weights,
            "coverage": _coverage(searcher, version, text, lexical),
        })
    return gathered, articles


def _coverage(searcher: Searcher, version, text: str, found) -> dict[int, float]:
    """Per keyword hit, the share of the question's keyword weight it holds (what the search gives fuse)."""
    terms = searcher._weighted_terms(text, found.lang, list(found.keyword_weights), version.synonyms.expand(text))
    return searcher._coverage(version, found, terms)


def ranked_articles(hits, articles) -> list[str]:
    seen: dict[str, None] = {}
    for passage_id, _ in hits:
        seen.setdefault(articles[passage_id], None)
    return list(seen)


def score(gathered, articles, variant: dict) -> dict:
    ndcg, r1, r3 = [], [], []
    for item in gathered:
        dense = item["centred"] if variant["centred"] else item["plain"]
        weights = item["weights"]
        if item["lang"] == "nb" and variant.get("nb") is not None:
            weights = FusionWeights(variant["nb"], 1.0)
        if variant["mode"] == "dense":
            hits = dense
        elif variant["mode"] == "lexical":
            hits = item["lexical"]
        else:
            across = item["across"] if variant.get("across") else ()
            hits = fuse(dense, item["lexical"], weights, across, k=variant["k"], unseen_factor=variant["unseen"],
                        coverage=item["coverage"], coverage_power=variant.get("power", 0.0),
                        across_ranks=item["across_ranks"])
        ranked = ranked_articles(hits, articles)
        ndcg.append(ndcg_at(ranked, item["expected"], 10))
        r1.append(bool(set(ranked[:1]) & set(item["expected"])))
        r3.append(bool(set(ranked[:3]) & set(item["expected"])))
    return {"ndcg": statistics.fmean(ndcg), "r1": statistics.fmean(r1), "r3": statistics.fmean(r3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--norquad-split", default="dev")
    parser.add_argument("--scifact-split", default="train")
    parser.add_argument("--sets", default="sample,norquad,scifact", help="of sample, norquad, scifact, agent")
    parser.add_argument("--agent-nb", type=Path, help="a built index of ms-alchemyinsights-nb-NO, for the agent set")
    parser.add_argument("--agent-questions", type=Path, default=BENCH / "agent_questions_dev.yaml")
    parser.add_argument("--grid", choices=("fusion", "coverage", "unseen"), default="fusion",
                        help="fusion: K, unseen factor and bokmål weights; coverage: K, bokmål weights and the "
                             "keyword coverage power, across-language ranking on; unseen: the unseen factor "
                             "with the shipped K, weights and coverage power")
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    wanted = args.sets.split(",")
    sets = {}
    if "sample" in wanted:
        searcher, questions = sample_set(args.model)
        for name, items in questions.items():
            sets[name] = gather(searcher, items)
    if "norquad" in wanted:
        searcher, items = beir_set("norquad-retrieval", args.norquad_split, args.model)
        sets[f"norquad-{args.norquad_split}"] = gather(searcher, items)
    if "agent" in wanted:
        if args.agent_nb is None:
            parser.error("the agent set needs --agent-nb, a built index of ms-alchemyinsights-nb-NO")
        searcher, items = agent_set(args.agent_nb, args.agent_questions)
        sets[f"agent-{args.agent_questions.stem.removeprefix('agent_questions').strip('_') or 'test'}"] = \
            gather(searcher, items)
    if "scifact" in wanted:
        searcher, items = beir_set("beir/scifact", args.scifact_split, args.model)
        sets[f"scifact-{args.scifact_split}"] = gather(searcher, items)
    variants = [{"mode": "dense", "centred": False}, {"mode": "dense", "centred": True},
                {"mode": "lexical", "centred": False}]  # the dense side alone, plain and centred
    # Plain cosine on the dense side, with or without the other languages' passages ranked by centred
    # cosine (what the product does, see fusion.fuse), for RRF constants, unseen factors and bokmål weights.
    if args.grid == "fusion":
        for across, k, unseen, nb in itertools.product((False, True), (10, 20, 40, 60), (0.7, 0.8, 0.9, 1.0),
                                                       (0.3, 0.5, 0.7)):
            if not across and unseen != 0.8:
                continue
            variants.append({"mode": "hybrid", "centred": False, "across": across, "k": k, "unseen": unseen,
                             "nb": nb})
    elif args.grid == "unseen":
        for unseen in (0.5, 0.6, 0.7, 0.8, 0.9):
            variants.append({"mode": "hybrid", "centred": False, "across": True, "k": FUSION.rrf_k, "unseen": unseen,
                             "nb": 1.0, "power": FUSION.coverage_power})
    else:
        # Keyword votes scaled by their coverage of the question to a power (see fusion.fuse), 0 being off.
        for k, nb, power in itertools.product((5, 10), (0.7, 1.0, 1.5), (0.0, 0.25, 0.5, 1.0)):
            variants.append({"mode": "hybrid", "centred": False, "across": True, "k": k, "unseen": 0.7,
                             "nb": nb, "power": power})
    header = f"{'mode':<7} {'centred':<7} {'K':>3} {'unseen':>6} {'nb':>4} {'power':>5}"
    for name in sets:
        suffix = " nDCG" if name.startswith(("norquad", "scifact")) else " R1/R3/nDCG" if name.startswith(
            "agent") else " R1/R3"
        header += f" {name + suffix:>18}"
    print(header)
    for variant in variants:
        line = f"{variant['mode']:<7} {str(variant['centred']):<7} {'':>3} {'':>6} {'':>4} {'':>5}"
        if variant["mode"] == "hybrid":
            dense = "across" if variant["across"] else "plain"
            line = (f"{variant['mode']:<7} {dense:<7} {variant['k']:>3} {variant['unseen']:>6.2f} "
                    f"{variant['nb']:>4} {variant.get('power', 0.0):>5}")
        for name, (gathered, articles) in sets.items():
            result = score(gathered, articles, variant)
            if name.startswith(("norquad", "scifact")):
                line += f" {result['ndcg']:>18.4f}"
            elif name.startswith("agent"):
                line += f" {result['r1']:>7.2f}/{result['r3']:.2f}/{result['ndcg']:.3f}"
            else:
                line += f" {result['r1']:>11.3f}/{result['r3']:.3f}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
