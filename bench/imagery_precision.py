"""Precision of imagery change detection on the synthetic 100 Mpix pair (seed 2024).

value = min(precision by area, precision by object); baseline = 1.0 (perfect).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import report  # noqa: E402
from imagery_recall import run_evaluation  # noqa: E402

if __name__ == "__main__":
    ev = run_evaluation()
    v = min(ev.precision_area, ev.precision_object)
    print(f"precision_area={ev.precision_area:.4f} precision_object={ev.precision_object:.4f}", file=sys.stderr)
    report("imagery_precision", value=v, baseline=1.0, goal=">=0.90", passed=v >= 0.90)
