"""Wall time of `quicktakes reproduce --fast` for the games claims, axelrod's import included.

Target (issue 2): under 60 s on the 2-core machine. Runs in a fresh interpreter so the
import cost is counted, as a user would pay it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 60.0
CLAIMS = ["games.lottery", "games.ipd-rounds", "games.newcomb-iterated"]


def main() -> None:
    exe = Path(sys.executable).with_name("quicktakes")
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [str(exe), "reproduce", *CLAIMS, "--fast", "--out", out],
            check=True,
            capture_output=True,
        )
        wall = time.perf_counter() - start
    print(f"reproduce --fast (3 games claims): {wall:.1f} s; target {TARGET_S:.0f} s; "
          f"ratio target/measured = {TARGET_S / wall:.2f}x")


if __name__ == "__main__":
    main()
