"""How the configured model relates paraphrases of content-gap questions, and how the report groups them.

    python bench/gap_clusters.py

Takes the paraphrases of tests/test_reports.py (topics the sample KB does not answer, in bokmål and English,
with one question of each topic in the other language), prints the model's cosine within and between topics,
and for a range of cosine floors (reports.GAP_GROUPING.cosine_floor) how many topics form one group and how many
groups mix topics.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from types import MappingProxyType

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.config import Settings  # noqa: E402
from indexer.embedding import canonical_name, embedder_for  # noqa: E402
from indexer.reports import editors as reports  # noqa: E402
from indexer.text.language import detect_language  # noqa: E402
from tests.test_reports import PARAPHRASES  # noqa: E402

FLOORS = [0.0, 0.6, 0.64, 0.68, 0.7, 0.72, 0.74, 0.76, 0.78, 0.8]


def main() -> int:
    embedder = embedder_for(Settings.from_env())
    questions = [q for qs in PARAPHRASES.values() for q in qs]
    topic = [t for t, qs in PARAPHRASES.items() for _ in qs]
    vectors = embedder.embed_queries(questions)
    cosine = vectors @ vectors.T
    pairs = [(i, j) for i in range(len(questions)) for j in range(i)]
    same = [cosine[i, j] for i, j in pairs if topic[i] == topic[j]]
    other = [cosine[i, j] for i, j in pairs if topic[i] != topic[j]]
    print(f"{embedder.name}: paraphrases {min(same):.3f}-{max(same):.3f} (median {np.median(same):.3f}); "
          f"other topics {min(other):.3f}-{max(other):.3f} (median {np.median(other):.3f})")
    model = canonical_name(embedder.name)
    configured = reports.GAP_GROUPING
    for floor in FLOORS:
        # cluster_questions reads the grouping constants from its module at call time.
        reports.GAP_GROUPING = dataclasses.replace(
            configured, cosine_floor=MappingProxyType({**configured.cosine_floor, model: floor}))
        groups = reports.cluster_questions(questions, embedder, langs=[detect_language(q) for q in questions])
        mixed = sum(len({topic[i] for i in group}) > 1 for group in groups)
        members = {t: [i for i in range(len(questions)) if topic[i] == t] for t in PARAPHRASES}
        whole = [t for t in PARAPHRASES if any(sorted(group) == members[t] for group in groups)]
        mark = "  (configured)" if floor == configured.cosine_floor.get(model, 0.0) else ""
        print(f"  floor {floor:.2f}: {len(whole)}/{len(PARAPHRASES)} topics one group ({', '.join(whole)}), "
              f"{mixed} groups mixing topics{mark}")
    reports.GAP_GROUPING = configured
    return 0


if __name__ == "__main__":
    sys.exit(main())
