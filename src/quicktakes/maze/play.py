"""A person plays a maze: single keys on a terminal (the board redraws in place), or one move
per line when piped. The environment is the same one every model plays."""

from __future__ import annotations

from collections.abc import Callable

from quicktakes.maze.env import GoldMazeEnv
from quicktakes.maze.grid import MOVES

LEGEND = "@ you   o coin   # wall   . floor"
KEYS = {"\x1b[A": "U", "\x1b[B": "D", "\x1b[C": "R", "\x1b[D": "L",
        "w": "U", "s": "D", "a": "L", "d": "R", "W": "U", "S": "D", "A": "L", "D": "R"}
"""Single keys on a terminal: arrows and WASD (so 'd' is right, as in games)."""
HINT = "arrows or WASD to move, q to quit"


def key_move(key: str) -> str | None:
    """U/D/L/R for a move key, 'Q' to quit, None for anything else (no move used)."""
    if key in ("q", "Q", "\x03", "\x04"):
        return "Q"
    return KEYS.get(key)


def board(env: GoldMazeEnv) -> str:
    assert env.maze is not None
    return (
        f"{env.render()}\n\n{LEGEND}\n"
        f"coins {env.state.coins}/{len(env.maze.coins)} (best possible {env.optimum})   "
        f"move {env.state.t}/{env.maze.max_steps}"
    )


def _read_key() -> str:
    """One key press, arrows included, from a terminal in raw mode."""
    import os
    import sys
    import termios
    import tty

    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        key = os.read(fd, 1).decode(errors="ignore")
        if key == "\x1b":
            key += os.read(fd, 2).decode(errors="ignore")
        return key
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def play_keys(env: GoldMazeEnv) -> None:
    """On a terminal: a key moves at once; an invalid key uses no move."""
    from rich.live import Live
    from rich.text import Text

    with Live(Text(board(env) + f"\n{HINT}"), auto_refresh=False, transient=False) as live:
        while True:
            move = key_move(_read_key())
            if move == "Q":
                break
            if move is None:
                continue
            _, _, term, trunc, _ = env.step(MOVES.index(move))
            live.update(Text(board(env) + f"\n{HINT}"), refresh=True)
            if term or trunc:
                break


def play_lines(
    env: GoldMazeEnv, ask: Callable[[str], str], say: Callable[[str], None]
) -> None:
    """Piped: one of U, D, L, R (or Q) per line; anything else is asked again."""
    assert env.maze is not None
    say(LEGEND)
    while True:
        say(board(env))
        move = ask(f"move {env.state.t + 1}/{env.maze.max_steps} (U/D/L/R, Q to quit)")
        move = move.strip().upper()
        if move == "Q":
            return
        if move not in MOVES:
            say("U, D, L or R, please (no move used)")
            continue
        _, _, term, trunc, _ = env.step(MOVES.index(move))
        if term or trunc:
            say(board(env))
            return
