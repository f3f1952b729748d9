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
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

ALGORITHM = "gridgov-draw-1"
BLOCK_SIZE = 64  # SHA-256's, which HMAC pads the key to
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
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


def ranker(seed: str) -> Callable[[str], bytes]:
    """HMAC-SHA256(seed, message) as its 32 raw bytes (RFC 2104, the same digests as
    scripts/verify_draw.py's rank).

    The padded key's inner and outer SHA-256 states are built once and copied per message:
    OpenSSL 3 sets up a whole HMAC context on every `hmac.new` or `hmac.digest`, about twice the
    time of two hash copies. Raw bytes order exactly as their lower-case hex does (each byte is
    two hex digits, 0-9 before a-f), so sorting by them is the published sort by hex digest."""
    key = seed.encode("utf-8")
    if len(key) > BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK_SIZE, b"\0")
    inner, outer = hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))
    copy_inner, copy_outer = inner.copy, outer.copy

    def ranked(message: str) -> bytes:
        h = copy_inner()
        h.update(message.encode("utf-8"))
        o = copy_outer()
        o.update(h.digest())
        return o.digest()

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
    twice = ring + ring  # ring positions start … start + n − 1, without wrapping the index
    out: list[Drawn] = []
    for p, code in chosen:
        start, team = int.from_bytes(rank_of("team/" + code)[:4], "big") % n if n else 0, []
        if need != 0:
            for i in range(start, start + n):  # below the cap first
                k = twice[i]
                if load[k] < cap and k not in team and (k, code) not in avoid:
                    team.append(k)
                    if len(team) == need:
                        break
            else:  # over the cap only where avoidance leaves too few
                for i in range(start, start + n):
                    k = twice[i]
                    if k not in team and (k, code) not in avoid:
                        team.append(k)
                        if len(team) == need:
                            break
        if len(team) < need:
            raise DrawError(pool=p, credit_code=code, eligible=len(team), needed=need)
        for k in team:
            load[k] += 1
        tag = rank_of("code/" + code)[:3].hex().upper()
        out.append(Drawn(p, code, tuple(team), f"{inputs['code_prefix']}{len(out) + 1:03d}{tag}"))
    return out
