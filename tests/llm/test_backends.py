import time

import numpy as np
import pytest

from quicktakes.errors import BackendError, ConfigError
from quicktakes.llm import SampleCache, Sampling, make_backend
from quicktakes.llm.remote import OpenAIBackend
from quicktakes.maze.grid import MOVES

MSGS = [
    {"role": "system", "content": "Answer with one letter: U, D, L or R."},
    {"role": "user", "content": "@.o\nWhich move reaches the coin?"},
]


def test_local_generates_deterministically_per_seed(local_backend):
    s = Sampling(temperature=0.9, max_tokens=8)
    a = local_backend.generate(MSGS, s, [1, 2])
    b = local_backend.generate(MSGS, s, [1, 2])
    assert a == b
    assert all(isinstance(x, str) for x in a)


def test_local_scores_are_log_probabilities(local_backend):
    logp = np.array(local_backend.score(MSGS, list(MOVES)))
    assert logp.shape == (4,) and (logp < 0).all()
    assert np.exp(logp).sum() <= 1.0 + 1e-9


def test_scoring_reuses_the_kv_cache_for_a_shared_prefix(local_backend):
    before = local_backend.usage.extra.get("reused_prompt_tokens", 0.0)
    local_backend.score(MSGS, list(MOVES))
    other = [*MSGS[:-1], {"role": "user", "content": "@.o\nAnd now?"}]
    local_backend.score(other, list(MOVES))
    assert local_backend.usage.extra["reused_prompt_tokens"] - before > 10


def test_grammar_constrains_generation(local_backend):
    s = Sampling(temperature=1.0, max_tokens=6, grammar="root ::= [UDLR]+")
    for text in local_backend.generate(MSGS, s, [3, 4, 5]):
        assert text and set(text) <= set("UDLR")


def test_cache_hits_on_a_rerun_and_resumes(local_backend, tmp_path):
    cache = SampleCache(tmp_path / "c.db")
    s = Sampling(temperature=0.8, max_tokens=6)
    first = cache.generate(local_backend, MSGS, s, [1, 2])
    assert cache.misses == 2 and cache.hits == 0
    # "Interrupted" after two samples: asking for four re-uses those two and draws two more.
    again = cache.generate(local_backend, MSGS, s, [1, 2, 3, 4])
    assert again[:2] == first and cache.hits == 2 and cache.misses == 4
    reopened = SampleCache(tmp_path / "c.db")
    assert reopened.generate(local_backend, MSGS, s, [1, 2, 3, 4]) == again
    assert reopened.hits == 4 and reopened.misses == 0


def test_openai_backend_against_llama_cpp_server(llama_server, tmp_path):
    be = OpenAIBackend(base_url=llama_server, concurrency=3)
    assert be.model == "smollm2-135m"
    s = Sampling(temperature=0.8, max_tokens=8)
    start = time.perf_counter()
    texts = be.generate(MSGS, s, [1, 2, 3, 4, 5, 6])
    assert len(texts) == 6 and be.usage.calls == 6
    assert be.generate(MSGS, s, [1, 2]) == texts[:2]  # same seed, same sample
    assert time.perf_counter() - start < 120
    cache = SampleCache(tmp_path / "c.db")
    cache.generate(be, MSGS, s, [1])
    row = cache.db.execute("SELECT * FROM samples").fetchone()
    assert "not-needed" not in str(row)


def test_openai_backend_scores_when_the_server_gives_logprobs(llama_server):
    be = OpenAIBackend(base_url=llama_server)
    try:
        logp = be.score(MSGS, list(MOVES))
    except BackendError as exc:
        pytest.skip(f"this llama_cpp.server build returns no chat logprobs: {exc}")
    assert len(logp) == 4 and max(logp) <= 0


@pytest.mark.parametrize("mode", ["500", "truncated"])
def test_server_faults_raise_a_clear_error_and_keep_cached_samples(
    faulty_server, mode, tmp_path, local_backend
):
    url, handler = faulty_server
    handler.mode = mode
    be = OpenAIBackend(base_url=url, model="faulty", max_retries=2, timeout=2)
    cache = SampleCache(tmp_path / "c.db")
    cache._put("kept", local_backend, "generate", "an earlier sample")
    with pytest.raises(BackendError, match="after 2 retries|malformed"):
        cache.generate(be, MSGS, Sampling(), [1])
    assert cache._get("kept") == "an earlier sample"
    if mode == "500":
        assert handler.hits == 3  # the first try and two retries


def test_timeouts_are_retried_then_reported(faulty_server):
    url, handler = faulty_server
    handler.mode = "slow"
    be = OpenAIBackend(base_url=url, model="faulty", max_retries=1, timeout=0.5)
    with pytest.raises(BackendError, match="unreachable"):
        be.generate(MSGS, Sampling(), [1])


def test_unreachable_server_and_missing_url():
    be = OpenAIBackend(base_url="http://127.0.0.1:9/v1", model="m", max_retries=1, timeout=1)
    with pytest.raises(BackendError, match="unreachable"):
        be.generate(MSGS, Sampling(), [1])
    with pytest.raises(ConfigError, match="base URL"):
        make_backend("openai", base_url=None) if True else None
