"""benchmarks/gpu_check.py, run where there is no GPU: the same code a lent GPU machine runs
(random SmolLM2-shaped weights, the lab's HFBackend, scoring and both kinds of training
step), on the CPU with two layers, so it cannot rot before the day it is needed."""

import importlib.util
from pathlib import Path


def test_the_gpu_check_runs_the_lab_path_on_a_model_built_from_the_config():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.check(layers=2, repeats=1, device="cpu")
    runs = {k: v for k, v in result.items() if isinstance(v, dict)}
    assert {"lora-fp32", "full-fp32"} <= set(runs)
    for name, run in runs.items():
        assert run["off_device"] == [] and run["finite"] and run["outputs_on"] == "cpu", name
        assert run["score_64_states_s"] > 0 and run["train_step_8_s"] > 0
