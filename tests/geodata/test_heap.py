"""``geodata.raster.heap``: a tile's freed working memory is reused by the next tile instead of
being faulted in and zeroed again by the kernel."""

import platform
import subprocess
import sys

import pytest

PROBE = """
import resource, sys
import numpy as np
if sys.argv[1] == "keep":
    from geodata.raster.heap import keep_freed_memory
    assert keep_freed_memory() and keep_freed_memory()

def tile():
    planes = [np.empty((1056, 1056), np.float32) for _ in range(8)]
    for p in planes:
        p.fill(1)

tile()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    tile()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_freed_tile_memory_is_reused_not_faulted_in_again():
    # five tiles of eight 4.5 MB planes: by default every tile faults its ~35 MB in again
    default = faults("default")
    kept = faults("keep")
    assert default > 5 * 8 * 200  # (4 KiB pages, some of them huge pages: ~500 a plane here)
    assert kept < default / 20
