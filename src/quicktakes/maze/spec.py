"""One spec for every run of the maze lab: the method, the model behind it, the mazes, the
observation and the budget. The CLI, `maze compare` and the claims all build a `LabSpec` and
call `quicktakes.maze.lab.run`; an option's default is the field's default."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from quicktakes.llm import BackendKind
from quicktakes.llm.precision import Precision
from quicktakes.maze.env import OBSERVATIONS
from quicktakes.maze.grid import MazeConfig, maze_seeds

Method = Literal[
    "random", "heuristic", "q-table", "zero-shot", "best-of-n", "few-shot",
    "oracle-few-shot", "oracle-bc", "sft-iter", "rl",
]
METHODS: tuple[Method, ...] = get_args(Method)
"""Every method by name: the references (random moves, the scripted nearest-coin walk,
tabular Q-learning on each held-out maze itself), the prompting methods (oracle-few-shot:
prompting's ceiling, a prompt of optimal moves), and the three fine-tuning methods. The one
list: the groups below are typed subsets of it."""
REFERENCES: tuple[Method, ...] = ("random", "heuristic", "q-table")
"""Methods that play without a model."""
TRAINING: tuple[Method, ...] = ("oracle-bc", "sft-iter", "rl")
PROMPTING: tuple[Method, ...] = tuple(m for m in METHODS if m not in TRAINING)
LEARNING: tuple[Method, ...] = ("few-shot", *TRAINING)
"""The methods that learn from training episodes: few-shot's prompt and the fine-tuning."""

def _known_observation(name: str) -> str:
    if name not in OBSERVATIONS:
        raise ValueError(f"unknown observation {name!r}; valid: {', '.join(OBSERVATIONS)}")
    return name


ObsName = Annotated[str, AfterValidator(_known_observation)]
"""An observation's name, checked against `OBSERVATIONS` wherever a spec takes one."""


def _schedule(value: object) -> object:
    """`--checkpoints 0,2,4,8` (text, as typed) or a list (a spec file): the iterations,
    strictly increasing from 0 up."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
        if not any(parts):
            raise ValueError("the schedule is empty: give iterations such as 0,2,4,8")
        if not all(p.isdigit() for p in parts):
            raise ValueError(f"{value!r} is not a comma-separated list of whole numbers")
        value = [int(p) for p in parts]
    if isinstance(value, list | tuple):
        if not value:
            raise ValueError("the schedule is empty: give iterations such as 0,2,4,8")
        if any(not isinstance(v, int) or v < 0 for v in value):
            raise ValueError("checkpoints are iterations: whole numbers from 0")
        if any(b <= a for a, b in zip(value, value[1:], strict=False)):
            raise ValueError(f"{', '.join(map(str, value))} is not increasing")
    return value


Schedule = Annotated[tuple[int, ...] | None, BeforeValidator(_schedule)]
"""The iterations whose held-out mazes a training run scores."""

BALANCED: tuple[Method, ...] = ("oracle-bc",)
"""The learners that balance their targets by default (`LabSpec.balance`). Oracle BC: on the
7x7 maze plain it learned the moves' frequencies and stayed flat on 3 of 3 seeds, balanced
it learned on 3 of 3 (docs/results.md, 2026-12-06). Not poor man's RL: balanced, it was
flat on rung 2's seed 1, where plain it learns, and rose on seed 2, where plain it stays
flat; on the 7x7 maze its probability on optimal moves rose on no seed either way. Not RL:
its advantages centred per move left greedy play on the first rung at 0.17 after one update
and 0.79 after two, where plain RL climbs to 0.9 (the move played everywhere is also mostly
wrong there, a signal that centring removes)."""

BEFORE = {"optimizer": "fresh", "balance": False}
"""What a setting added since a run was recorded meant then, where it is not today's default
(runs before `optimizer` built a fresh AdamW per update)."""

DEFAULT_MAZE = MazeConfig()
"""The operating point: MazeConfig's own defaults."""


class BackendSpec(BaseModel):
    """Which model samples the episodes and, for the fine-tuning methods, which weights train."""

    model_config = ConfigDict(extra="forbid")

    kind: BackendKind = Field(
        "hf",
        description="hf: the embedded SmolLM2 in torch (scores whole lockstep batches at "
        "once, step mode only; the weights the fine-tuning methods train); local: the same "
        "GGUF through llama.cpp, an optional extra (scores and generates: plan mode); "
        "openai: a server",
    )
    model: str | None = Field(
        None, description="a GGUF path (local) or a served model id (openai)"
    )
    base_url: str | None = Field(None, description="the OpenAI-compatible server's URL")
    concurrency: int = Field(4, ge=1, le=256, description="parallel requests to a server")
    train_model: str | None = Field(
        None,
        description="fine-tuning with a server: the Hugging Face checkpoint directory the "
        "server serves, trained here",
    )


class LabSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Method = Field(
        "few-shot",
        description="the method to run: a reference (random, the heuristic nearest-coin walk, "
        "q-table: tabular Q-learning on each held-out maze itself with samples x 2^k "
        "episodes at iteration k), a prompting method (oracle-few-shot: K optimal moves "
        "from training mazes as the examples, prompting's ceiling), or a fine-tuning method",
    )
    mode: Literal["step", "plan"] = Field(
        "step", description="step: one move per call; plan: all moves in one completion"
    )
    obs: ObsName = Field("coins", description=f"what the model reads: {', '.join(OBSERVATIONS)}")
    iterations: int = Field(
        3, ge=1, le=100,
        description="iterations: the held-out mazes are scored at each (see --checkpoints), "
        "and a fine-tuning method updates after every one but the last",
    )
    checkpoints: Schedule = Field(
        None,
        description="fine-tuning methods: the iterations at which the held-out mazes are "
        "scored, comma-separated and increasing (0 is before any update; the first and the "
        "last are always scored); every one when not given. Updates between checkpoints "
        "still record their entropy and KL",
    )
    samples: int = Field(4, ge=1, le=256, description="N: episodes per maze per iteration")
    shots: int = Field(8, ge=1, le=64, description="K: (state, move) examples in the prompt")
    train_mazes: int = Field(8, ge=1, le=10_000, description="mazes the learners sample on")
    test_mazes: int = Field(24, ge=1, le=10_000, description="held-out mazes for every score")
    held_out: Literal["test", "validation"] = Field(
        "test",
        description="which mazes score: test, or validation (training-split mazes after the "
        "ones trained on: a rate sweep never reads the test mazes)",
    )
    temperature: float = Field(0.7, ge=0.0, le=2.0, description="sampling temperature")
    finetune: Literal["lora", "full"] = Field("lora", description="LoRA (peft) or every weight")
    lr: float | None = Field(
        None, gt=0.0, le=1.0,
        description="AdamW rate; default for LoRA 3e-3, RL's 1e-3 (at 3e-3 it collapsed onto "
        "one move on the ladder's first rung); 1e-5 for full"
    )
    epochs: int = Field(2, ge=1, le=50, description="passes over each iteration's data")
    batch: int = Field(8, ge=1, le=256, description="examples per gradient step")
    max_pairs: int = Field(
        96, ge=1,
        description="(state, move) pairs per update, subsampled (equal for learners); "
        "--select step: the states per update whose four moves are tried",
    )
    optimizer: Literal["keep", "fresh"] = Field(
        "keep",
        description="AdamW's state across updates: keep one optimizer for the whole run, or "
        "a fresh one per update (each step then moves every weight by about the rate, "
        "whatever its gradient's size: poor man's RL stayed flat that way)",
    )
    lora_targets: str = Field(
        "attention",
        description="--finetune lora: the linear layers the adapter wraps, comma-separated "
        "module names or attention (q/k/v/o), mlp (gate/up/down), all",
    )
    lora_rank: int = Field(8, ge=1, le=256, description="--finetune lora: the adapter's rank")
    drop_flat: bool = Field(
        False,
        description="sft-iter: skip a maze whose episodes all scored the same (its best "
        "episode is no better than the rest: RAGEN's variance filter)",
    )
    balance: bool | None = Field(
        None,
        description="oracle-bc, sft-iter: weight each pair so that every move carries the "
        "same total weight in an update's loss; rl: centre each move's advantages at 0 (the "
        "targets' move frequencies then teach nothing; only how the move depends on the "
        f"state does). Default: on for {', '.join(BALANCED)}",
    )
    evaluation: Literal["sampled", "greedy"] = Field(
        "sampled",
        description="how held-out mazes score: sampled episodes at --temperature, or the "
        "most probable move at every state (no sampling noise)",
    )
    eval_episodes: int = Field(
        1, ge=1, le=64, description="--evaluation sampled: episodes per held-out maze"
    )
    restart: bool = Field(False, description="sft-iter: re-fine-tune from the base (ReST-EM)")
    select: Literal["episode", "step"] | None = Field(
        None,
        description="sft-iter: episode: each maze's best episode, up to its last coin; step: "
        "at visited states try every move, play on with the current policy, keep the move "
        "that led to the most coins (max-pairs states per update); rl: episode: each move's "
        "reward-to-go against its group's; step: the same states and rollouts as poor man's "
        "RL's, every move's coins against the four moves' mean (VinePPO's credit). Default: "
        "step for rl (with episode credit it stayed flat on the 7x7 maze), else episode",
    )
    rollouts: int = Field(
        1, ge=1, le=64, description="--select step: rollouts per move and state"
    )
    extra_episodes: int = Field(
        0, ge=0, le=1_000_000,
        description="few-shot and the learners with episode credit: training episodes per "
        "update beyond samples x train mazes, spread evenly over the training mazes (`maze "
        "compare` gives them what a learner with step credit spends on its rollouts, so "
        "every learner spends the same)",
    )
    precision: Precision = Field(
        "auto",
        description="torch forward passes: bf16 autocast or fp32; auto: bf16 only where the "
        "CPU or GPU does it natively (5.7x slower than fp32 where it is emulated), or "
        "$QUICKTAKES_PRECISION",
    )
    clip: float = Field(0.2, gt=0.0, le=10.0, description="rl: PPO ratio clip")
    sft_clip: float | None = Field(
        None, gt=0.0, le=10.0,
        description="oracle-bc, sft-iter: a trust region for fine-tuning, RL's ratio clip "
        "on cross-entropy: a pair's target move stops pulling once its probability has grown "
        "by this factor over the update (0.2: by 20%); default none, plain cross-entropy",
    )
    sft_centre: bool = Field(
        False,
        description="oracle-bc, sft-iter: cross-entropy less its shared shift: each pair's "
        "pull on the four moves' logits minus the update's mean pull (at the policy before "
        "it), so no move is raised or lowered at every state at once; unbounded below "
        "(--sft-clip bounds it); default off",
    )
    verify: int = Field(
        0, ge=0, le=10_000,
        description="the learners (few-shot and fine-tuning): verified training with "
        "rollback: after each update play this many verification mazes greedily (a split of "
        "their own, never trained on or scored) and keep the update only if their mean score "
        "did not fall, else restore the weights and the optimizer's state (few-shot: the "
        "prompt's examples); their episodes count as spent; 0: off",
    )
    kl: float = Field(0.1, ge=0.0, le=100.0, description="rl: KL penalty to the starting policy")
    maze: MazeConfig = Field(default_factory=lambda: DEFAULT_MAZE.model_copy())
    backend: BackendSpec = Field(default_factory=BackendSpec)
    seed: int = Field(0, description="one seed for mazes' episodes, sampling and training")

    @model_validator(mode="after")
    def _consistent(self) -> LabSpec:
        if self.lr is None:
            lora = 1e-3 if self.method == "rl" else 3e-3
            self.lr = lora if self.finetune == "lora" else 1e-5
        if self.finetune == "lora" and self.backend.model is None and self.trains:
            from quicktakes.llm.lora import EMBEDDED_LINEAR, check_target_names, lora_targets

            # the embedded model's layers are known: a bad name fails before any file is made
            check_target_names(lora_targets(self.lora_targets), EMBEDDED_LINEAR)
        if self.evaluation == "greedy" and self.eval_episodes != 1:
            raise ValueError("--evaluation greedy plays one episode per maze: it is "
                             "deterministic (--eval-episodes 1)")
        if self.balance is None:
            self.balance = self.method in BALANCED
        if self.select is None:
            self.select = "step" if self.method == "rl" else "episode"
        if self.balance and not self.trains:
            raise ValueError("--balance weights a fine-tuning method's targets (oracle-bc, "
                             "sft-iter, rl)")
        if self.select == "step" and self.method not in ("sft-iter", "rl"):
            raise ValueError("--select step is poor man's RL's (sft-iter) selection, or RL's "
                             "per-step credit")
        if self.extra_episodes and (self.select == "step" or self.method not in LEARNING):
            raise ValueError("--extra-episodes spends more training episodes per update: "
                             "few-shot's, or a fine-tuning method's with --select episode")
        if self.sft_clip is not None and self.method not in ("oracle-bc", "sft-iter"):
            raise ValueError("--sft-clip clips fine-tuning on selected moves (oracle-bc, "
                             "sft-iter); RL's surrogate has --clip")
        if self.sft_centre and self.method not in ("oracle-bc", "sft-iter"):
            raise ValueError("--sft-centre centres fine-tuning on selected moves (oracle-bc, "
                             "sft-iter); RL's advantages are centred already")
        if self.verify and self.method not in LEARNING:
            raise ValueError("--verify keeps or rolls back a learner's updates (few-shot, "
                             "oracle-bc, sft-iter, rl)")
        if self.checkpoints is not None:
            if not self.trains:
                raise ValueError("--checkpoints spaces a fine-tuning method's evaluations; "
                                 f"{self.method} scores every iteration")
            if self.checkpoints[-1] >= self.iterations:
                raise ValueError(f"checkpoint {self.checkpoints[-1]} is past the last "
                                 f"iteration ({self.iterations - 1}; --iterations "
                                 f"{self.iterations})")
        if self.method in TRAINING and self.mode != "step":
            raise ValueError(f"{self.method} trains on single moves: it needs --mode step")
        return self

    def scored_mazes(self) -> list[int]:
        """The seeds of the mazes every score reads: the test split, or for a sweep the
        training split's next `test_mazes` after the `train_mazes` the learners sample on."""
        if self.held_out == "test":
            return maze_seeds("test", self.test_mazes)
        return maze_seeds("train", self.test_mazes, offset=self.train_mazes)

    def training_counts(self) -> list[int]:
        """Episodes per training maze in one update: `samples` each, and `extra_episodes`
        shared out as evenly as they go (the first mazes take one more)."""
        more, left = divmod(self.extra_episodes, self.train_mazes)
        return [self.samples + more + (i < left) for i in range(self.train_mazes)]

    @property
    def step_rollouts(self) -> int:
        """The rollouts one update spends on step credit or selection: every move at
        `max_pairs` states, `rollouts` times; 0 with episode credit."""
        return 4 * self.rollouts * self.max_pairs if self.select == "step" else 0

    @property
    def spend(self) -> int:
        """Training samples one update spends: its episodes and its step rollouts."""
        return self.samples * self.train_mazes + self.extra_episodes + self.step_rollouts

    def scored(self, iteration: int) -> bool:
        """Whether `iteration`'s held-out mazes are scored: the first, the last and every
        checkpoint (every iteration without a schedule)."""
        last = self.iterations - 1
        return self.checkpoints is None or iteration in (0, last, *self.checkpoints)

    @property
    def trains(self) -> bool:
        return self.method in TRAINING

    @property
    def needs_model(self) -> bool:
        return self.method not in REFERENCES
