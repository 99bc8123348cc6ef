"""Progress a log can read: with stderr a file, a long claim writes a timed line per phase and
a heartbeat when a phase runs long; no carriage returns, no bar frames. The claim runs with
llama.cpp blocked, as on an install without the `llamacpp` extra."""

import io
import subprocess
import sys
import time

from rich.console import Console
from rich.progress import Progress

from quicktakes.cli.output import noting

SCRIPT = """
import sys
sys.modules["llama_cpp"] = None  # as if the llamacpp extra were not installed
from quicktakes.insights import claims
from quicktakes.ledger import Budget
claims.REVERSAL_SIZES[Budget.FAST] = claims.ReversalSizes(
    facts=3, epochs=2, eval_every=1, paraphrases=1, test_templates=1, candidates=3,
    lr=1e-4)
from quicktakes.cli import main
sys.argv = ["quicktakes", "reproduce", "insights.reversal-curse", "--out", sys.argv[1]]
main()
"""


def test_a_claim_logs_each_phase_without_llama_cpp(tmp_path):
    log = tmp_path / "stderr.log"
    with open(log, "wb") as err:
        r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "report")],
                           stdout=subprocess.PIPE, stderr=err, timeout=900)
    text = log.read_bytes().decode()
    assert r.returncode == 0, text[-3000:]
    assert "\r" not in text and "\x1b[" not in text
    lines = text.splitlines()
    assert any("claim 1/1: insights.reversal-curse" in ln for ln in lines), lines
    phases = [ln for ln in lines if "fine-tuning and evaluating:" in ln]
    assert len(phases) >= 5, lines  # 3 evaluations and 2 epochs, each a line
    assert all(ln.startswith("[") and " s] " in ln for ln in lines if ln.strip()), lines
    assert (tmp_path / "report" / "results.json").exists()
    assert "llama_cpp" not in r.stdout.decode()


def test_a_silent_phase_gets_a_heartbeat_line():
    buf = io.StringIO()
    progress = Progress(console=Console(file=buf, force_terminal=False), transient=True)
    with progress:
        task = progress.add_task("x", total=None)
        with noting(progress, task, every=0.2) as note:
            note("method 2/8 (rl): training on 96 pairs")
            time.sleep(1.3)
    lines = buf.getvalue().splitlines()
    assert lines[0].endswith("method 2/8 (rl): training on 96 pairs")
    beats = [ln for ln in lines if ln.endswith("(still running)")]
    assert 1 <= len(beats) <= 7 and "training on 96 pairs" in beats[0]
