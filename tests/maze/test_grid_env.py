import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

from quicktakes.errors import ConfigError
from quicktakes.maze.env import GoldMazeEnv
from quicktakes.maze.grid import Maze, MazeConfig, _reachable, generate, max_coins, maze_seeds
from quicktakes.maze.policy import parse_move, parse_plan


def hand_maze(rows: list[str], max_steps: int) -> Maze:
    walls = np.array([[ch == "#" for ch in r] for r in rows])
    coins = tuple((r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "o")
    start = next((r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "@")
    return Maze(walls, coins, start, max_steps)


def test_check_env_passes_on_the_registered_environment():
    import gymnasium as gym

    import quicktakes.maze  # noqa: F401  (registers quicktakes/GoldMaze-v0)

    env = gym.make("quicktakes/GoldMaze-v0", render_mode="ansi")
    check_env(env.unwrapped, skip_render_check=False)


def test_same_seed_same_maze_and_render():
    a, b = GoldMazeEnv(render_mode="ansi"), GoldMazeEnv(render_mode="ansi")
    a.reset(seed=5)
    b.reset(seed=5)
    assert a.render() == b.render()
    a.reset(seed=6)
    assert a.render() != b.render()


@pytest.mark.parametrize(
    "rows, steps, expected",
    [
        (["@o.o"], 1, 1),
        (["@o.o"], 2, 1),
        (["@o.o"], 3, 2),
        (["o.@.o"], 2, 1),
        (["o.@.o"], 6, 2),  # two left, then four right
        (["o.@.o"], 5, 1),
        (["@#o", "..#", "..."], 10, 0),  # the coin is walled off
        (["@..", "##.", "o.."], 6, 1),
        (["@..", "##.", "o.."], 5, 0),
    ],
)
def test_exact_maximum_on_hand_made_mazes(rows, steps, expected):
    assert max_coins(hand_maze(rows, steps)) == expected


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    size=st.integers(3, 8),
    density=st.floats(0, 0.5),
    coins=st.integers(1, 4),
)
def test_generator_only_yields_solvable_mazes(seed, size, density, coins):
    cfg = MazeConfig(size=size, wall_density=density, coins=coins, max_steps=12)
    try:
        maze = generate(cfg, np.random.default_rng(seed), max_tries=200)
    except ConfigError:
        return  # settings with no solvable maze are refused, never returned
    reach = _reachable(maze.walls, maze.start)
    assert all(c in reach for c in maze.coins)
    assert 1 <= max_coins(maze) <= coins
    assert not maze.walls[maze.start]


def test_episode_rewards_sum_to_coins_and_end_correctly():
    env = GoldMazeEnv()
    env.reset(seed=1, options={"maze": hand_maze(["@o.o"], 5)})
    rewards = [env.step(3)[1] for _ in range(2)]
    obs, r, terminated, truncated, info = env.step(3)
    assert rewards == [1.0, 0.0] and r == 1.0 and terminated and not truncated
    assert info["coins"] == 2 == info["max_coins"]


def test_train_and_test_seeds_never_overlap():
    assert not set(maze_seeds("train", 1000)) & set(maze_seeds("test", 1000))
    with pytest.raises(ConfigError):
        maze_seeds("validation", 3)


@pytest.mark.parametrize(
    "text, move",
    [
        ("U", 0),
        (" d", 1),
        ("L.", 2),
        ("R\n", 3),
        ("Up", 0),
        ("down!", 1),
        ("Move: R", 3),
        ("", None),
        ("maybe", None),
        ("\x00\x01", None),
        ("UDLR" * 1000, 0),
        ("🙂 L", 2),
        ("I think LEFT", None),
    ],
)
def test_parse_move_on_adversarial_outputs(text, move):
    assert parse_move(text) == move


def test_parse_plan_counts_invalid_characters():
    assert parse_plan("UURD", 3) == ([0, 0, 3], 0)
    assert parse_plan("U x R?", 5) == ([0, 3], 2)
    assert parse_plan("", 4) == ([], 0)
