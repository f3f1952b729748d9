"""Peak RSS of detection at 25, 100 and 400 Mpix, each in a fresh subprocess (the child
reports its own ru_maxrss; detection runs on Dask threads inside it).
value = peak at 400 Mpix (MB), baseline = peak at 25 Mpix (MB); goal ratio <= 1.2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import report  # noqa: E402

from geodata.raster.synth import cached_scene_pair  # noqa: E402

CHILD = """
import json, resource, sys
sys.path.insert(0, {root!r})
from geodata.raster.detect import detect_changes
res = detect_changes({before!r}, {after!r}, "gf2")
print(json.dumps({{"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "n": len(res)}}))
"""


def peak(size: int) -> float:
    p = cached_scene_pair(ROOT / "var" / "bench", seed=2024, size=size)
    code = CHILD.format(root=str(ROOT), before=str(p.before), after=str(p.after))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"{size}x{size} ({size * size / 1e6:.0f} Mpix): peak {data['peak_mb']:.0f} MB, {data['n']} changes",
        file=sys.stderr,
    )
    return data["peak_mb"]


if __name__ == "__main__":
    p25, p100, p400 = peak(5000), peak(10000), peak(20000)
    ratio = p400 / p25
    report("imagery_memory", value=p400, baseline=p25, ratio=ratio, goal="ratio<=1.2", passed=ratio <= 1.2)
