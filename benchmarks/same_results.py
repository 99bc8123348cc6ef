"""Do two reports say the same thing? Compares two results.json files claim by claim: verdict,
finding, measured value, config and every trend point, leaving out what may differ between
runs of the same code (timings, versions, the machine).

A refactor that changes no behaviour must print "same" for every claim:

    git worktree add /tmp/before <old commit>
    PYTHONPATH=/tmp/before/src quicktakes reproduce CLAIMS --out /tmp/r-before
    quicktakes reproduce CLAIMS --out /tmp/r-after
    python benchmarks/same_results.py /tmp/r-before/results.json /tmp/r-after/results.json

Exit status 0 when every claim is the same, 1 otherwise. `--rtol` allows float differences
(another thread count or CPU changes the last digits of torch claims).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

IGNORED = {"seconds"}
"""Per-claim keys that are not results."""
NEW = {"rule"}
"""Provenance a newer version may add (`--new` adds more): present only after, not a change."""


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def differences(a: Any, b: Any, rtol: float, where: str = "") -> list[str]:
    """Paths at which `a` and `b` differ (floats within `rtol` count as equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k in IGNORED:
                continue
            if k not in a and k in NEW:
                continue
            if k not in a or k not in b:
                out.append(f"{where}.{k} only in {'after' if k in b else 'before'}")
            else:
                out += differences(a[k], b[k], rtol, f"{where}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items before, {len(b)} after"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in differences(x, y, rtol, f"{where}[{i}]")]
    if _number(a) and _number(b) and float in (type(a), type(b)):
        same = math.isclose(a, b, rel_tol=rtol, abs_tol=0.0) or (math.isnan(a) and math.isnan(b))
        return [] if same else [f"{where}: {a!r} -> {b!r}"]
    return [] if a == b else [f"{where}: {a!r} -> {b!r}"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--rtol", type=float, default=0.0, help="relative tolerance for floats")
    ap.add_argument("--new", action="append", default=[], help="another key a newer version adds")
    args = ap.parse_args()
    NEW.update(args.new)
    try:
        before, after = (json.loads(p.read_text())["claims"] for p in (args.before, args.after))
    except (OSError, json.JSONDecodeError, KeyError) as exc:
        sys.exit(f"error: not two reports to compare ({exc})")
    by_id = {c["id"]: c for c in after}
    changed = 0
    for claim in before:
        other = by_id.pop(claim["id"], None)
        if other is None:
            print(f"{claim['id']}: missing after")
            changed += 1
            continue
        diff = differences(claim, other, args.rtol)
        changed += bool(diff)
        print(f"{claim['id']}: " + ("same" if not diff else f"{len(diff)} differences"))
        for d in diff[:10]:
            print(f"    {d}")
    for cid in by_id:
        print(f"{cid}: only after")
        changed += 1
    print(f"{len(before) + len(by_id) - changed} of {len(before) + len(by_id)} claims the same")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
