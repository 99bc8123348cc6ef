"""Prompting's ceiling: the oracle few-shot prompt holds only states whose one optimal move is
the reply, as even over the moves as the paths allow, in a seeded order."""

from collections import Counter

import pytest

from quicktakes.maze.env import observation
from quicktakes.maze.grid import MOVES, MazeConfig, maze_seeds
from quicktakes.maze.methods import oracle_examples
from quicktakes.maze.oracle import MazeBank, optimal_rollout
from quicktakes.maze.spec import LabSpec


def _unique_best(bank, seeds, obs):
    """Every state on the seeds' optimal paths with one best move: its text -> that move."""
    out = {}
    for s in seeds:
        sol = bank(s)
        for state, best in optimal_rollout(sol):
            if len(best) == 1:
                out[obs.render(sol.maze, state, "step")] = MOVES[best[0]]
    return out


@pytest.mark.parametrize("shots", [4, 8, 32])
def test_every_example_is_its_states_only_optimal_move_and_the_moves_are_balanced(shots):
    bank, obs = MazeBank(MazeConfig()), observation("coins")
    seeds = maze_seeds("train", 16)
    pairs = oracle_examples(bank, seeds, shots, obs, seed=3)
    truth = _unique_best(bank, seeds, obs)
    assert len(pairs) == shots
    assert all(truth[text] == move for text, move in pairs)
    counts = Counter(move for _, move in pairs)
    assert max(counts.values()) - min(counts.get(m, 0) for m in MOVES) <= 1  # no move dominates
    assert len(set(pairs)) == shots  # no state twice


def test_the_order_is_seeded_and_the_set_is_not():
    bank, obs = MazeBank(MazeConfig()), observation("coins")
    seeds = maze_seeds("train", 8)
    a = oracle_examples(bank, seeds, 8, obs, seed=1)
    assert a == oracle_examples(bank, seeds, 8, obs, seed=1)
    b = oracle_examples(bank, seeds, 8, obs, seed=2)
    assert a != b and sorted(a) == sorted(b)


def test_a_method_name_in_the_lab_spec():
    assert LabSpec(method="oracle-few-shot").trains is False
    assert LabSpec(method="oracle-few-shot").needs_model
