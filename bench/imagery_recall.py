"""Recall of imagery change detection on a synthetic 100 Mpix pair (seed 2024).

value = min(recall by area, recall by object) over truths >= the minimum mapping unit and
not under clouds; baseline = 1.0 (perfect). Per-measure figures go to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import report  # noqa: E402

from geodata.raster.detect import detect_changes  # noqa: E402
from geodata.raster.evaluate import evaluate  # noqa: E402
from geodata.raster.synth import cached_scene_pair  # noqa: E402

SIZE = 10000
SEED = 2024


def run_evaluation():
    p = cached_scene_pair(ROOT / "var" / "bench", seed=SEED, size=SIZE)
    res = detect_changes(p.before, p.after, "gf2", min_area_m2=p.min_area_m2)
    ev = evaluate(res.records, p.truth, min_area_m2=p.min_area_m2)
    print(f"evaluation: {ev}\nnotes: {res.notes}\nthresholds: {res.thresholds}", file=sys.stderr)
    return ev


if __name__ == "__main__":
    ev = run_evaluation()
    v = min(ev.recall_area, ev.recall_object)
    print(f"recall_area={ev.recall_area:.4f} recall_object={ev.recall_object:.4f}", file=sys.stderr)
    report("imagery_recall", value=v, baseline=1.0, goal=">=0.95", passed=v >= 0.95)
