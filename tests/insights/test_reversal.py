"""The reversal-curse experiment on the real embedded weights, tiny budgets."""

import numpy as np
import pytest
import torch

from quicktakes.insights.facts import REVERSE_TESTS, Fact
from quicktakes.insights.reversal import (
    ReversalSpec,
    completion_logprobs,
    run_reversal,
    score_direction,
)

HAND = [
    Fact("Vorla Quintash", "the composer of 'Silent Harbor'"),
    Fact("Drimi Zolkova", "the architect of 'Amber Spires'"),
    Fact("Tresa Bleumark", "the painter of 'Frozen Delta'"),
]


@pytest.fixture(scope="module")
def exact():
    """fp32 (no autocast): scores comparable to an independent computation."""
    from quicktakes.llm.hf import HFBackend

    return HFBackend(seed=0, precision="fp32")


def _one(backend, prompt: str, completion: str) -> float:
    """log p(completion | prompt), one unpadded sequence at a time."""
    tok = backend.tokenizer
    p = tok(prompt, add_special_tokens=False)["input_ids"]
    c = tok(completion, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = backend.model(input_ids=torch.tensor([p + c])).logits[0]
    logp = torch.log_softmax(logits.double(), dim=-1)
    return float(sum(logp[len(p) - 1 + i, t] for i, t in enumerate(c)))


def test_reverse_scoring_ranks_exactly_the_candidates_it_claims(exact):
    s = score_direction(exact, HAND, "reverse", batch=4, templates=1)
    prompt, completion = REVERSE_TESTS[0]
    table = np.array(
        [
            [_one(exact, prompt.format(desc=f.desc), completion.format(name=c.name)) for c in HAND]
            for f in HAND
        ]
    )
    ranks = (table > np.diag(table)[:, None]).sum(axis=1)
    assert s.rank == tuple(int(r) for r in ranks)
    assert s.top1 == tuple(bool(r == 0) for r in ranks)
    assert s.logp_right == pytest.approx(np.diag(table).mean(), abs=1e-3)
    off = (table.sum() - np.trace(table)) / 6
    assert s.logp_other == pytest.approx(off, abs=1e-3)


def test_greedy_flag_marks_the_models_own_continuation(exact):
    tok = exact.tokenizer
    prompt = "The capital of France is"
    ids = tok(prompt, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        out = exact.model.generate(torch.tensor([ids]), max_new_tokens=3, do_sample=False)
    cont = tok.decode(out[0, len(ids) :])
    assert tok(cont, add_special_tokens=False)["input_ids"] == out[0, len(ids) :].tolist()
    lp, greedy = completion_logprobs(exact, [(prompt, cont), (prompt, " a banana tree")])
    assert greedy.tolist() == [True, False]
    assert lp[0] > lp[1]


def test_fine_tuning_raises_the_forward_likelihood_of_trained_facts():
    r = run_reversal(
        ReversalSpec(
            facts=3,
            epochs=3,
            eval_every=3,
            finetune="lora",
            lr=3e-3,
            paraphrases=2,
            test_templates=1,
            batch=8,
        )
    )
    first, last = r.checkpoints[0].scores["forward"], r.checkpoints[-1].scores["forward"]
    assert [c.epoch for c in r.checkpoints] == [0, 3]
    assert last.logp_right > first.logp_right + 1.0
    assert "in-context" in r.checkpoints[0].scores
    assert r.checkpoints[-1].loss is not None


def test_chance_is_the_rules_and_matches_a_simulation():
    from quicktakes.insights.reversal import candidate_pools, rule_chance

    rng = np.random.default_rng(0)
    n, m = 12, 4
    pool = candidate_pools(n, m, rng)
    assert (pool.sum(axis=1) == m).all() and pool.diagonal().all()
    one = rng.normal(size=(1, n, n))
    assert rule_chance(one, pool) == pytest.approx(1 / m)  # one template: one first per pool
    # templates that agree leave it at 1/m; independent ones raise it to about 1-(1-1/m)^2
    assert rule_chance(np.concatenate([one, one]), pool) == pytest.approx(1 / m)
    independent = np.mean([rule_chance(rng.normal(size=(2, n, n)), pool) for _ in range(400)])
    assert independent == pytest.approx(1 - (1 - 1 / m) ** 2, abs=0.01)
    # a model blind to which candidate is right: put the right one anywhere in its pool
    # and count the rule's hits; the rate is the chance computed on the same scores
    scores = rng.normal(size=(2, n, n)) + rng.normal(size=(1, n, n))  # correlated templates
    masked = np.where(pool[None], scores, -np.inf)
    first = (masked >= masked.max(axis=2, keepdims=True)).mean(axis=0) >= 0.5
    hits = [first[i, rng.choice(np.flatnonzero(pool[i]))] for i in range(n)
            for _ in range(20_000)]
    assert rule_chance(scores, pool) == pytest.approx(np.mean(hits), abs=5e-3)
    assert 1 / m < rule_chance(scores, pool) < 2 / m


def test_scoring_ranks_only_each_facts_pool(exact):
    facts = [*HAND, Fact("Kelo Brandish", "the inventor of 'Hollow Lantern'")]
    pool = np.eye(4, dtype=bool)
    pool[[0, 1, 2, 3], [1, 2, 3, 0]] = True  # each fact against the next one only
    s = score_direction(exact, facts, "reverse", batch=4, templates=1, pool=pool)
    prompt, completion = REVERSE_TESTS[0]
    table = np.array([[_one(exact, prompt.format(desc=f.desc), completion.format(name=c.name))
                       for c in facts] for f in facts])
    nxt = table[[0, 1, 2, 3], [1, 2, 3, 0]]
    assert s.candidates == 2 and s.chance == pytest.approx(0.5)
    assert s.rank == tuple(int(x) for x in nxt > np.diag(table))
    assert s.logp_other == pytest.approx(nxt.mean(), abs=1e-3)


def test_sign_flip_test_on_known_differences():
    from quicktakes.insights.reversal import sign_flip_p

    assert sign_flip_p([1.0, 2.0, 0.5, 3.0, 1.5]) == pytest.approx(1 / 32)
    assert sign_flip_p([1.0, -1.0, 2.0, -2.0]) > 0.4
    assert sign_flip_p(list(np.linspace(0.1, 2.0, 40))) < 1e-3  # the Monte Carlo branch


def test_the_control_ranks_only_the_names_in_its_prompt(exact):
    facts = [*HAND, Fact("Kelo Brandish", "the inventor of 'Hollow Lantern'"),
             Fact("Umbri Castellan", "the founder of 'Crimson Ledger'")]
    s = score_direction(exact, facts, "in-context", batch=8, templates=1,
                        rng=np.random.default_rng(0))
    assert s.candidates == 3 and max(s.rank) <= 2
    r = score_direction(exact, facts, "reverse", batch=8, templates=1)
    assert r.candidates == 5 and len(r.margin) == 5 and len(r.top1_per_token) == 5
