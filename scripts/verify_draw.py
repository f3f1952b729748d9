#!/usr/bin/env python3
"""Recompute a GridGov 双随机 draw from its public JSON and say whether it matches.

usage: python3 scripts/verify_draw.py http://…/public/inspections/<id>.json
       python3 scripts/verify_draw.py -h | --help

Standard library only, and independent of the server's code on purpose: it is the public's
copy of the algorithm `gridgov-draw-1`, listed in the README ("Credit and 双随机一公开"). Prints
`verified` and exits 0 when the seed, the inputs and every inspection match; otherwise prints the
first difference and exits 1 (2 when the plan's draw is not public yet or the JSON cannot be
read, or the arguments are not one URL).
"""

import hashlib
import hmac
import json
import sys
import urllib.request


def rank(seed, msg):
    return hmac.new(seed.encode("utf-8"), msg.encode("utf-8"), hashlib.sha256).hexdigest()


def quota(ratio, n):  # ceil(ratio × n) in whole ten-thousandths: no floating point
    whole, _, frac = ratio.partition(".")
    return -(-(int(whole) * 10000 + int((frac + "0000")[:4])) * n // 10000)


def draw(seed, inputs):
    need, avoid = int(inputs["per_inspection"]), {(a, c) for a, c in inputs["avoid"]}
    ring = sorted((i["key"] for i in inputs["inspectors"]), key=lambda k: rank(seed, k))
    chosen = []  # (pool, code): each pool's first k codes by HMAC
    for p, pool in enumerate(inputs["pools"]):
        codes = sorted(pool["sources"], key=lambda c: rank(seed, c))
        chosen += [(p, c) for c in codes[: quota(pool["ratio"], len(codes))]]
    n, load, out = len(ring), {k: 0 for k in ring}, []
    cap = -(-len(chosen) * need // n) if n else 0
    for p, code in chosen:
        start, team = int(rank(seed, "team/" + code)[:8], 16) % n if n else 0, []
        for limit in (cap, None):  # below the cap first; over it only where avoidance leaves too few
            for j in range(n):
                k = ring[(start + j) % n]
                free = limit is None or load[k] < limit
                if len(team) < need and k not in team and (k, code) not in avoid and free:
                    team.append(k)
        if len(team) < need:
            raise SystemExit(f"pool {p}: {code} cannot be staffed ({len(team)} of {need} inspectors)")
        for k in team:
            load[k] += 1
        tag = rank(seed, "code/" + code)[:6].upper()
        out.append(
            {
                "pool": p,
                "credit_code": code,
                "inspector_keys": team,
                "code": f"{inputs['code_prefix']}{len(out) + 1:03d}{tag}",
            }
        )
    return out


def main(url):
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:
            plan = json.load(answer)
    except (OSError, ValueError) as exc:
        print(f"cannot read {url}: {exc}")
        return 2
    if not plan.get("seed") or plan.get("inputs") is None or plan.get("inspections") is None:
        print("the draw of this plan is not public yet (seed, inputs or inspections missing)")
        return 2
    seed, inputs = plan["seed"], plan["inputs"]
    canonical = json.dumps(inputs, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    checks = [
        ("algorithm", plan.get("algorithm"), "gridgov-draw-1"),
        ("seed_sha256", plan.get("seed_sha256"), hashlib.sha256(seed.encode("utf-8")).hexdigest()),
        ("inputs_sha256", plan.get("inputs_sha256"), hashlib.sha256(canonical).hexdigest()),
    ]
    names = {i["key"]: i["name"] for i in inputs["inspectors"]}
    expected = draw(seed, inputs)
    checks.append(("number of inspections", len(plan["inspections"]), len(expected)))
    for n, (want, got) in enumerate(zip(expected, plan["inspections"], strict=False), start=1):
        for field in ("credit_code", "code", "inspector_keys", "pool"):
            checks.append((f"inspection {n} {field}", got.get(field), want[field]))
        checks.append((f"inspection {n} inspectors", got.get("inspectors"), [names[k] for k in want["inspector_keys"]]))
    for what, published, recomputed in checks:
        if published != recomputed:
            print(f"MISMATCH {what}: published {published!r}, recomputed {recomputed!r}")
            return 1
    print("verified")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        sys.exit(0)
    if len(sys.argv) != 2:
        print(__doc__.strip())
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
