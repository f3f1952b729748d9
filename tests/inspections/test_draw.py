"""The draw algorithm alone (no database), and the public script's copy of it."""

import hashlib
import hmac
import importlib.util
import random
import subprocess
import sys
from pathlib import Path

import pytest

from inspections.draw import DrawError, draw, quota, ranker

ROOT = Path(__file__).resolve().parents[2]


def script():
    spec = importlib.util.spec_from_file_location("verify_draw", ROOT / "scripts" / "verify_draw.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "ratio,n,k",
    [("0.25", 4, 1), ("0.25", 5, 2), ("0.1", 30, 3), ("1", 7, 7), ("0", 9, 0), ("0.3333", 3, 1), ("0.0001", 1, 1)],
)
def test_quota_is_exact_ceiling(ratio, n, k):
    # 0.1 × 30 is 3.0000000000000004 in floating point, whose ceiling would be 4
    assert quota(ratio, n) == k


@pytest.mark.parametrize("seed", ["", "s", "x" * 63, "y" * 64, "z" * 65, "种子" * 40, "0" * 64])
def test_ranker_is_hmac_sha256(seed):
    """The hand-keyed HMAC (inner and outer states copied) gives hmac's digests for keys shorter
    than, as long as and longer than SHA-256's 64-byte block, and its bytes sort as the hex does."""
    messages = ["A1", "", "team/91330106MA2B3C4D5E", "code/K07", "执法"]
    rank_of = ranker(seed)
    for m in messages:
        assert rank_of(m) == hmac.new(seed.encode(), m.encode(), hashlib.sha256).digest()
    by_hex = sorted(messages, key=lambda m: hmac.new(seed.encode(), m.encode(), hashlib.sha256).hexdigest())
    assert sorted(messages, key=rank_of) == by_hex


def inputs(n_sources=12, n_inspectors=5, avoid=()):
    return {
        "algorithm": "gridgov-draw-1",
        "plan": 1,
        "code_prefix": "JC33010600001",
        "per_inspection": 2,
        "pools": [
            {"label": "special", "ratio": "1", "sources": ["A1", "A2"]},
            {"label": "key", "ratio": "0.25", "sources": [f"K{i:02d}" for i in range(n_sources)]},
        ],
        "inspectors": [{"key": f"I{i:03d}", "name": f"人员{i}"} for i in range(1, n_inspectors + 1)],
        "avoid": [list(a) for a in avoid],
    }


def test_draw_by_hand():
    """The first drawn source of the 'key' pool is the one with the smallest HMAC, computed here
    independently with hmac/hashlib."""
    seed = "correct horse battery staple"
    result = draw(seed, inputs())
    assert [d.credit_code for d in result[:2]] == sorted(
        ["A1", "A2"], key=lambda c: hmac.new(seed.encode(), c.encode(), hashlib.sha256).hexdigest()
    )
    key_codes = [f"K{i:02d}" for i in range(12)]
    smallest = min(key_codes, key=lambda c: hmac.new(seed.encode(), c.encode(), hashlib.sha256).hexdigest())
    assert result[2].credit_code == smallest
    assert len(result) == 2 + 3  # 100 % of 2, ceil(25 % of 12)
    assert all(len(d.inspectors) == 2 and len(set(d.inspectors)) == 2 for d in result)
    loads = [sum(k in d.inspectors for d in result) for k in ("I001", "I002", "I003", "I004", "I005")]
    assert sorted(loads) == [2, 2, 2, 2, 2]  # 10 places over 5 inspectors, least loaded first
    assert result[0].code.startswith("JC33010600001001") and len(result[0].code) == 22


def test_same_seed_same_draw_other_seed_other_draw():
    assert draw("s1", inputs()) == draw("s1", inputs())
    assert [d.credit_code for d in draw("s1", inputs(40))] != [d.credit_code for d in draw("s2", inputs(40))]


def test_avoidance_is_honoured_and_too_small_a_pool_stops_the_draw():
    avoid = [("I001", "A1"), ("I002", "A1"), ("I003", "A1")]
    result = draw("seed", inputs(avoid=avoid))
    a1 = next(d for d in result if d.credit_code == "A1")
    assert set(a1.inspectors) <= {"I004", "I005"}
    with pytest.raises(DrawError) as err:
        draw("seed", inputs(avoid=avoid + [("I004", "A1")]))
    assert (err.value.pool, err.value.credit_code, err.value.eligible, err.value.needed) == (0, "A1", 1, 2)


def test_public_script_has_the_same_algorithm():
    verify = script()
    rng = random.Random(7)
    for trial in range(50):
        n = rng.randint(0, 30)
        avoid = {
            (f"I{rng.randint(1, 6):03d}", f"K{rng.randint(0, max(n - 1, 0)):02d}") for _ in range(rng.randint(0, 10))
        }
        data = inputs(n, 6, sorted(avoid))
        data["pools"][1]["ratio"] = rng.choice(["0.1", "0.25", "0.5", "1", "0.3333"])
        seed = f"seed-{trial}"
        ours = [
            {"pool": d.pool, "credit_code": d.credit_code, "inspector_keys": list(d.inspectors), "code": d.code}
            for d in draw(seed, data)
        ]
        assert verify.draw(seed, data) == ours


def test_readme_lists_the_public_script_word_for_word():
    """The README's listing of the algorithm is the script's own `rank`, `quota` and `draw`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Credit and 双随机一公开") :]
    listing = section[section.index("```python\n") + len("```python\n") :]
    listing = listing[: listing.index("```\n")]
    code = (ROOT / "scripts" / "verify_draw.py").read_text(encoding="utf-8")
    start = code.index("def rank(seed, msg):")
    assert listing == code[start : code.index("    return out\n", start) + len("    return out\n")]


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_public_script_help_prints_usage_and_exits_0(flag):
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "verify_draw.py"), flag], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "usage: python3 scripts/verify_draw.py" in done.stdout and "cannot read" not in done.stdout
