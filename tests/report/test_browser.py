"""The HTML pages as a person meets them: rendered by headless Chromium at a desktop and a
phone width. A probe script injected into a copy of the page measures the layout; the page
sits in an iframe of the wanted width (headless windows have a minimum width) and posts its
measurements to the parent, whose DOM Chromium dumps."""

from __future__ import annotations

import html
import json
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=".ci/run installs chromium")

PROBE = """<script>
(function () {
  var seen = {}, dup = [];
  document.querySelectorAll("[id]").forEach(function (el) {
    if (seen[el.id]) dup.push(el.id); seen[el.id] = 1;
  });
  var hidden = [];
  document.querySelectorAll("table.summary .chip").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.bottom > window.innerHeight || r.right > window.innerWidth) hidden.push(el.textContent);
  });
  window.parent.postMessage(JSON.stringify({
    scroll: document.documentElement.scrollWidth, viewport: window.innerWidth,
    dup: dup, hidden: hidden, chips: document.querySelectorAll("table.summary .chip").length,
    text: document.body.innerText.slice(0, 4000)
  }), "*");
})();
</script>"""


def probe(page, width: int, tmp_path, script: str = PROBE) -> dict:
    """`script` run inside `page` shown `width` px wide; what it posts to its parent."""
    probed = tmp_path / f"probed-{width}.html"
    probed.write_text(page.read_text().replace("</body>", script + "</body>"))
    frame = tmp_path / f"frame-{width}.html"
    frame.write_text(
        f'<!doctype html><html><body style="margin:0"><iframe src="{probed.name}" '
        f'style="width:{width}px;height:900px;border:0"></iframe><script>'
        'window.addEventListener("message", function (e) {'
        ' document.body.setAttribute("data-probe", e.data); });</script></body></html>'
    )
    out = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000",
         "--virtual-time-budget=10000", "--dump-dom", frame.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    start = out.stdout.index('data-probe="') + len('data-probe="')
    return json.loads(html.unescape(out.stdout[start : out.stdout.index('"', start)]))


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    from quicktakes.ledger import Budget, reproduce
    from quicktakes.report import write_report

    out = tmp_path_factory.mktemp("report")
    report = reproduce(["games.lottery", "nof1.sleep-means"], Budget.FAST, seed=0)
    html_path, _ = write_report(report, out)
    return html_path


def test_report_at_desktop_width_shows_every_verdict_at_once(report_page, tmp_path):
    p = probe(report_page, 1280, tmp_path)
    assert p["chips"] == 2 and p["hidden"] == []
    assert p["scroll"] <= p["viewport"]
    assert p["dup"] == []
    assert "games.lottery" in p["text"] and "discrepancy" in p["text"]


def test_report_on_a_phone_has_no_horizontal_scroll(report_page, tmp_path):
    p = probe(report_page, 400, tmp_path)
    assert p["viewport"] == 400
    assert p["scroll"] <= p["viewport"], p
    assert p["dup"] == []


def test_trial_report_fits_a_phone(tmp_path):
    import numpy as np

    from quicktakes.nof1 import example
    from quicktakes.nof1.analysis import analyze
    from quicktakes.nof1.plots import analysis_html

    data = example.trial_data()
    page = tmp_path / "trial.html"
    page.write_text(analysis_html(data, analyze(data, np.random.default_rng(0), with_power=False)))
    for width in (1280, 400):
        p = probe(page, width, tmp_path)
        assert p["scroll"] <= p["viewport"], (width, p)
        assert p["dup"] == []
