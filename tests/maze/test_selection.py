"""What poor man's RL trains on: its targets end at the best episode's last coin, and the
share of them that are optimal moves is measured against the share among all samples."""

import numpy as np
import pytest

from quicktakes.llm.cache import SampleCache
from quicktakes.maze.env import OBSERVATIONS, MazeState, transition
from quicktakes.maze.grid import MazeConfig, maze_seeds
from quicktakes.maze.oracle import MazeBank, optimal_rollout
from quicktakes.maze.policy import LLMPolicy, Trajectory
from quicktakes.maze.train import optimal_share, sft_data

CFG = MazeConfig(size=5, wall_density=0.2, coins=2, max_steps=12)


@pytest.fixture
def policy(tmp_path):
    """Only its prompt rendering is used: no model is asked anything."""
    return LLMPolicy(None, SampleCache(tmp_path / "c.db"), obs=OBSERVATIONS["coins"])  # type: ignore[arg-type]


def _play(sol, seed: int, moves: list[int]) -> Trajectory:
    """A trajectory of `moves` from the start, stepped through the maze's own rules."""
    obs = OBSERVATIONS["coins"]
    t = Trajectory(seed, optimum=sol.optimum)
    state = MazeState(sol.maze.start)
    for mv in moves:
        t.states.append(obs.render(sol.maze, state, "step"))
        t.visited.append(state)
        t.moves.append(int(mv))
        state, _ = transition(sol.maze, state, int(mv))
    t.coins = state.coins
    return t


def test_targets_end_at_the_last_coin_and_are_optimal_on_the_optimal_path(policy):
    mazes = MazeBank(CFG)
    for seed in maze_seeds("train", 4):
        sol = mazes(seed)
        path = [best[0] for _, best in optimal_rollout(sol)]
        wander = [0, 1, 0][: CFG.max_steps - len(path)]  # up and down: nothing left to gain
        t = _play(sol, seed, path + wander)
        assert t.coins == sol.optimum
        assert t.scoring_moves() == len(path)
        assert len(sft_data(policy, [t])) == len(path)  # the moves after the last coin dropped
        assert optimal_share(mazes, [t], upto_last_coin=True) == 1.0


def test_no_coin_no_targets_and_random_moves_are_rarely_all_optimal(policy):
    mazes = MazeBank(CFG)
    seed = maze_seeds("train", 1)[0]
    sol = mazes(seed)
    t = _play(sol, seed, [])
    assert t.scoring_moves() == 0 and len(sft_data(policy, [t])) == 0
    rng = np.random.default_rng(0)
    walks = [_play(sol, seed, list(rng.integers(0, 4, CFG.max_steps))) for _ in range(20)]
    share = optimal_share(mazes, walks, upto_last_coin=False)
    assert 0.0 < share < 0.8
