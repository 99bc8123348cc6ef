"""Every maze claim's judge on hand-made measurements, for each verdict it can return."""

import itertools

import numpy as np
import pytest

from quicktakes.ledger import Verdict
from quicktakes.maze.claims import (
    Alike,
    Paired,
    Runs,
    alike_parts,
    describe_alike,
    describe_rl_vs,
    describe_very_poor,
    gain,
    improvement,
    judge_alike,
    judge_poor,
    judge_rl_vs,
    judge_very_poor,
    link,
    margin,
    paired,
    separation,
)
from quicktakes.maze.methods import IterationResult, LabResult
from quicktakes.maze.spec import LabSpec

MAZES = 16
_draws = itertools.count()


def it(mean: float, half: float, k: int = 0) -> IterationResult:
    """An iteration whose 16 per-maze scores have exactly this mean and a spread that gives
    about this 95% half-width; every call draws its own maze-to-maze noise."""
    noise = np.random.default_rng(next(_draws)).standard_normal(MAZES)
    noise = (noise - noise.mean()) / noise.std(ddof=1)
    scores = mean + noise * half * np.sqrt(MAZES) / 2.13
    return IterationResult(k, 8, mean, mean - half, mean + half, MAZES, 0.0,
                           scores=[float(x) for x in scores])


def lab(*points: tuple[float, float]) -> LabResult:
    r = LabResult(LabSpec(), "m")
    r.iterations = [it(m, h, k) for k, (m, h) in enumerate(points)]
    return r


def runs(**finals) -> Runs:
    """A comparison: each value one (mean, half) iteration, or several (start, ..., final)."""
    base = {"random": (0.25, 0.03), "heuristic": (0.7, 0.03), "zero-shot": (0.2, 0.03),
            "best-of-n": (0.4, 0.03), "oracle-bc": ((0.2, 0.03), (0.8, 0.03))}
    return Runs({k: lab(*v) if isinstance(v[0], tuple) else lab(v)
                 for k, v in (base | finals).items()})


def test_separation_needs_narrow_intervals_to_call_methods_close():
    assert separation(it(0.5, 0.05), it(0.52, 0.05)) == "overlap"
    assert separation(it(0.5, 0.3), it(0.52, 0.3)) == "unresolved"
    assert separation(it(0.8, 0.05), it(0.3, 0.05)) == "above"
    assert separation(it(0.3, 0.05), it(0.8, 0.3)) == "below"


def test_improvement_reads_the_paired_per_maze_difference():
    assert improvement(it(0.8, 0.05), it(0.3, 0.05)) is Verdict.HOLDS
    assert improvement(it(0.3, 0.05), it(0.8, 0.05)) is Verdict.FAILS
    assert improvement(it(0.5, 0.2), it(0.4, 0.2)) is Verdict.INCONCLUSIVE
    a = it(0.5, 0.2)
    same_mazes = IterationResult(1, 8, 0.53, 0.3, 0.76, MAZES, 0.0,
                                 scores=[x + 0.03 for x in a.scores])
    # the intervals overlap almost wholly, yet every maze gained 0.03: paired, it shows
    assert improvement(same_mazes, a) is Verdict.HOLDS
    with pytest.raises(ValueError, match="same held-out mazes"):
        paired(it(0.5, 0.1), IterationResult(0, 8, 0.5, 0.4, 0.6, 3, 0.0, scores=[0.5] * 3))


@pytest.mark.parametrize(
    "few, verdict",
    [((0.6, 0.05), Verdict.HOLDS), ((0.05, 0.02), Verdict.FAILS),
     ((0.25, 0.2), Verdict.INCONCLUSIVE)],
)
def test_very_poor_mans_rl_judged_both_ways(few, verdict):
    m = runs(**{"few-shot": few})
    assert judge_very_poor(m) is verdict
    text = describe_very_poor(m, verdict)
    assert f"{few[0]:.2f}" in text and "vs oracle BC 0.80" in text and "paired over 16" in text


@pytest.mark.parametrize(
    "points, verdict",
    [([(0.2, 0.05), (0.6, 0.05)], Verdict.HOLDS), ([(0.5, 0.05), (0.1, 0.05)], Verdict.FAILS),
     ([(0.2, 0.2), (0.3, 0.2)], Verdict.INCONCLUSIVE)],
)
def test_poor_mans_rl_judged_both_ways(points, verdict):
    m = Runs({"sft-iter": lab(*points), "random": lab((0.25, 0.03))})
    assert judge_poor(m) is verdict


def _learners(rl, sft, few, start=0.2, half=0.03):
    """Each learner's curve: the start, then its final level reached after one update and
    kept (three checkpoints, 64 training episodes apart)."""
    m = runs(rl=((start, half), rl, rl), **{"sft-iter": ((start, half), sft, sft),
                                            "few-shot": ((start, half), few, few)})
    for k in ("rl", "sft-iter", "few-shot"):
        for j, i in enumerate(m.runs[k].iterations):
            i.samples_used = 64 * j
    return m


@pytest.mark.parametrize(
    "rl, sft, few, verdict",
    [
        ((0.6, 0.03), (0.62, 0.03), (0.6, 0.03), Verdict.HOLDS),
        ((0.35, 0.03), (0.7, 0.03), (0.7, 0.03), Verdict.PARTLY),
        ((0.3, 0.03), (0.6, 0.03), (0.9, 0.03), Verdict.FAILS),
        ((0.6, 0.03), (0.8, 0.03), (0.6, 0.03), Verdict.INCONCLUSIVE),  # at the margin
        ((0.2, 0.03), (0.62, 0.03), (0.6, 0.03), Verdict.PARTLY),  # RL did not learn
        ((0.2, 0.03), (0.2, 0.03), (0.6, 0.03), Verdict.INCONCLUSIVE),  # RL, PMRL flat
        ((0.45, 0.03), (0.38, 0.03), (0.2, 0.03), Verdict.PARTLY),  # session 7's shape
        ((0.6, 0.03), (0.2, 0.25), (0.2, 0.03), Verdict.INCONCLUSIVE),  # PMRL, few-shot did not
        ((0.5, 0.2), (0.55, 0.2), (0.5, 0.2), Verdict.INCONCLUSIVE),  # too wide to tell
    ],
)
def test_rl_vs_poor_mans_rl_judged_every_way(rl, sft, few, verdict):
    m = _learners(rl, sft, few)
    assert margin(m) == pytest.approx(0.2)  # a third of oracle BC's 0.6 gain
    assert judge_rl_vs(m) is verdict
    text = describe_rl_vs(m, verdict)
    assert ("did not learn in this run" in text) == any(gain(m, k).lo <= 0
                                                        for k in ("rl", "sft-iter", "few-shot"))


def test_overlapping_intervals_are_not_equivalence():
    """The old rule: overlap with half-widths <= 0.1 held. Means 0.15 apart with half-widths
    0.09 overlap, yet the paired difference is shown outside a 0.1 margin."""
    m = runs(rl=((0.2, 0.09), (0.45, 0.09)), **{"sft-iter": ((0.2, 0.09), (0.6, 0.09)),
             "few-shot": (0.6, 0.09), "oracle-bc": ((0.2, 0.03), (0.4, 0.03))})
    rl, sft = m.final("rl"), m.final("sft-iter")
    assert rl.hi > sft.lo  # the intervals overlap
    assert margin(m) == pytest.approx(0.1)  # the floor: oracle BC gained only 0.2
    state, d, _ = link(m, "rl", "sft-iter")
    assert state != "equivalent" and d.mean == pytest.approx(-0.15)
    assert judge_rl_vs(m) is not Verdict.HOLDS


def test_a_run_without_learning_is_inconclusive_however_close():
    m = _learners((0.2, 0.03), (0.2, 0.03), (0.2, 0.03))
    e = margin(m)
    _, final, curve = link(m, "rl", "sft-iter")
    assert -e < final.lo and final.hi < e and -e < curve.lo and curve.hi < e  # alike: flat
    assert link(m, "rl", "sft-iter")[0] == "unresolved"  # learning before likeness
    assert judge_rl_vs(m) is Verdict.INCONCLUSIVE
    assert "did not learn" in describe_rl_vs(m, Verdict.INCONCLUSIVE)


def test_a_learner_is_not_close_to_a_method_that_did_not_learn():
    """Session 7's --full shape: RL and poor man's RL learned, few-shot stayed exactly at
    its start. Few-shot ends within the margin of poor man's RL (an equivalence test alone
    would call them close), yet only one of them learned: that link is 'different'."""
    m = _learners((0.45, 0.03), (0.36, 0.03), (0.2, 0.0))
    e = margin(m)
    _, final, _ = link(m, "sft-iter", "few-shot")
    assert final.hi < e  # within the margin
    assert link(m, "sft-iter", "few-shot")[0] == "different"
    assert link(m, "rl", "sft-iter")[0] == "equivalent"
    assert judge_rl_vs(m) is Verdict.PARTLY
    # one learned but not shown above the other: too wide to tell
    wide = _learners((0.45, 0.03), (0.36, 0.03), (0.3, 0.4))
    assert link(wide, "sft-iter", "few-shot")[0] == "unresolved"
    assert judge_rl_vs(wide) is Verdict.INCONCLUSIVE


def alike(over_perm, over_random, behaviour, sft_rl=(0.5, 0.1), base_sft=0.5,
          dim=10_000) -> Alike:
    """A measurement from (mean, half-width) pairs: cos(SFT, RL)'s margins over the two
    nulls, and the behaviour margin (random prompt's KL to SFT minus the right prompt's)."""

    def iv(mean, half, n=10):
        return Paired(mean, mean - half, mean + half, n)

    cos = {s: {"sft~rl": iv(*sft_rl), "sft~sft'": iv(0.6, 0.1), "rl~rl'": iv(0.4, 0.1),
               "sft~rl'": iv(0.3, 0.1)}
           for s in ("gradient", "adam step", "lora adam step", "function")}
    over = {s: {"rl permuted": iv(*over_perm), "sft random": iv(*over_random)} for s in cos}
    kl = {"few-shot~sft": iv(0.3, 0.05), "random few-shot~sft": iv(0.4, 0.05),
          "base~sft": iv(base_sft, 0.05), "base~few-shot": iv(0.2, 0.05)}
    return Alike(cos, over, kl, iv(*behaviour), dim, {})


@pytest.mark.parametrize(
    "m, verdict, parts",
    [
        (alike((0.3, 0.1), (0.2, 0.1), (0.1, 0.05)), Verdict.HOLDS, ("yes", "yes")),
        (alike((0.0, 0.02), (0.3, 0.1), (0.0, 0.02)), Verdict.FAILS, ("no", "no")),
        (alike((0.3, 0.1), (0.2, 0.1), (-0.1, 0.02)), Verdict.PARTLY, ("yes", "no")),
        # both nulls must be beaten: SFT on a random episode is as aligned with RL
        (alike((0.3, 0.1), (0.05, 0.1), (0.1, 0.05)), Verdict.INCONCLUSIVE,
         ("unresolved", "yes")),
        # margins over the nulls, but cos(SFT, RL) itself inside the random band
        (alike((0.3, 0.1), (0.2, 0.1), (0.1, 0.05), sft_rl=(0.01, 0.005)),
         Verdict.INCONCLUSIVE, ("unresolved", "yes")),
        # wide intervals answer nothing
        (alike((0.1, 0.5), (0.1, 0.5), (0.0, 0.5)), Verdict.INCONCLUSIVE,
         ("unresolved", "unresolved")),
    ],
)
def test_updates_alike_judged_every_way(m, verdict, parts):
    assert alike_parts(m) == parts
    assert judge_alike(m) is verdict
    text = describe_alike(m, verdict)
    assert "random directions within ±0.0196" in text and "of the ceiling" in text


def test_the_ceiling_share_reads_the_cross_batch_cosine_against_both_ceilings():
    m = alike((0.3, 0.1), (0.2, 0.1), (0.1, 0.05))
    assert m.ceiling_share("gradient") == pytest.approx(0.3 / (0.6 * 0.4) ** 0.5)


def test_the_comparison_figure_has_a_samples_panel_an_iteration_panel_and_the_tabular_one():
    from quicktakes.maze.compare import comparison_trends
    from quicktakes.report.plot import trends_svg

    def run(used):
        r = LabResult(LabSpec(), "m")
        r.iterations = [IterationResult(k, u, 0.5, 0.4, 0.6, 8, 0.0) for k, u in enumerate(used)]
        return r

    runs_ = {"few-shot": run([8, 24]), "sft-iter": run([8, 24]), "tabular": run([4, 16])}
    trends = comparison_trends(runs_)
    by_x: dict[str, list[str]] = {}
    for t in trends:
        by_x.setdefault(t.x_label, []).append(t.name)
    assert by_x["iteration"] == ["few-shot", "sft-iter"]
    assert by_x["training episodes sampled"] == ["few-shot", "sft-iter", "exact optimum"]
    assert by_x["episodes on the held-out mazes themselves (tabular Q-learning)"] == ["tabular"]
    assert trends_svg(trends, prefix="f-").count('<g id="f-axes_') == 3


def test_updates_alike_with_no_batch_to_learn_from_says_so():
    from quicktakes.maze.alike import AlikeResult, AlikeSpec
    from quicktakes.maze.claims import alike_measured

    m = alike_measured(AlikeResult(AlikeSpec(), 1000, []))
    assert judge_alike(m) is Verdict.INCONCLUSIVE
    assert "No batch had coins" in describe_alike(m, Verdict.INCONCLUSIVE)
    assert m.ceiling_share("gradient") is None


def test_over_seeds_the_interval_is_the_wider_of_mazes_and_seeds():
    """Three seeds whose per-maze differences agree within each seed but whose seed means
    differ: the spread over seeds, not the tight spread over mazes, decides."""
    def iteration(scores):
        return IterationResult(1, 8, float(np.mean(scores)), 0.0, 1.0, len(scores), 0.0,
                               scores=list(scores))

    base = [0.2] * 16
    wobble = np.linspace(-0.01, 0.01, 16)
    afters = [iteration(0.2 + shift + wobble) for shift in (0.02, 0.3, 0.1)]
    befores = [iteration(base)] * 3
    one = paired(afters[0], befores[0])
    three = paired(afters, befores)
    assert one.seeds == 1 and three.seeds == 3 and three.n == 16
    assert three.mean == pytest.approx(0.14)
    over_mazes = paired([iteration(np.mean([a.scores for a in afters], axis=0))], [befores[0]])
    assert three.hi - three.lo > 10 * (over_mazes.hi - over_mazes.lo)
    assert three.lo < 0 < one.lo  # the seeds' disagreement leaves the gain unshown


def test_the_judges_read_every_seed():
    runs = [{"sft-iter": lab((0.2, 0.03), (m, 0.03)), "random": lab((0.25, 0.03))}
            for m in (0.5, 0.21, 0.19)]
    assert judge_poor(Runs(runs[0])) is Verdict.HOLDS
    assert judge_poor(Runs(runs[0], tuple(runs[1:]))) is Verdict.INCONCLUSIVE


def curve(*points: float, half: float = 0.03, every: int = 64) -> LabResult:
    """A learning curve: one (mean, half) checkpoint per point, `every` training episodes
    apart."""
    r = lab(*[(p, half) for p in points])
    for k, i in enumerate(r.iterations):
        i.samples_used = k * every
    return r


def test_the_area_under_a_curve_weighs_each_checkpoint_by_the_episodes_around_it():
    from quicktakes.maze.claims import area

    r = curve(0.2, 0.4, 0.6)
    assert area(r).mean == pytest.approx(0.2 / 4 + 0.4 / 2 + 0.6 / 4)
    uneven = curve(0.2, 0.4, 0.6)
    uneven.iterations[2].samples_used = 256  # the last step spent three times the first
    assert area(uneven).mean == pytest.approx((0.3 * 64 + 0.5 * 192) / 256)
    for a, k in zip(area(r).scores, range(MAZES), strict=True):
        per = [i.scores[k] for i in r.iterations]
        assert a == pytest.approx(per[0] / 4 + per[1] / 2 + per[2] / 4)


@pytest.mark.parametrize(
    "rl, sft, state",
    [
        ((0.2, 0.4, 0.6), (0.2, 0.41, 0.6), "equivalent"),  # the same curve
        ((0.2, 0.2, 0.6), (0.2, 0.8, 0.6), "unresolved"),  # same end, PMRL far sooner
        ((0.2, 0.2, 0.3), (0.2, 0.6, 0.7), "different"),  # apart along the way and at the end
        ((0.2, 0.6, 0.45), (0.2, 0.6, 0.75), "unresolved"),  # close along the way, not at the end
    ],
)
def test_close_is_read_at_the_end_and_over_the_whole_curve(rl, sft, state):
    m = runs(rl=tuple((p, 0.03) for p in rl), **{"sft-iter": tuple((p, 0.03) for p in sft),
             "few-shot": (0.6, 0.03)})
    for k in ("rl", "sft-iter"):
        for j, i in enumerate(m.runs[k].iterations):
            i.samples_used = 64 * j
    got, final, whole = link(m, "rl", "sft-iter")
    assert got == state, (final, whole)
    text = describe_rl_vs(m, judge_rl_vs(m))
    assert "over the curve" in text and "at matched training episodes" in text


def test_the_standard_error_of_a_gain_is_recorded_with_the_claim():
    from quicktakes.maze.claims import show_rl_vs, standard_error

    m = _learners((0.6, 0.03), (0.62, 0.03), (0.6, 0.03))
    se = show_rl_vs(m).config["gain_standard_errors"]
    d = gain(m, "rl")
    scores = np.array(m.runs["rl"].iterations[-1].scores) - np.array(
        m.runs["rl"].iterations[0].scores)
    assert se["rl"] == pytest.approx(scores.std(ddof=1) / np.sqrt(scores.size), abs=1e-4)
    assert standard_error(d) == pytest.approx(se["rl"], abs=1e-4)


def test_a_collapse_between_checkpoints_is_named():
    """A run scored only at some iterations (a checkpoint schedule) still carries every
    update's diagnostics: a collapse in an unscored update reaches the finding."""
    r = lab((0.2, 0.05), (0.2, 0.05))
    r.iterations[1].iteration = 3  # scored at 0 and 3; updates 1-3 ran
    r.updates = [{"collapsed": 0.0}, {"collapsed": 1.0}, {"collapsed": 1.0}]
    m = Runs({"rl": r})
    assert m.collapses("rl") == [2, 3]
    assert "RL after update 2, 3" in m.collapse_note(("rl",))
    r.updates = [{"collapsed": 0.0}] * 3
    assert m.collapse_note(("rl",)) == ""


def test_a_learner_still_playing_one_move_is_named():
    flat = lab((0.09, 0.02), (0.09, 0.02))
    flat.iterations[-1].top_move_share = 1.0
    moving = lab((0.09, 0.02), (0.3, 0.05))
    moving.iterations[-1].top_move_share = 0.4
    m = Runs({"rl": flat, "sft-iter": moving})
    note = m.one_move_note(("rl", "sft-iter", "oracle-bc"))
    assert "RL (100%)" in note and "poor man's RL" not in note
    other_seed = {"rl": moving, "sft-iter": flat}
    assert "poor man's RL (100%)" in Runs({"rl": moving, "sft-iter": moving},
                                          (other_seed,)).one_move_note(("sft-iter",))
    assert Runs({"rl": moving}).one_move_note(("rl",)) == ""
    assert Runs({"rl": lab((0.1, 0.02))}).one_move_note(("rl",)) == ""  # not recorded


def test_each_learners_shared_shift_is_given_where_recorded():
    sft, rl = lab((0.09, 0.02), (0.1, 0.02)), lab((0.09, 0.02), (0.3, 0.05))
    sft.updates = [{"shared_shift": 0.3}, {"shared_shift": 0.4}]
    rl.updates = [{"shared_shift": 0.05}, {"collapsed": 0.0}]  # an update from before
    note = Runs({"sft-iter": sft, "rl": rl}).shift_note(("rl", "sft-iter", "oracle-bc"))
    assert "RL 0.05 (0.05-0.05)" in note and "poor man's RL 0.35 (0.30-0.40)" in note
    assert "oracle BC" not in note
    assert Runs({"rl": lab((0.1, 0.02))}).shift_note(("rl",)) == ""
