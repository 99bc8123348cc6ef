"""The docs cannot drift: the generated pages (each command's --help, docs/claims.md) are
what the generator makes now, every claim is in docs/claims.md, every link in README and docs/
resolves to a file of the repository, and every README example command runs with --help."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def generator():
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_pages_are_up_to_date():
    gen = generator()
    stale = [p.name for p, text in gen.pages().items() if p.read_text(encoding="utf-8") != text]
    assert stale == [], f"run python docs/generate.py: {stale} are stale"


def test_every_registered_claim_is_in_the_claims_page():
    from quicktakes.ledger import all_claims

    page = (ROOT / "docs" / "claims.md").read_text(encoding="utf-8")
    for claim in all_claims():
        assert f"## `{claim.id}`" in page, claim.id


def test_a_results_file_with_claims_the_registry_lacks_is_refused_in_one_line(tmp_path,
                                                                               monkeypatch,
                                                                               capsys):
    gen = generator()
    monkeypatch.setattr(gen, "RESULTS", tmp_path)
    (tmp_path / "fast.json").write_text(json.dumps({"seed": 0, "claims": [
        {"id": "games.lottery", "verdict": "holds", "finding": "x"},
        {"id": "games.gone", "verdict": "holds", "finding": "y"}]}))
    assert gen.main(["--check"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "games.gone" in err[0]


def test_a_committed_result_appears_beside_its_claim(tmp_path, monkeypatch):
    gen = generator()
    monkeypatch.setattr(gen, "RESULTS", tmp_path)
    (tmp_path / "full.json").write_text(json.dumps({"seed": 3, "versions": {"cpu": "x86_64"},
                                                    "claims": [{"id": "games.lottery",
                                                                "verdict": "holds",
                                                                "finding": "it held"}]}))
    page = gen.claims_page()
    lottery = page.split("## `games.lottery`")[1].split("## `")[0]
    assert "- `--full`: **holds**. it held" in lottery and "seed 3" in page


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_resolves_to_a_file(page):
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def readme_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            for part in line.split("#")[0].split("&&"):
                words = shlex.split(part)
                if words and words[0] == "quicktakes":
                    out.append(words[1:])
    return out


def test_the_readme_is_short_and_has_no_dated_figures():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text)


@pytest.mark.parametrize("words", readme_commands(), ids=" ".join)
def test_each_readme_example_command_exists(cli, words):
    command = [w for w in words if not w.startswith("-")][:2]
    r = cli(*command, "--help")
    if r.exit_code != 0:  # a one-word command whose second word is an argument
        r = cli(command[0], "--help")
    assert r.exit_code == 0, (words, r.output)
    options = [w.split("=")[0] for w in words if w.startswith("--") and w != "--help"]
    for option in options:
        assert option in r.stdout, (words, option)
