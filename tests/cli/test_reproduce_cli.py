import json
from html.parser import HTMLParser

import pytest

GAMES = ["games.lottery", "games.ipd-rounds", "games.newcomb-iterated"]


def _without_timings(data):
    for c in data["claims"]:
        c.pop("seconds")
    return data


@pytest.fixture(scope="module")
def two_reports(tmp_path_factory):
    from typer.testing import CliRunner

    from quicktakes.cli import app

    runner = CliRunner()
    outs = []
    for i, order in enumerate((GAMES, GAMES[::-1])):
        out = tmp_path_factory.mktemp(f"report{i}")
        r = runner.invoke(app, ["reproduce", *order, "--seed", "5", "--out", str(out)])
        assert r.exit_code == 0, r.output
        outs.append((out, r))
    return outs


def test_reproduce_prints_the_rows_and_where_the_report_is(two_reports):
    out, r = two_reports[0]
    for cid in GAMES:
        assert cid in r.stdout
    assert str((out / "index.html").resolve()) in r.stdout


def test_results_json_schema(two_reports):
    data = json.loads((two_reports[0][0] / "results.json").read_text())
    assert set(data) >= {"version", "seed", "budget", "claims"}
    assert data["seed"] == 5 and data["budget"] == "fast"
    assert [c["id"] for c in data["claims"]] == GAMES
    for c in data["claims"]:
        assert set(c) >= {"id", "take", "verdict", "finding", "seconds", "config", "trends"}
        assert c["verdict"] in {"holds", "partly", "fails", "discrepancy", "inconclusive"}
        for t in c["trends"]:
            assert set(t) >= {"name", "x_label", "y_label", "points"}
            for p in t["points"]:
                assert set(p) == {"x", "y", "lo", "hi", "n"}
                assert p["lo"] <= p["y"] <= p["hi"] + 1e-9


def test_same_seed_same_results_in_either_order_apart_from_timings(two_reports):
    """The second report ran the claims in reverse order: every claim's entry in results.json
    must serialize to the same bytes."""
    a, b = (_without_timings(json.loads((o / "results.json").read_text())) for o, _ in two_reports)
    assert [c["id"] for c in b["claims"]] == GAMES[::-1]
    by_id = {c["id"]: json.dumps(c) for c in b["claims"]}
    for c in a["claims"]:
        assert json.dumps(c) == by_id[c["id"]]
    assert {k: v for k, v in a.items() if k != "claims"} == {
        k: v for k, v in b.items() if k != "claims"
    }


def test_a_different_seed_changes_the_simulated_points():
    from quicktakes.ledger import Budget, get_claim, run_claim

    claim = get_claim("games.lottery")
    runs = [run_claim(claim, Budget.FAST, s).evidence.trends for s in (5, 6)]
    assert runs[0][-1].points != runs[1][-1].points  # the Monte Carlo cross-check
    assert runs[0][0].points == runs[1][0].points  # the exact curve


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections: list[str] = []
        self.urls: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        a = dict(attrs)
        if tag == "section" and "claim" in (a.get("class") or "") and a.get("id"):
            self.sections.append(a["id"])
        for k in ("src", "href", "xlink:href"):
            v = a.get(k)
            if v and not v.startswith("#") and not v.startswith("data:"):
                self.urls.append(v)


def test_html_report_is_self_contained_with_one_section_per_claim(two_reports):
    html = (two_reports[0][0] / "index.html").read_text()
    c = _Collector()
    c.feed(html)
    from quicktakes.ledger.claim import SEED_URL

    assert c.sections == [*GAMES, "environment"]
    assert c.urls == [SEED_URL]  # the quotes' source; nothing is loaded from elsewhere
    assert "svg" in c.tags
    assert "@import" not in html and "url(http" not in html
    assert "Järviniemi" in html


def test_unknown_claim_id_exits_2_listing_valid_ids(cli, one_line_error, tmp_path):
    r = cli("reproduce", "games.nope", "--out", str(tmp_path / "r"))
    one_line_error(r, "games.nope", "games.lottery", "games.newcomb-iterated")
    assert not (tmp_path / "r").exists()


def test_claims_lists_every_claim(cli):
    r = cli("claims")
    assert r.exit_code == 0
    for cid in GAMES:
        assert cid in r.stdout


def test_version_and_claims_json(cli):
    from quicktakes import __version__

    r = cli("--version")
    assert r.exit_code == 0 and r.stdout.strip() == f"quicktakes {__version__}"
    claims = json.loads(cli("claims", "--json").stdout)
    ids = [c["id"] for c in claims]
    assert "prompting.very-poor-mans-rl" in ids and "prompting.updates-alike" in ids
    assert all(c["quote"] and c["holds_if"] for c in claims)
    assert "prompting.very-poor-mans-rl" in cli("claims").stdout  # never truncated
