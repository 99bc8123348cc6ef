"""The invented facts: deterministic, distinct, and tested with templates never trained on."""

import re

import numpy as np
import pytest

from quicktakes.errors import ConfigError
from quicktakes.insights.facts import (
    FORWARD_TESTS,
    REVERSE_TESTS,
    TRAIN_TEMPLATES,
    make_facts,
    statements,
)


def test_facts_are_deterministic_per_seed():
    assert make_facts(30, np.random.default_rng(5)) == make_facts(30, np.random.default_rng(5))
    assert make_facts(30, np.random.default_rng(5)) != make_facts(30, np.random.default_rng(6))


@pytest.mark.parametrize("seed", range(5))
def test_no_name_collides_with_another(seed):
    facts = make_facts(100, np.random.default_rng(seed))
    names = [f.name for f in facts]
    assert len(set(names)) == len(names)
    assert len({f.desc for f in facts}) == len(facts)
    assert len({n.split()[0] for n in names}) == len(names)
    assert len({n.split()[1] for n in names}) == len(names)
    for a in names:
        assert not any(a != b and a in b for b in names)


def _skeleton(text: str) -> str:
    return re.sub(r"\{\w+\}", "{}", text).strip(" .?")


def test_training_and_test_templates_are_disjoint():
    train = {_skeleton(t) for t in TRAIN_TEMPLATES}
    for prompt, completion in FORWARD_TESTS + REVERSE_TESTS:
        whole = _skeleton(prompt + completion)
        assert whole not in train
        assert not any(t.startswith(_skeleton(prompt)) for t in train)
    assert all(t.index("{name}") < t.index("{desc}") for t in TRAIN_TEMPLATES)
    assert all("{desc}" in p and "{name}" in c for p, c in REVERSE_TESTS)


def test_statements_put_every_fact_in_every_template():
    facts = make_facts(4, np.random.default_rng(0))
    texts = statements(facts)
    assert len(texts) == 4 * len(TRAIN_TEMPLATES)
    assert all(sum(f.name in t and f.desc in t for f in facts) == 1 for t in texts)


@pytest.mark.parametrize("n", [-1, 0, 1, 10_000])
def test_fact_counts_out_of_range_are_refused(n):
    with pytest.raises(ConfigError):
        make_facts(n, np.random.default_rng(0))


def test_no_rendered_test_contains_a_training_statement():
    """On the rendered strings, not the skeletons: a test prompt that contains a training
    sentence measures recall of that sentence, not of the fact."""
    facts = make_facts(6, np.random.default_rng(1))
    trained = [t.rstrip(".") for t in statements(facts)]
    for f in facts:
        for prompt, completion in FORWARD_TESTS + REVERSE_TESTS:
            rendered = (prompt + completion).format(name=f.name, desc=f.desc)
            assert not any(t in rendered for t in trained), rendered
