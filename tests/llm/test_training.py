"""Fine-tuning and RL on the real embedded weights (dequantized, LoRA), tiny budgets."""

import numpy as np
import pytest
import torch

from quicktakes.errors import ConfigError
from quicktakes.llm import SampleCache
from quicktakes.maze.compare import check_equal_budgets
from quicktakes.maze.env import OBSERVATIONS, start_state
from quicktakes.maze.grid import MazeConfig
from quicktakes.maze.methods import IterationResult, LabResult
from quicktakes.maze.policy import LLMPolicy
from quicktakes.maze.spec import LabSpec
from quicktakes.maze.train import (
    Update,
    centred,
    clipped_sft_loss,
    entropy,
    move_log_probs,
    ppo_loss,
    run_training,
    sft_loss,
    shared_pull,
    shared_shift,
    train_steps,
)

TINY = MazeConfig(size=4, coins=1, max_steps=3)


def spec(**kw):
    """A LabSpec for the tiny training tests."""
    return LabSpec(**({"method": "sft-iter", "maze": TINY, "test_mazes": 8} | kw))


@pytest.fixture(scope="session")
def hf():
    from quicktakes.llm.hf import HFBackend

    return HFBackend(seed=0)


@pytest.fixture
def fresh(hf):
    hf.reset()
    yield hf
    hf.reset()


def _conv(hf, i=0):
    from quicktakes.maze.grid import maze_for_seed

    maze = maze_for_seed(TINY, i)
    policy = LLMPolicy(hf, SampleCache(), obs=OBSERVATIONS["coins"])
    return policy.messages(OBSERVATIONS["coins"].render(maze, start_state(maze), "step"))


def onehot(moves):
    return np.eye(4)[moves]


def test_an_sft_step_lowers_the_loss_on_a_tiny_batch(fresh):
    convs = [_conv(fresh, i) for i in range(4)]
    data = Update(convs, onehot([0, 1, 2, 3]))
    cfg = spec(lr=1e-3, epochs=3, batch=4)

    def loss() -> float:
        with torch.no_grad():
            return sft_loss(move_log_probs(fresh, convs, cfg.temperature), data.targets).item()

    before = loss()
    d = train_steps(fresh, data, cfg, np.random.default_rng(0))
    assert loss() < before
    assert d["steps"] == 3 and d["pairs"] == 4


def test_rl_update_raises_the_probability_of_a_rewarded_action(fresh):
    conv = [_conv(fresh)]
    with torch.no_grad():
        before = move_log_probs(fresh, conv, 0.7)[0, 3].item()
    cfg = spec(method="rl", lr=1e-3, epochs=1, batch=1)
    train_steps(fresh, Update(conv, onehot([3]), np.array([1.0])), cfg, np.random.default_rng(0))
    with torch.no_grad():
        after = move_log_probs(fresh, conv, 0.7)[0, 3].item()
    assert after > before


def test_the_kl_to_the_start_keeps_rl_from_collapsing_on_a_fixed_batch(fresh):
    """Several updates on one batch that always rewards U: without the penalty the move
    distribution collapses onto U; the KL to the starting policy keeps it above a floor."""
    convs = [_conv(fresh, i) for i in range(8)]
    data = Update(convs, onehot([0] * 8), np.ones(8))
    with torch.no_grad():
        start = entropy(move_log_probs(fresh, convs, 0.7))
    after = {}
    for kl in (0.0, 1.0):
        fresh.reset()
        cfg = spec(method="rl", lr=1e-3, epochs=2, batch=8, clip=0.2, kl=kl)
        for _ in range(4):
            d = train_steps(fresh, data, cfg, np.random.default_rng(0))
        after[kl] = d["entropy_after"]
    assert after[0.0] < 0.25 * start
    assert after[1.0] > 0.5 * start


def test_rl_diagnostics_say_where_an_update_went(fresh):
    """The share of moves whose ratio left the clip (no gradient from them any more), the
    advantages' positive share and the gradient norms: a strong push on one rewarded move
    leaves the clip, a tiny one stays inside it."""
    convs = [_conv(fresh, i) for i in range(8)]
    data = Update(convs, onehot([0] * 8), np.ones(8))
    outside = {}
    for lr in (3e-2, 1e-7):
        fresh.reset()
        cfg = spec(method="rl", lr=lr, epochs=4, batch=4, clip=0.2, kl=0.0)
        d = train_steps(fresh, data, cfg, np.random.default_rng(0))
        assert d["adv_positive"] == 1.0 and d["grad_norm"] > 0
        assert d["steps"] == 8 and 0.0 <= d["grad_clipped"] <= 1.0
        outside[lr] = d["ratio_outside_clip"]
    assert outside[3e-2] >= 0.5 and outside[1e-7] == 0.0


def test_balanced_targets_give_every_move_the_same_total_weight():
    data = Update([[]] * 5, np.vstack([onehot([0, 0, 0, 1]), [0.0, 0.5, 0.5, 0.0]]))
    rows = data.balanced().targets
    per_move = rows.sum(axis=0)
    assert np.allclose(per_move[:3], per_move[0]) and per_move[3] == 0.0  # R never a target
    assert np.isclose(rows.sum(axis=1).mean(), 1.0)
    logp = torch.log_softmax(torch.zeros(5, 4), dim=1)
    # on a uniform policy every row's cross-entropy is ln 4: rows of mean weight 1 keep it
    assert torch.isclose(sft_loss(logp, rows), sft_loss(logp, data.targets))
    sure_of_u = torch.log_softmax(torch.tensor([[2.0, 0, 0, 0]] * 5), dim=1)
    # the frequent move U is cheap to fit: balanced, the loss weighs the rare ones more
    assert sft_loss(sure_of_u, rows) > sft_loss(sure_of_u, data.targets)


def test_centred_advantages_cannot_shift_a_move_everywhere():
    moves = [0, 0, 0, 1, 3]
    data = Update([[]] * 5, onehot(moves), np.array([1.0, 1.0, -0.5, 2.0, 0.5]))
    adv = data.balanced().advantages
    # each move's advantages sum to 0; within a move their order is kept
    assert np.allclose(np.bincount(moves, weights=adv, minlength=4), 0.0)
    assert adv[0] == adv[1] > adv[2] and adv[3] == adv[4] == 0.0
    # the surrogate's gradient on a state-independent logit per move is then 0 at ratio 1
    bias = torch.zeros(4, requires_grad=True)
    logp = torch.log_softmax(bias.expand(5, 4), dim=1)
    loss, _ = ppo_loss(logp, logp.detach(), logp.detach(), data.targets, adv, 0.2, 0.0)
    loss.backward()
    assert torch.allclose(bias.grad, torch.zeros(4), atol=1e-7)
    raw = torch.zeros(4, requires_grad=True)
    logp = torch.log_softmax(raw.expand(5, 4), dim=1)
    loss, _ = ppo_loss(logp, logp.detach(), logp.detach(), data.targets, data.advantages,
                       0.2, 0.0)
    loss.backward()
    assert raw.grad.abs().max() > 0.1  # uncentred, the batch raises U and R everywhere


def test_losses_on_hand_made_distributions():
    uniform = torch.log(torch.full((2, 4), 0.25))
    assert sft_loss(uniform, np.array([[1.0, 0, 0, 0], [0.5, 0.5, 0, 0]])).item() == \
        pytest.approx(np.log(4))
    loss, kl = ppo_loss(uniform, uniform, uniform, onehot([0, 1]), np.array([1.0, -1.0]), 0.2, 0.5)
    assert kl.item() == pytest.approx(0.0) and loss.item() == pytest.approx(0.0)


def test_clipped_cross_entropy_is_cross_entropy_until_a_target_has_grown_by_the_clip():
    targets = np.array([[1.0, 0, 0, 0], [0, 0.5, 0.5, 0]])
    old = torch.log_softmax(torch.tensor([[0.0, 1, 2, 3], [1.0, 0, -1, 0]]), dim=1)
    z = old.clone().requires_grad_(True)
    clipped_sft_loss(torch.log_softmax(z, dim=1), old, targets, 0.2).backward()
    w = z.grad.clone()
    z.grad = None
    sft_loss(torch.log_softmax(z, dim=1), targets).backward()
    assert torch.allclose(w, z.grad, atol=1e-6)  # at ratio 1: cross-entropy's gradient
    # the first row's target has grown by 30%: it stops pulling; the second row still pulls
    grown = old.clone()
    grown[0] = torch.log_softmax(old[0] + torch.tensor([np.log(1.3) * 1.5, 0, 0, 0]), dim=0)
    z = grown.clone().requires_grad_(True)
    clipped_sft_loss(torch.log_softmax(z, dim=1), old, targets, 0.2).backward()
    assert torch.exp(grown[0, 0] - old[0, 0]) > 1.2
    assert torch.allclose(z.grad[0], torch.zeros(4)) and z.grad[1].abs().max() > 0.01


def test_the_clip_holds_a_move_pushed_down_once_it_has_fallen_by_the_clip():
    """Under --sft-centre a weight may be negative: cross-entropy would pay for driving that
    move's probability to 0; the clip stops the push once it has fallen by 20%."""
    down = np.array([[0.0, -1.0, 0, 0]])
    old = torch.log_softmax(torch.tensor([[0.0, 1, 0, 0]]), dim=1)
    z = old.clone().requires_grad_(True)
    clipped_sft_loss(torch.log_softmax(z, dim=1), old, down, 0.2).backward()
    assert z.grad[0, 1] > 0.1  # at ratio 1 it pushes D down (the loss rises with D's logit)
    fallen = torch.log_softmax(old[0] + torch.tensor([0.0, float(np.log(0.6)), 0, 0]), dim=0)[None]
    assert torch.exp(fallen[0, 1] - old[0, 1]) < 0.8
    z = fallen.clone().requires_grad_(True)
    clipped_sft_loss(torch.log_softmax(z, dim=1), old, down, 0.2).backward()
    assert torch.allclose(z.grad, torch.zeros(1, 4))


def test_centred_cross_entropy_pulls_as_cross_entropy_less_the_shared_part():
    targets = onehot([0, 1, 2, 3])
    logp = torch.log(torch.tensor([[0.1, 0.7, 0.1, 0.1]] * 4))
    shared = shared_pull(targets, logp)
    assert shared.sum() == pytest.approx(0.0, abs=1e-6)
    assert shared[1] == pytest.approx(0.25 - 0.7)  # D: a quarter of the labels, p 0.7
    z = logp.clone().requires_grad_(True)
    sft_loss(torch.log_softmax(z, dim=1), targets).backward()
    plain = z.grad.clone()
    z.grad = None
    sft_loss(torch.log_softmax(z, dim=1), centred(targets, shared)).backward()
    # the loss is a mean over the rows: each row's gradient moves by shared / rows
    assert torch.allclose(z.grad, plain + torch.tensor(shared, dtype=torch.float32) / 4,
                          atol=1e-6)
    # what is left sums to 0 over the states, move by move: no move rises or falls everywhere
    assert torch.allclose(z.grad.sum(dim=0), torch.zeros(4), atol=1e-6)
    assert plain.sum(dim=0)[1] == pytest.approx(0.45)  # plain cross-entropy lowers D


def test_the_shared_shift_tells_a_pull_on_the_moves_frequencies_from_one_on_the_states():
    favours_d = torch.log(torch.tensor([[0.1, 0.7, 0.1, 0.1]] * 4))
    # cross-entropy towards each move once (balanced labels) from a policy that plays D
    # mostly: it lowers D everywhere
    sft = Update([[]] * 4, onehot([0, 1, 2, 3]))
    assert shared_shift(sft, favours_d) > 0.25
    # the same labels from a uniform policy: all of the pull depends on the state
    assert shared_shift(sft, torch.log(torch.full((4, 4), 0.25))) == pytest.approx(0.0)
    assert shared_shift(Update([[]] * 4, np.exp(favours_d.numpy())), favours_d) == 0.0
    # RL's step credit, four pairs per state (one conversation each): per state the pull is
    # the advantages, which differ from state to state here, and agree everywhere there
    states = [[{"role": "user", "content": str(i)}] for i in range(4)]
    convs = [c for c in states for _ in range(4)]
    moves = onehot([0, 1, 2, 3] * 4)
    a = np.array([[1.5, -0.5, -0.5, -0.5], [-0.5, 1.5, -0.5, -0.5],
                  [-0.5, -0.5, 1.5, -0.5], [-0.5, -0.5, -0.5, 1.5]]).ravel()
    logp = torch.log(torch.tensor([[0.1, 0.7, 0.1, 0.1]] * 16))
    assert shared_shift(Update(convs, moves, a), logp) == pytest.approx(0.0, abs=1e-12)
    same = np.tile([1.5, -0.5, -0.5, -0.5], 4)
    assert shared_shift(Update(convs, moves, same), logp) == pytest.approx(1.0)


def test_data_meets_the_model_on_its_device():
    """Targets are built where the model's outputs live: a meta-device logit tensor would
    fail at once if any host tensor were mixed in."""
    logp = torch.log_softmax(torch.zeros(2, 4, device="meta"), dim=-1)
    assert sft_loss(logp, onehot([0, 1])).device.type == "meta"
    loss, _ = ppo_loss(logp, logp, logp, onehot([0, 1]), np.array([1.0, -1.0]), 0.2, 0.1)
    assert loss.device.type == "meta"
    with pytest.raises((RuntimeError, NotImplementedError)):
        (logp * torch.ones(2, 4)).sum().item()  # what mixing would do


def test_saved_adapters_reload_with_identical_scores(fresh, tmp_path):
    conv = _conv(fresh)
    cfg = spec(lr=5e-3, epochs=1, batch=1)
    train_steps(fresh, Update([conv], onehot([2])), cfg, np.random.default_rng(0))
    trained = fresh.score(conv, ["U", "D", "L", "R"])
    ident = fresh.model_id
    fresh.save(tmp_path / "adapter")
    fresh.reset()
    assert fresh.model_id != ident and fresh.score(conv, ["U", "D", "L", "R"]) != trained
    fresh.load(tmp_path / "adapter")
    assert fresh.model_id == ident
    assert fresh.score(conv, ["U", "D", "L", "R"]) == pytest.approx(trained, abs=1e-9)


def test_training_resumes_after_an_interruption_without_redoing_finished_iterations(
    fresh, tmp_path
):
    cfg = spec(
        method="oracle-bc", iterations=3, samples=2, train_mazes=1, test_mazes=1, epochs=1
    )

    def interrupt(note: str) -> None:
        if note.startswith("oracle-bc: iteration 1, sampling"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_training(cfg, fresh, SampleCache(), tmp_path / "run", interrupt)
    after_first = fresh.model_id
    fresh.reset()
    notes: list[str] = []
    again = run_training(cfg, fresh, SampleCache(), tmp_path / "run", notes.append)
    assert notes[0] == "oracle-bc: iteration 0 already done, loaded"
    assert not any("iteration 0, sampling" in n for n in notes)
    assert again.iterations[0].samples_used == 0  # evaluation episodes are not spent
    assert [i.iteration for i in again.iterations] == [0, 1, 2]
    assert again.model != after_first  # iteration 1 trained on top of iteration 0's weights


def test_more_iterations_train_the_previous_last_one_before_going_on(fresh, tmp_path):
    # oracle BC: its labels exist whatever the sampled episodes scored
    cfg = spec(
        method="oracle-bc", iterations=1, samples=2, train_mazes=1, test_mazes=1, epochs=1,
        maze=TINY,
    )
    first = run_training(cfg, fresh, SampleCache(), tmp_path / "run")
    notes: list[str] = []
    again = run_training(
        cfg.model_copy(update={"iterations": 2}),
        fresh,
        SampleCache(),
        tmp_path / "run",
        notes.append,
    )
    assert "oracle-bc: iteration 0 evaluated before; training it now" in notes
    assert vars(again.iterations[0]) == vars(first.iterations[0])  # the same evaluation,
    assert not first.updates and again.updates[0]["pairs"] > 0  # now followed by its update
    assert again.iterations[1].samples_used == 2  # the training samples, not the test's
    assert (tmp_path / "run" / "iter-0" / fresh.checkpoint_file).exists()


def test_compare_refuses_unequal_budgets():
    def lab(used):
        r = LabResult(LabSpec(), "m")
        r.iterations = [IterationResult(0, u, 0.5, 0.4, 0.6, 8, 0.0) for u in used]
        return r

    check_equal_budgets({"few-shot": lab([8, 24]), "sft-iter": lab([8, 24]), "rl": lab([8, 24])})
    with pytest.raises(ConfigError, match="unequal"):
        check_equal_budgets({"few-shot": lab([8, 24]), "sft-iter": lab([8, 40])})


def test_a_run_directory_only_resumes_the_same_run(fresh, tmp_path):
    cfg = spec(
        method="sft-iter", iterations=1, samples=1, train_mazes=1, test_mazes=1, maze=TINY
    )
    run_training(cfg, fresh, SampleCache(), tmp_path / "run")
    with pytest.raises(ConfigError, match="lr"):
        run_training(cfg.model_copy(update={"lr": 0.5}), fresh, SampleCache(), tmp_path / "run")


@pytest.fixture(scope="module")
def full():
    from quicktakes.llm.hf import HFBackend

    backend = HFBackend(seed=0, finetune="full")
    yield backend
    del backend


def test_full_fine_tuning_lowers_the_loss_and_reloads_with_identical_scores(full, tmp_path):
    base_id, conv = full.model_id, _conv(full)
    base = full.score(conv, ["U", "D", "L", "R"])
    data = Update([_conv(full, i) for i in range(4)], onehot([0, 0, 0, 0]))
    cfg = spec(finetune="full", epochs=3, batch=4)
    assert cfg.lr == 1e-5
    with torch.no_grad():
        before = sft_loss(move_log_probs(full, data.convs, 0.7), data.targets).item()
    train_steps(full, data, cfg, np.random.default_rng(0))
    with torch.no_grad():
        assert sft_loss(move_log_probs(full, data.convs, 0.7), data.targets).item() < before
    assert full.model_id.split("+")[1].startswith("full") and full.model_id != base_id
    trained = full.score(conv, ["U", "D", "L", "R"])
    full.save(tmp_path / "ckpt")
    assert (tmp_path / "ckpt" / "model.safetensors").exists()
    full.reset()
    assert full.model_id == base_id
    assert full.score(conv, ["U", "D", "L", "R"]) == pytest.approx(base, abs=1e-9)
    full.load(tmp_path / "ckpt")
    assert full.score(conv, ["U", "D", "L", "R"]) == pytest.approx(trained, abs=1e-9)
    full.reset()


def test_a_run_refuses_a_backend_that_fine_tunes_otherwise(fresh, tmp_path):
    cfg = spec(finetune="full", iterations=1, maze=TINY)
    with pytest.raises(ConfigError, match="fine-tunes lora"):
        run_training(cfg, fresh, SampleCache(), tmp_path / "run")


def test_a_server_that_cannot_load_adapters_stops_the_run_before_any_sampling(
    fresh, tmp_path, llama_server
):
    """llama.cpp's server has no run-time LoRA endpoint; sampling it would be stale."""
    from quicktakes.errors import BackendError
    from quicktakes.llm.remote import OpenAIBackend, ServedAdapters

    served = ServedAdapters(OpenAIBackend(llama_server))
    cfg = spec(iterations=2, samples=1, train_mazes=1, test_mazes=1, maze=TINY)
    with pytest.raises(BackendError, match="cannot load LoRA adapters at run time"):
        run_training(cfg, fresh, SampleCache(), tmp_path / "run", served=served)
    assert not (tmp_path / "run").exists()
    assert served.backend.usage.calls == 0
    with pytest.raises(ConfigError, match="needs --finetune lora"):
        run_training(
            cfg.model_copy(update={"finetune": "full", "lr": 1e-5}),
            fresh,
            SampleCache(),
            tmp_path / "run",
            served=served,
        )


def test_cli_training_against_a_server_is_a_one_line_error_when_it_cannot_follow(
    cli, one_line_error, llama_server, tmp_path
):
    from quicktakes.llm.hf import dequantized_dir
    from quicktakes.llm.local import embedded_model_path

    args = ["maze", "run", "--method", "sft-iter", "--backend", "openai", "--base-url"]
    one_line_error(cli(*args, llama_server), "--train-model")
    one_line_error(cli(*args, llama_server, "--train-model", str(tmp_path / "no")), "no such")
    r = cli(
        *args,
        llama_server,
        "--train-model",
        str(dequantized_dir(embedded_model_path())),
        "--out",
        str(tmp_path / "runs"),
    )
    one_line_error(r, "cannot load LoRA adapters")
    assert not list((tmp_path / "runs").glob("sft-iter*"))


def test_oracle_bc_learns_on_a_tiny_budget(fresh, tmp_path):
    """Behaviour cloning of the exact optimum lowers its cross-entropy: the ceiling method
    runs end to end and records its diagnostics."""
    cfg = spec(method="oracle-bc", iterations=2, samples=2, train_mazes=2, test_mazes=2,
                      lr=5e-3, epochs=2)
    r = run_training(cfg, fresh, SampleCache(), tmp_path / "run")
    (d,) = r.updates
    assert d["pairs"] >= 2 and d["steps"] >= 1
    assert d["entropy_after"] < d["entropy_before"]  # the targets are mostly one move


def test_a_shared_few_shot_opening_is_read_once_and_scores_the_same(fresh):
    """The shared-opening path must give the plain pass's scores (fp32, so no bf16 noise)."""
    from quicktakes.maze.grid import maze_for_seed

    texts = [
        OBSERVATIONS["coins"].render(m, start_state(m), "step")
        for m in (maze_for_seed(MazeConfig(), i) for i in range(14))
    ]
    shots = [(t, "ULDR"[i % 4]) for i, t in enumerate(texts[8:])]
    policy = LLMPolicy(fresh, SampleCache(), obs=OBSERVATIONS["coins"], examples=shots)
    convs = [policy.messages(t) for t in texts[:8]]
    precision, fresh.autocast = fresh.autocast, False
    try:
        before = fresh.usage.extra.get("reused_prompt_tokens", 0.0)
        shared = fresh.score_batch(convs, list("UDLR"))
        assert fresh.usage.extra["reused_prompt_tokens"] > before  # the shared path ran
        plain = [fresh.score_batch([c], list("UDLR"))[0] for c in convs]
    finally:
        fresh.autocast = precision
    assert np.allclose(shared, plain, atol=1e-3)
    assert np.std(np.array(shared)[:, 0]) > 1e-3  # rows differ: each read its own state


def test_the_shared_opening_gives_the_plain_pass_gradients(fresh):
    """Training reads the system prompt once per batch: the loss and its gradient must equal
    those of one padded pass over whole prompts (fp32)."""
    convs = [_conv(fresh, i) for i in range(4)]
    ids = fresh._ids(convs)
    cand = fresh.candidate_ids(list("UDLR"))
    params = [p for p in fresh.model.parameters() if p.requires_grad]
    torch.manual_seed(0)
    for p in params:  # B = 0 at the start would leave A without gradient
        p.data += 0.01 * torch.randn_like(p)
    before = fresh.usage.extra.get("reused_prompt_tokens", 0.0)
    precision, fresh.autocast = fresh.autocast, False
    grads = []
    try:
        for logits in (
            lambda: fresh.prompt_logits(ids),
            lambda: fresh.last_logits(fresh.tokenizer.pad({"input_ids": ids}, return_tensors="pt")),
        ):
            fresh.model.zero_grad()
            torch.log_softmax(logits()[:, cand], -1)[:, 0].sum().backward()
            grads.append(torch.cat([p.grad.flatten() for p in params]).clone())
    finally:
        fresh.autocast = precision
    assert fresh.usage.extra["reused_prompt_tokens"] > before  # the shared path ran
    assert torch.linalg.norm(grads[0]) > 0
    assert torch.allclose(grads[0], grads[1], rtol=1e-3, atol=1e-5)


def test_sft_records_how_many_of_its_targets_are_optimal(fresh, tmp_path):
    cfg = spec(iterations=2, samples=2, train_mazes=2, test_mazes=1, epochs=1)
    r = run_training(cfg, fresh, SampleCache(), tmp_path / "run")
    (d,) = r.updates
    assert 0.0 <= d["optimal_share_sampled"] <= 1.0
    if "pairs" in d:  # some best episode collected a coin: its targets were measured too
        assert 0.0 <= d["optimal_share_targets"] <= 1.0


def _alike_states(backend, n=6):
    from quicktakes.llm import SampleCache
    from quicktakes.maze.env import observation
    from quicktakes.maze.grid import maze_seeds
    from quicktakes.maze.oracle import MazeBank, optimal_rollout
    from quicktakes.maze.policy import LLMPolicy
    from quicktakes.maze.spec import DEFAULT_MAZE

    obs = observation("coins")
    policy = LLMPolicy(backend, SampleCache(), "step", 0.7, obs=obs)
    sol = MazeBank(DEFAULT_MAZE)(maze_seeds("train", 1)[0])
    path = optimal_rollout(sol)[:n]
    return [policy.messages(obs.render(sol.maze, s, "step")) for s, _ in path], [
        best[0] for _, best in path
    ]


def test_a_step_down_the_dense_gradient_lowers_the_loss_and_the_weights_come_back(fresh):
    """The updates-alike instruments on the model itself: the dense gradient of the SFT loss
    points downhill, a small step's change in log pi is linear (opposite steps, opposite
    changes), and the weights are put back bit for bit."""
    from quicktakes.maze.alike import (
        centered,
        cosine,
        fp32,
        function_change,
        model_gradients,
        probe_log_probs,
        targeted,
    )

    convs, moves = _alike_states(fresh)
    coefs = {"sft": np.eye(4)[moves], "same": np.eye(4)[moves]}
    g = model_gradients(fresh, convs, coefs, 0.7)
    assert g["sft"].size == sum(w.numel() for w in targeted(fresh)) == 26_542_080
    assert cosine(g["sft"], g["same"]) == pytest.approx(1.0, abs=1e-6)
    before = [w.detach().clone() for w in targeted(fresh)]
    with fp32(fresh):
        base = probe_log_probs(fresh, convs, 0.7)
    down = function_change(fresh, g["sft"], convs, base, 0.7)
    up = function_change(fresh, -g["sft"], convs, base, 0.7)
    assert all(torch.equal(a, b) for a, b in zip(before, targeted(fresh), strict=True))
    assert cosine(down, up) < -0.99
    # down the gradient the chosen moves gain log-probability: the loss falls
    gained = down.reshape(-1, 4)[np.arange(len(moves)), moves]
    assert gained.mean() > 0
    assert np.allclose(centered(base).mean(axis=1), 0.0, atol=1e-6)


class Optimal:
    """The exact optimum as a player: the first optimal move from every state."""

    mode = "step"

    def __init__(self, mazes):
        self.mazes = mazes

    def act(self, envs, texts, rngs, seeds):
        from quicktakes.maze.oracle import solve

        return [solve(e.maze).optimal_moves(e.state)[0] for e in envs]


def test_step_selection_with_an_optimal_continuation_labels_only_optimal_moves(fresh):
    """Try every move, play on optimally: the move that led to the most coins is an optimal
    move, from every state the episodes visited (and the budget counts every rollout)."""
    from quicktakes.maze.methods import episodes
    from quicktakes.maze.oracle import MazeBank
    from quicktakes.maze.policy import RandomPolicy
    from quicktakes.maze.train import step_data

    cfg = spec(maze=MazeConfig(size=5, wall_density=0.2, coins=2, max_steps=6), max_pairs=40,
               rollouts=1, select="step")
    mazes = MazeBank(cfg.maze)
    policy = LLMPolicy(fresh, SampleCache(), "step", 0.7, obs=OBSERVATIONS["coins"])
    groups = episodes(RandomPolicy(), mazes, [11, 12, 13], 3, 0, "walk", "coins")
    data = step_data(policy, mazes, groups, cfg, np.random.default_rng(0), "t", Optimal(mazes))
    assert len(data) > 10 and data.sampled == cfg.step_rollouts == 4 * 40
    assert data.optimal_share == 1.0
    assert np.allclose(data.targets.sum(axis=1), 1.0)
    # a random continuation is a noisier judge: it labels some moves that are not optimal
    noisy = step_data(policy, mazes, groups, cfg, np.random.default_rng(0), "t", RandomPolicy())
    assert noisy.optimal_share is not None and noisy.optimal_share < 1.0


def test_step_credit_spends_max_pairs_states_also_where_fewer_were_visited(fresh):
    """The spend of an update is fixed (so `maze compare` can give every learner the same):
    where the episodes visited fewer distinct states than `max_pairs`, each is tried again,
    with new rollouts, until `max_pairs` states are."""
    from quicktakes.maze.methods import episodes
    from quicktakes.maze.oracle import MazeBank
    from quicktakes.maze.policy import RandomPolicy
    from quicktakes.maze.train import step_values

    cfg = spec(method="rl", select="step", max_pairs=50,
               maze=MazeConfig(size=4, wall_density=0.2, coins=1, max_steps=2))
    mazes = MazeBank(cfg.maze)
    policy = LLMPolicy(fresh, SampleCache(), "step", 0.7, obs=OBSERVATIONS["coins"])
    groups = episodes(RandomPolicy(), mazes, [11, 12], 2, 0, "walk", "coins")
    distinct = {(t.maze_seed, s) for g in groups for t in g for s in t.visited}
    assert len(distinct) < 50
    sv = step_values(policy, mazes, groups, cfg, np.random.default_rng(0), "t", RandomPolicy())
    assert len(sv.keys) == 50 and set(sv.keys) == distinct
    assert sv.sampled == cfg.step_rollouts == 4 * 50
    assert cfg.spend == cfg.samples * cfg.train_mazes + 4 * 50
    counts = {k: sv.keys.count(k) for k in distinct}
    assert max(counts.values()) - min(counts.values()) <= 1  # each in turn


def test_rl_step_credit_rates_optimal_moves_highest_from_the_same_rollouts(fresh):
    """RL's per-step credit reads the same values as step selection: with an optimal
    continuation, every state's best advantages are on its optimal moves, each state's four
    advantages sum to 0, and the rollouts spent are the same as poor man's RL's."""
    from quicktakes.maze.methods import episodes
    from quicktakes.maze.oracle import MazeBank
    from quicktakes.maze.policy import RandomPolicy
    from quicktakes.maze.train import step_advantages, step_data

    cfg = spec(method="rl", select="step",
               maze=MazeConfig(size=5, wall_density=0.2, coins=2, max_steps=6), max_pairs=40)
    mazes = MazeBank(cfg.maze)
    policy = LLMPolicy(fresh, SampleCache(), "step", 0.7, obs=OBSERVATIONS["coins"])
    groups = episodes(RandomPolicy(), mazes, [11, 12, 13], 3, 0, "walk", "coins")
    data = step_advantages(policy, mazes, groups, cfg, np.random.default_rng(0), "t",
                           Optimal(mazes))
    labels = step_data(policy, mazes, groups, cfg, np.random.default_rng(0), "t", Optimal(mazes))
    assert len(data) == 4 * len(labels) and data.sampled == labels.sampled
    adv = data.advantages.reshape(-1, 4)
    assert np.allclose(adv.sum(axis=1), 0.0) and (adv.max(axis=1) > 0).all()
    assert np.array_equal(np.argmax(data.targets, axis=1), np.tile(np.arange(4), len(labels)))
    # the moves with the top advantage are the ones step selection labels
    assert np.array_equal(adv == adv.max(axis=1, keepdims=True), labels.targets > 0)


def test_a_rate_sweep_reads_validation_mazes_only_and_picks_the_best_gain(fresh, tmp_path):
    from quicktakes.maze.grid import maze_seeds
    from quicktakes.maze.sweep import sweep_rate

    cfg = spec(method="oracle-bc", train_mazes=2, test_mazes=4, samples=2, epochs=1,
               maze=MazeConfig(size=4, wall_density=0.2, coins=2, max_steps=5))
    val = cfg.model_copy(update={"held_out": "validation"}).scored_mazes()
    assert not set(val) & set(maze_seeds("test", 1000))
    assert not set(val) & set(maze_seeds("train", cfg.train_mazes))
    sweep = sweep_rate(cfg, tmp_path, (1e-3, 3e-2), trainer=fresh)
    assert len(sweep.gains) == 2
    assert sweep.gains[sweep.rates.index(sweep.chosen)] == max(sweep.gains)
    assert sweep.to_dict()["chosen"] == sweep.chosen


@pytest.mark.parametrize("rates", [(), (0.0,), (2.0,)])
def test_a_rate_sweep_without_a_usable_rate_is_refused(rates, tmp_path):
    from quicktakes.maze.sweep import sweep_rate

    with pytest.raises(ConfigError, match="rates in"):
        sweep_rate(spec(method="rl"), tmp_path, rates)
    assert not any(tmp_path.iterdir())


def test_a_warm_start_becomes_the_base_that_reset_and_the_kl_reference_return_to():
    """`absorb` merges the trained adapter into the weights: the model scores the same, a
    reset no longer undoes it, the KL reference is the warm model, and the model id (what
    the sample cache keys on) names it."""
    from quicktakes.llm.hf import HFBackend

    backend = HFBackend(seed=0, precision="fp32")  # merged and separate agree to rounding
    conv = [[{"role": "system", "content": "Answer U, D, L or R."},
             {"role": "user", "content": "Where next?"}]]
    base_id = backend.model_id
    data = Update(conv * 4, np.eye(4)[[1, 1, 1, 1]])
    train_steps(backend, data, spec(lr=1e-2, epochs=3, batch=4), np.random.default_rng(0))
    with torch.no_grad():
        trained = move_log_probs(backend, conv, 1.0)
    backend.absorb()
    with torch.no_grad():
        after = move_log_probs(backend, conv, 1.0)
        backend.reset()
        reset = move_log_probs(backend, conv, 1.0)
        with backend.base_weights():
            reference = move_log_probs(backend, conv, 1.0)
    assert torch.allclose(trained, after, atol=1e-3)
    assert torch.allclose(after, reset) and torch.allclose(after, reference, atol=1e-3)
    assert backend.model_id != base_id
    # and the adapter trains again on top of the warm weights
    train_steps(backend, Update(conv * 4, np.eye(4)[[0, 0, 0, 0]]),
                spec(lr=1e-2, epochs=3, batch=4), np.random.default_rng(0))
    with torch.no_grad():
        assert not torch.allclose(move_log_probs(backend, conv, 1.0), after, atol=1e-3)


def test_lora_first_adamw_step_as_a_weight_change_matches_the_merged_weights():
    """The effective LoRA update s * (B'A' - BA) is what merging adds to the weight, and
    `lora_first_step` predicts it from the dense gradient alone (B = 0 at the anchor)."""
    from quicktakes.llm.hf import HFBackend
    from quicktakes.maze.alike import (
        cosine,
        lora_delta,
        lora_first_step,
        lora_layers,
        model_gradients,
    )

    backend = HFBackend(seed=0, precision="fp32")
    convs, moves = _alike_states(backend, n=3)
    g = model_gradients(backend, convs, {"sft": np.eye(4)[moves]}, 1.0)["sft"]
    layers = lora_layers(backend)
    before = [(m.lora_A["default"].weight.detach().clone(),
               m.lora_B["default"].weight.detach().clone()) for m in layers]
    weights = [m.base_layer.weight.detach().clone() for m in layers]
    train_steps(backend, Update(convs, np.eye(4)[moves]),
                spec(lr=1e-2, epochs=1, batch=len(convs), temperature=1.0),
                np.random.default_rng(0))
    delta = torch.cat([lora_delta(m, b).flatten() for m, b in zip(layers, before, strict=True)])
    with torch.no_grad():
        backend.model.merge_adapter()
        merged = torch.cat([(m.base_layer.weight - w).flatten()
                            for m, w in zip(layers, weights, strict=True)])
        backend.model.unmerge_adapter()
    assert delta.abs().max() > 1e-4 and torch.allclose(delta, merged, atol=1e-6)
    # one AdamW step moved B by -lr * sign-like(dL/dB); the gradient clip rescales g only
    predicted = lora_first_step(backend, g)
    assert cosine(-delta.numpy(), predicted) > 0.999


def test_lora_on_every_linear_layer_wraps_attention_and_mlp():
    from quicktakes.llm.hf import HFBackend
    from quicktakes.llm.lora import EMBEDDED_LINEAR, lora_targets

    backend = HFBackend(seed=0, lora_targets=lora_targets("all"), lora_rank=4)
    wrapped = {n.split(".")[-1] for n, m in backend.model.named_modules() if hasattr(m, "lora_A")}
    assert wrapped == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                       "down_proj"} == set(EMBEDDED_LINEAR)  # the spec checks names against it
    assert lora_targets("attention,mlp") == lora_targets("all")
    with pytest.raises(ConfigError, match="names no linear layer"):
        HFBackend(seed=0, lora_targets=("lm_head",))


def test_a_kept_optimizer_resumes_as_if_never_stopped(fresh, tmp_path):
    """AdamW's moments are saved beside each iteration: an interrupted run that resumes ends
    on the same weights as one that ran through, and a fresh optimizer per update differs."""
    cfg = spec(method="oracle-bc", iterations=3, samples=2, train_mazes=2, test_mazes=1,
               epochs=1, optimizer="keep")
    through = run_training(cfg, fresh, SampleCache(), tmp_path / "through").model
    fresh.reset()

    def interrupt(note: str) -> None:
        if note.startswith("oracle-bc: iteration 1, sampling"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_training(cfg, fresh, SampleCache(), tmp_path / "resumed", interrupt)
    assert (tmp_path / "resumed" / "iter-0" / "optimizer.pt").exists()
    fresh.reset()
    resumed = run_training(cfg, fresh, SampleCache(), tmp_path / "resumed").model
    fresh.reset()
    other = run_training(cfg.model_copy(update={"optimizer": "fresh"}), fresh, SampleCache(),
                         tmp_path / "fresh").model
    assert resumed == through != other


def test_greedy_evaluation_plays_the_most_probable_move_and_spends_nothing(fresh, tmp_path):
    cfg = spec(method="oracle-bc", iterations=1, test_mazes=6, evaluation="greedy")
    a = run_training(cfg, fresh, SampleCache(), tmp_path / "a").iterations[0]
    b = run_training(cfg.model_copy(update={"seed": 7}), fresh, SampleCache(),
                     tmp_path / "b").iterations[0]
    assert a.scores == b.scores and a.n == 6  # no sampling: the seed changes nothing
    assert a.samples_used == 0
    assert 0.25 <= a.top_move_share <= 1.0
    sampled = run_training(cfg.model_copy(update={"evaluation": "sampled", "eval_episodes": 3}),
                           fresh, SampleCache(), tmp_path / "c").iterations[0]
    assert sampled.n == 18 and len(sampled.scores) == 6  # each maze's mean of its 3


def test_a_checkpoint_says_when_play_is_one_move_whatever_the_state():
    from quicktakes.maze.methods import checkpoint
    from quicktakes.maze.policy import Trajectory

    def played(*moves):
        return Trajectory(0, moves=list(moves))

    assert checkpoint(0, 0, [[played(1, 1, 1)], [played(1, 1)]]).top_move_share == 1.0
    assert checkpoint(0, 0, [[played(0, 1, 2, 3)]]).top_move_share == 0.25
    assert checkpoint(0, 0, [[played(-1, 2, 2, 0)]]).top_move_share == round(2 / 3, 4)


def test_a_run_recorded_before_a_setting_existed_reads_as_what_it_did_then(tmp_path):
    """Runs before `optimizer` built a fresh AdamW per update: resuming one with today's
    default (keep) would mix two optimizers in one run, so it is refused; settings added
    since whose default is what runs did then (LoRA targets, evaluation) change nothing."""
    import json

    from quicktakes.maze.lab import changed_settings

    old = LabSpec(method="sft-iter").model_dump(mode="json")
    for key in ("optimizer", "lora_targets", "lora_rank", "drop_flat", "evaluation",
                "eval_episodes"):
        old.pop(key)
    (tmp_path / "config.json").write_text(json.dumps(old))
    now = LabSpec(method="sft-iter").model_dump(mode="json")
    assert changed_settings(tmp_path, now) == ["optimizer"]
    assert changed_settings(tmp_path, now | {"optimizer": "fresh"}) == []


def test_oracle_bc_balances_by_default_and_an_older_run_did_not(tmp_path):
    """Balanced targets are oracle BC's default (plain, it learned the moves' frequencies on
    the 7x7 maze); a run recorded before `balance` existed trained plain, so resuming it
    under today's default is refused rather than mixed."""
    import json

    from quicktakes.maze.lab import changed_settings

    assert LabSpec(method="oracle-bc").balance is True
    assert LabSpec(method="oracle-bc", balance=False).balance is False
    assert LabSpec(method="sft-iter").balance is False and LabSpec(method="rl").balance is False
    assert LabSpec(method="few-shot").balance is False
    with pytest.raises(ValueError, match="--balance"):
        LabSpec(method="heuristic", balance=True)
    old = LabSpec(method="oracle-bc", balance=False).model_dump(mode="json")
    old.pop("balance")
    (tmp_path / "config.json").write_text(json.dumps(old))
    now = LabSpec(method="oracle-bc").model_dump(mode="json")
    assert changed_settings(tmp_path, now) == ["balance"]
    assert changed_settings(tmp_path, now | {"balance": False}) == []


def test_rl_takes_its_credit_per_step_by_default_and_the_fast_comparison_per_episode():
    """Per-step credit is RL's default (with episode credit it stayed flat on the 7x7
    maze); poor man's RL still selects episodes, as the take words it. The `--fast`
    comparison keeps episode credit (no room for the rollouts), `--full` takes it per step,
    and its poor man's RL selects per step on the same rollouts."""
    from quicktakes.maze.compare import CompareSpec

    assert LabSpec(method="rl").select == "step" and LabSpec(method="sft-iter").select == "episode"
    assert LabSpec(method="rl", select="episode").select == "episode"
    assert LabSpec(method="few-shot").step_rollouts == 0
    assert CompareSpec(budget="fast").spec("rl").select == "episode"
    full = CompareSpec(budget="full")
    assert full.spec("rl").select == full.spec("sft-iter").select == "step"
    assert {full.spec(m).spend for m in ("few-shot", "oracle-bc", "sft-iter", "rl")} == {
        16 * 4 + 4 * 128}


def test_drop_flat_skips_a_maze_whose_episodes_all_scored_the_same(hf):
    """RAGEN's variance filter: a maze where every episode earned the same has no best
    episode, so poor man's RL learns nothing from it when asked to drop it."""
    from quicktakes.maze.policy import Trajectory
    from quicktakes.maze.train import update_data

    def episode(maze: int, coins: int, move: int) -> Trajectory:
        return Trajectory(maze, states=[f"maze {maze}"], moves=[move], coins=coins, optimum=2)

    policy = LLMPolicy(hf, SampleCache(), obs=OBSERVATIONS["coins"])
    flat = [episode(1, 1, 0), episode(1, 1, 1)]
    spread = [episode(2, 0, 2), episode(2, 2, 3)]
    rng = np.random.default_rng(0)
    kept = update_data(spec(drop_flat=True), policy, None, [flat, spread], rng, "t")
    every = update_data(spec(), policy, None, [flat, spread], rng, "t")
    assert [c[-1]["content"] for c in kept.convs] == ["maze 2"]
    assert kept.targets.argmax(axis=1).tolist() == [3]
    assert [c[-1]["content"] for c in every.convs] == ["maze 1", "maze 2"]


def test_a_checkpoint_schedule_scores_only_its_iterations_and_keeps_every_update(
    fresh, tmp_path
):
    """Iterations between checkpoints train without being scored; their entropy and KL are
    kept, the spend is counted, and a run resumed or cut short scores what a run that went
    straight there scores."""
    import json

    cfg = spec(method="oracle-bc", iterations=4, checkpoints="0,2", samples=2, train_mazes=1,
               test_mazes=4, epochs=1, evaluation="greedy")
    notes: list[str] = []
    r = run_training(cfg, fresh, SampleCache(), tmp_path / "run", notes.append)
    assert [i.iteration for i in r.iterations] == [0, 2, 3]  # the last is always scored
    assert [i.samples_used for i in r.iterations] == [0, 4, 6]
    assert len(r.updates) == 3 and all("entropy_after" in d for d in r.updates)
    # one per held-out maze where some move is better than another, the same at every point
    assert len({len(i.optimal_mass) for i in r.iterations}) == 1
    assert 0 < len(r.iterations[0].optimal_mass) <= 4
    assert sum("evaluating" in n for n in notes) == 3
    assert json.loads((tmp_path / "run" / "iter-1" / "result.json").read_text())["result"] is None
    assert r.to_dict()["updates"] == r.updates

    fresh.reset()
    again = run_training(cfg, fresh, SampleCache(), tmp_path / "run")  # all loaded
    assert again.updates == r.updates and again.model == r.model
    assert [vars(i) for i in again.iterations] == [vars(i) for i in r.iterations]

    # cut short at iteration 2 (trained before, never scored there as the last): scored now,
    # as a run that stopped there scores it
    fresh.reset()
    short = run_training(cfg.model_copy(update={"iterations": 2, "checkpoints": (0,)}), fresh,
                         SampleCache(), tmp_path / "run")
    fresh.reset()
    straight = run_training(cfg.model_copy(update={"iterations": 2, "checkpoints": (0,)}),
                            fresh, SampleCache(), tmp_path / "straight")
    assert short.iterations[-1].scores == straight.iterations[-1].scores
    assert [i.iteration for i in short.iterations] == [0, 1]
