"""The 双随机 draw, algorithm `gridgov-draw-1`: pure, standard library only, no Django.

Anyone can recompute a draw from a plan's public JSON (`scripts/verify_draw.py` is the
independent copy of this algorithm that the public runs; a test proves the two agree):

1. Commit: the plan's inputs are frozen into one JSON object (pools of credit codes with their
   ratio, the inspectors by an opaque key, the avoidance pairs, inspectors per inspection);
   `inputs_sha256` is the SHA-256 of its canonical form (`canonical()`), `seed_sha256` the
   SHA-256 of the seed string's UTF-8 bytes. Both are public from that moment on.
2. Draw: for each pool in order, sort its credit codes by HMAC-SHA256(key=seed, msg=code) as
   lower-case hex and take the first k = ceil(ratio × n) (ratio is a decimal string with at
   most four places, so k is computed in whole ten-thousandths, without floating point).
3. Inspectors are put in a ring ordered by HMAC-SHA256(seed, inspector key). Each drawn source,
   in draw order, gets `per_inspection` of them: walking the ring from the position
   int(first 8 hex digits of HMAC-SHA256(seed, "team/" + code)) mod n, the first ones not paired
   with it in `avoid` and below the cap ceil(places / n) (places = drawn sources × per
   inspection), then, if avoidance leaves too few, the first eligible ones over the cap. Fewer
   eligible inspectors than needed stops the whole draw (DrawError names the pool and the
   source): nothing is drawn.
4. The 行政行为码 of an inspection is code_prefix + its 3-digit position (1-based) + the first
   six hex digits, upper-case, of HMAC-SHA256(seed, "code/" + credit code): unguessable until the
   seed is revealed, and checkable by anyone after.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass

ALGORITHM = "gridgov-draw-1"
RATIO_RE = re.compile(r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$")


class DrawError(Exception):
    """A drawn source that cannot be staffed without breaking avoidance."""

    def __init__(self, *, pool: int, credit_code: str, eligible: int, needed: int):
        super().__init__(f"pool {pool}: {credit_code} has {eligible} eligible inspectors, {needed} needed")
        self.pool, self.credit_code, self.eligible, self.needed = pool, credit_code, eligible, needed


@dataclass(frozen=True)
class Drawn:
    pool: int
    credit_code: str
    inspectors: tuple[str, ...]  # inspector keys
    code: str


def canonical(inputs: dict) -> bytes:
    """The bytes whose SHA-256 is `inputs_sha256`: sorted keys, no spaces, UTF-8."""
    return json.dumps(inputs, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ranker(seed: str):
    """HMAC-SHA256(seed, message) as hex, the key set up once and its state copied per message
    (the same digests as scripts/verify_draw.py's rank)."""
    keyed = hmac.new(seed.encode("utf-8"), digestmod=hashlib.sha256)

    def ranked(message: str) -> str:
        h = keyed.copy()
        h.update(message.encode("utf-8"))
        return h.hexdigest()

    return ranked


def quota(ratio: str, n: int) -> int:
    """k = ceil(ratio × n), the ratio read as whole ten-thousandths ('0.25' → 2500)."""
    if not RATIO_RE.match(ratio):
        raise ValueError(f"ratio {ratio!r} is not a decimal between 0 and 1 with at most four places")
    whole, _, frac = ratio.partition(".")
    units = int(whole) * 10000 + int((frac + "0000")[:4])
    return -(-units * n // 10000)


def draw(seed: str, inputs: dict) -> list[Drawn]:
    """Run the draw; the same seed and inputs give the same list, always."""
    need = int(inputs["per_inspection"])
    rank_of = ranker(seed)
    ring = sorted((i["key"] for i in inputs["inspectors"]), key=rank_of)
    avoid = {(a, c) for a, c in inputs["avoid"]}
    chosen = [
        (p, code)
        for p, pool in enumerate(inputs["pools"])
        for code in sorted(pool["sources"], key=rank_of)[: quota(pool["ratio"], len(pool["sources"]))]
    ]
    n = len(ring)
    cap = -(-len(chosen) * need // n) if n else 0
    load = dict.fromkeys(ring, 0)
    out: list[Drawn] = []
    for p, code in chosen:
        start, team = int(rank_of("team/" + code)[:8], 16) % n if n else 0, []
        for limit in (cap, None):  # below the cap first; over it only where avoidance leaves too few
            for j in range(n):
                k = ring[(start + j) % n]
                if len(team) == need:
                    break
                if k not in team and (k, code) not in avoid and (limit is None or load[k] < limit):
                    team.append(k)
        if len(team) < need:
            raise DrawError(pool=p, credit_code=code, eligible=len(team), needed=need)
        for k in team:
            load[k] += 1
        tag = rank_of("code/" + code)[:6].upper()
        out.append(Drawn(p, code, tuple(team), f"{inputs['code_prefix']}{len(out) + 1:03d}{tag}"))
    return out
