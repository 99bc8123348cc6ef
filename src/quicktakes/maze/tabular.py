"""The "what is attainable" reference: tabular Q-learning on each maze's exact state space.

States are (position, coins collected); collecting the last coin ends the episode. The batched
engine from quicktakes.reward learns each held-out maze on its own (no generalization), so its
line shows what the sample budget could buy with a perfect memory of this very maze.
"""

from __future__ import annotations

import numpy as np

from quicktakes.maze.grid import Maze
from quicktakes.maze.rules import MazeState, start_state, transition
from quicktakes.reward.mdp import MDPBatch
from quicktakes.reward.qlearning import QLearningConfig, q_learning

GAMMA = 0.95
Key = tuple[tuple[int, int], int]


def maze_mdp(maze: Maze) -> tuple[MDPBatch, dict[Key, int]]:
    """The maze as a finite MDP over (position, collected mask), stepped by the env's
    `transition`: reward 1 per new coin; collecting the last one ends the episode."""
    full = (1 << len(maze.coins)) - 1
    start = start_state(maze)
    states = {(start.pos, start.mask): 0}
    frontier = [start]
    edges = []
    while frontier:
        nxt = []
        for s in frontier:
            for a in range(4):
                s2, r = transition(maze, s, a)
                edges.append(((s.pos, s.mask), a, (s2.pos, s2.mask), r))
                if (s2.pos, s2.mask) not in states and s2.mask != full:
                    states[(s2.pos, s2.mask)] = len(states)
                    nxt.append(MazeState(s2.pos, s2.mask))
        frontier = nxt
    S = len(states)
    T = np.zeros((1, S, 4, S + 1))
    R = np.zeros((1, S, 4))
    for key, a, key2, r in edges:
        i = states[key]
        T[0, i, a, S if key2[1] == full else states[key2]] = 1.0
        R[0, i, a] = r
    startd = np.zeros((1, S))
    startd[0, 0] = 1.0
    return MDPBatch(T, R, np.ones((1, S), bool), startd, "maze"), states


def greedy_coins(maze: Maze, Q: np.ndarray, states: dict[Key, int]) -> int:
    state = start_state(maze)
    for _ in range(maze.max_steps):
        key = (state.pos, state.mask)
        if key not in states:
            break
        state, _ = transition(maze, state, int(np.argmax(Q[states[key]])))
    return state.coins


def tabular_score(maze: Maze, optimum: int, episodes: int, rng: np.random.Generator) -> float:
    """Normalized coins of the greedy policy after `episodes * max_steps` Q-learning updates."""
    mdp, states = maze_mdp(maze)
    cfg = QLearningConfig(
        gamma=GAMMA, exploration="epsilon-greedy", epsilon=0.3, max_episode_steps=maze.max_steps
    )
    Q = q_learning(mdp, mdp.R, max(1, episodes * maze.max_steps), cfg, rng)[0]
    return greedy_coins(maze, Q, states) / optimum if optimum else 0.0
