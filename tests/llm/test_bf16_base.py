"""The frozen base stored in bf16 under LoRA and bf16 autocast: the same logits and the same
adapter gradients as a base kept in fp32 (autocast casts it to bf16 on every call anyway),
bit for bit, through the shared-prefix path the lab scores with."""

import torch

from quicktakes.llm.hf import HFBackend


class Fp32Base(HFBackend):
    bf16_base = False


def _same_adapter(a: HFBackend, b: HFBackend) -> None:
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        pb = dict(b.model.named_parameters())
        for name, p in a.model.named_parameters():
            if p.requires_grad:
                if "lora_B" in name:
                    p.copy_(torch.randn(p.shape, generator=gen) * 0.02)
                pb[name].copy_(p)


def _logits_and_grads(backend: HFBackend, convs):
    backend.model.zero_grad()
    logits = backend.move_logits(convs, list("UDLR"))
    torch.log_softmax(logits, -1)[:, 0].sum().backward()
    grads = {n: p.grad.clone() for n, p in backend.model.named_parameters() if p.requires_grad}
    return logits.detach(), grads


def test_a_bf16_base_scores_and_trains_exactly_as_autocast_over_fp32_did():
    fast, ref = HFBackend(seed=0, precision="bf16"), Fp32Base(seed=0, precision="bf16")
    base = fast.model.base_model.model.model.layers[0].self_attn.q_proj.base_layer.weight
    ref_base = ref.model.base_model.model.model.layers[0].self_attn.q_proj.base_layer.weight
    assert base.dtype == torch.bfloat16 and ref_base.dtype == torch.float32
    assert fast.model.get_output_embeddings().weight.dtype == torch.bfloat16
    assert fast.model.get_input_embeddings().weight.dtype == torch.float32  # the stream: fp32
    _same_adapter(fast, ref)
    system = {"role": "system", "content": "You collect gold coins in a maze. " * 4}
    convs = [[system, {"role": "user", "content": f"Coin {i} steps up. Which way?"}]
             for i in range(3)]
    (la, ga), (lb, gb) = _logits_and_grads(fast, convs), _logits_and_grads(ref, convs)
    assert torch.equal(la, lb)
    assert ga.keys() == gb.keys() and all(torch.equal(ga[k], gb[k]) for k in ga)
    # a warm start merges the adapter into the fp32 masters: the same base as before
    fast.absorb()
    ref.absorb()
    q_proj = fast.model.base_model.model.model.layers[0].self_attn.q_proj.base_layer
    assert q_proj.weight.dtype == torch.bfloat16
    (la, ga), (lb, gb) = _logits_and_grads(fast, convs), _logits_and_grads(ref, convs)
    assert torch.equal(la, lb) and all(torch.equal(ga[k], gb[k]) for k in ga)
    # with autocast off the fp32 masters run: full precision, as the fp32 layout gives
    fast.autocast = ref.autocast = False
    assert q_proj.weight.dtype == torch.float32
    (la, ga), (lb, gb) = _logits_and_grads(fast, convs), _logits_and_grads(ref, convs)
    assert torch.equal(la, lb) and all(torch.equal(ga[k], gb[k]) for k in ga)
    fast.autocast = True
    assert q_proj.weight.dtype == torch.bfloat16
