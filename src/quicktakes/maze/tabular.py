"""The "what is attainable" reference: tabular Q-learning on each maze's exact state space.

States are (position, coins collected); collecting the last coin ends the episode. The batched
engine from quicktakes.reward learns each held-out maze on its own (no generalization), so its
line shows what the sample budget could buy with a perfect memory of this very maze.
"""

from __future__ import annotations

import numpy as np

from quicktakes.maze.grid import Maze
from quicktakes.reward.mdp import MDPBatch
from quicktakes.reward.qlearning import QLearningConfig, q_learning

GAMMA = 0.95


def maze_mdp(maze: Maze) -> tuple[MDPBatch, dict[tuple[tuple[int, int], int], int]]:
    """The maze as a finite MDP over (position, collected mask): reward 1 per new coin."""
    index = {c: i for i, c in enumerate(maze.coins)}
    full = (1 << len(maze.coins)) - 1
    start = (maze.start, 0)
    states = {start: 0}
    frontier = [start]
    edges = []
    while frontier:
        nxt = []
        for pos, mask in frontier:
            for a in range(4):
                p = maze.move(pos, a)
                m = mask | (1 << index[p]) if p in index else mask
                edges.append(((pos, mask), a, (p, m), float(m != mask)))
                if (p, m) not in states and m != full:
                    states[(p, m)] = len(states)
                    nxt.append((p, m))
        frontier = nxt
    S = len(states)
    T = np.zeros((1, S, 4, S + 1))
    R = np.zeros((1, S, 4))
    for s, a, s2, r in edges:
        i = states[s]
        T[0, i, a, S if s2[1] == full else states[s2]] = 1.0
        R[0, i, a] = r
    startd = np.zeros((1, S))
    startd[0, 0] = 1.0
    return MDPBatch(T, R, np.ones((1, S), bool), startd, "maze"), states


def greedy_coins(maze: Maze, Q: np.ndarray, states: dict[tuple[tuple[int, int], int], int]) -> int:
    index = {c: i for i, c in enumerate(maze.coins)}
    pos, mask = maze.start, 0
    for _ in range(maze.max_steps):
        key = (pos, mask)
        if key not in states:
            break
        a = int(np.argmax(Q[states[key]]))
        pos = maze.move(pos, a)
        if pos in index:
            mask |= 1 << index[pos]
    return bin(mask).count("1")


def tabular_score(maze: Maze, optimum: int, episodes: int, rng: np.random.Generator) -> float:
    """Normalized coins of the greedy policy after `episodes * max_steps` Q-learning updates."""
    mdp, states = maze_mdp(maze)
    cfg = QLearningConfig(
        gamma=GAMMA, exploration="epsilon-greedy", epsilon=0.3, max_episode_steps=maze.max_steps
    )
    Q = q_learning(mdp, mdp.R, max(1, episodes * maze.max_steps), cfg, rng)[0]
    return greedy_coins(maze, Q, states) / optimum if optimum else 0.0
