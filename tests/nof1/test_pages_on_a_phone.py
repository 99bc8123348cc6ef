"""The analysis and status pages as a person reads them on a phone (400 px) and a desktop
(1280 px), in headless Chromium: the plots' text at least as large as the body text on a
phone, no sideways scroll, the site header and a way back, the protocol and the secondary
analyses as tables."""

from __future__ import annotations

import numpy as np
import pytest
from tests.report.test_browser import CHROMIUM, probe

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=".ci/run installs chromium")

FONT_PROBE = """<script>
window.addEventListener("load", function () {
  var body = parseFloat(getComputedStyle(document.body).fontSize), smallest = 1e9, shown = 0;
  document.querySelectorAll(".plot svg").forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    if (box.width === 0) return;
    shown += 1;
    var scale = box.width / svg.viewBox.baseVal.width;
    svg.querySelectorAll("text").forEach(function (t) {
      var size = parseFloat(getComputedStyle(t).fontSize) * scale;
      if (size > 0) smallest = Math.min(smallest, size);
    });
  });
  window.parent.postMessage(JSON.stringify({
    body: body, smallest: smallest, shown: shown,
    scroll: document.documentElement.scrollWidth, viewport: window.innerWidth,
    header: !!document.querySelector("header a"),
    tables: document.querySelectorAll("table").length,
    text: document.body.innerText.slice(0, 6000)
  }), "*");
});
</script>"""


def measure(page_html: str, width: int, tmp_path) -> dict:
    page = tmp_path / "page.html"
    page.write_text(page_html)
    return probe(page, width, tmp_path, FONT_PROBE)


def test_the_analysis_page_reads_on_a_phone_and_a_desktop(tmp_path):
    from quicktakes.nof1 import example
    from quicktakes.nof1.analysis import analyze
    from quicktakes.nof1.plots import analysis_html

    data = example.trial_data()
    page = analysis_html(data, analyze(data, np.random.default_rng(0), with_power=False),
                         shown=data.protocol.canonical(), home="/")
    phone = measure(page, 400, tmp_path)
    assert phone["viewport"] == 400 and phone["scroll"] <= 400, phone
    assert phone["shown"] == 2  # the narrow drawings only
    assert phone["smallest"] >= phone["body"], phone  # plot text >= body text
    assert phone["header"] and phone["tables"] >= 4
    text = phone["text"]
    assert "Every arm against every other" in text and "Effect sizes" in text
    assert "physical book, phone, laptop" in text and "['" not in text and "None" not in text
    desktop = measure(page, 1280, tmp_path)
    assert desktop["shown"] == 2 and desktop["scroll"] <= 1280
