import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

from quicktakes.errors import ConfigError
from quicktakes.maze.env import (
    OBSERVATIONS,
    GoldMazeEnv,
    MazeState,
    move,
    observation,
    start_state,
    transition,
)
from quicktakes.maze.grid import Maze, MazeConfig, distances, generate, maze_for_seed, maze_seeds
from quicktakes.maze.oracle import max_coins, nearest_coin_move, optimal_rollout, solve
from quicktakes.maze.policy import parse_move, parse_plan


def hand_maze(rows: list[str], max_steps: int) -> Maze:
    walls = np.array([[ch == "#" for ch in r] for r in rows])
    coins = tuple((r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "o")
    start = next((r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "@")
    return Maze(walls, coins, start, max_steps)


def test_check_env_passes_on_the_registered_environment():
    import gymnasium as gym

    import quicktakes.maze.env  # noqa: F401  (registers quicktakes/GoldMaze-v0)

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
    from pydantic import ValidationError

    try:
        cfg = MazeConfig(size=size, wall_density=density, coins=coins, max_steps=12)
        maze = generate(cfg, np.random.default_rng(seed), max_tries=200)
    except (ConfigError, ValidationError):
        return  # settings with no solvable maze are refused, never returned
    reach = distances(maze.walls, maze.start)
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


def brute_force_best(maze: Maze, state: MazeState) -> int:
    """Most coins from `state`: exhaustive search over (position, mask) by breadth, written
    without the oracle's tables (the old BFS), as an independent reference."""
    index = {c: i for i, c in enumerate(maze.coins)}
    frontier = {(state.pos, state.mask)}
    best = state.mask.bit_count()
    for _ in range(maze.max_steps - state.t):
        nxt = set()
        for pos, mask in frontier:
            for a in range(4):
                p = move(maze, pos, a)
                m = mask | (1 << index[p]) if p in index else mask
                nxt.add((p, m))
                best = max(best, m.bit_count())
        frontier = nxt
    return best - state.mask.bit_count()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), moves=st.lists(st.integers(0, 3), min_size=1, max_size=14))
def test_the_env_is_the_one_engine(seed, moves):
    """Random move sequences through the env, `transition`, the tabular MDP and the oracle's
    table give the same positions and coins."""
    from quicktakes.maze.tabular import maze_mdp

    cfg = MazeConfig(size=5, wall_density=0.3, coins=3, max_steps=14)
    maze = maze_for_seed(cfg, seed)
    env = GoldMazeEnv(**cfg.model_dump())
    env.reset(options={"maze": maze})
    mdp, states = maze_mdp(maze)
    full = (1 << len(maze.coins)) - 1
    sol = solve(maze)
    n = maze.walls.size
    state = start_state(maze)
    for a in moves:
        if state.coins == len(maze.coins):
            break
        s_idx = states[(state.pos, state.mask)]
        state, r = transition(maze, state, a)
        _, r_env, _, _, info = env.step(a)
        assert env.state == state and r_env == r and info["coins"] == state.coins
        target = int(np.argmax(mdp.T[0, s_idx, a]))
        expect = len(states) if state.mask == full else states[(state.pos, state.mask)]
        assert target == expect and mdp.R[0, s_idx, a] == r
        # the oracle's value of this move = its reward plus the best from the next state
        before_left = maze.max_steps - state.t + 1
        assert sol.q.shape[1] == n * (full + 1) and before_left >= 1


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_oracle_labels_are_optimal_from_every_state_on_the_path(seed):
    cfg = MazeConfig(size=5, wall_density=0.25, coins=3, max_steps=10)
    maze = maze_for_seed(cfg, seed)
    sol = solve(maze)
    assert sol.optimum == brute_force_best(maze, start_state(maze))
    for state, best in optimal_rollout(sol):
        to_go = brute_force_best(maze, state)
        for a in best:  # every labelled move keeps the exact optimum reachable
            nxt, r = transition(maze, state, a)
            assert r + brute_force_best(maze, nxt) == to_go
        for a in set(range(4)) - set(best):
            nxt, r = transition(maze, state, a)
            assert r + brute_force_best(maze, nxt) < to_go


def test_following_the_oracle_collects_the_optimum():
    maze = hand_maze(["o.@.oo"], 7)
    sol = solve(maze)
    path = optimal_rollout(sol)
    state = start_state(maze)
    for _, best in path:
        state, _ = transition(maze, state, best[0])
    assert state.coins == sol.optimum == 3  # right twice first, then left: 2 + 5 moves


def test_nearest_coin_walk_can_be_beaten():
    """Greedy goes left to the nearest coin and cannot come back for both on the right."""
    maze = hand_maze(["o..@..oo"], 7)
    state = start_state(maze)
    for _ in range(maze.max_steps):
        state, _ = transition(maze, state, nearest_coin_move(maze, state))
    assert state.coins < solve(maze).optimum


def test_observations_by_name():
    maze = hand_maze(["@.#", ".o.", "..o"], 5)
    state = start_state(maze)
    coins = observation("coins").render(maze, state, "step")
    assert coins == "Coins: 1 down 1 right; 2 down 2 right. Blocked: up, left. 5 moves left."
    near = observation("nearest").render(maze, state, "step")
    assert near.startswith("Nearest coin: 1 down 1 right.")
    assert observation("grid").render(maze, state, "step").startswith("@.#\n.o.\n..o")
    assert set(OBSERVATIONS) == {"grid", "coins", "nearest"}
    with pytest.raises(ConfigError, match="unknown observation 'pixels'"):
        observation("pixels")
    env = GoldMazeEnv(obs="coins")
    _, info = env.reset(options={"maze": maze})
    assert info["text"] == coins


def test_a_maze_too_small_for_its_coins_is_refused():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="too few for 8 coins"):
        MazeConfig(size=3, wall_density=0.3, coins=8)
