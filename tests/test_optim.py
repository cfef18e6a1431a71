"""LAMB, AdamW groups, clipping and the schedules, against hand-computed numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from albertlite.optim import (
    Lamb,
    LearningRateSchedule,
    build_optimizer,
    clip_grad_norm,
    is_no_decay,
    parameter_groups,
)

from .helpers.models import tiny_config


def _param(values, grad):
    p = torch.nn.Parameter(torch.tensor(values, dtype=torch.float64))
    p.grad = torch.tensor(grad, dtype=torch.float64)
    return p


def test_lamb_step_by_hand():
    # beta1 0.5, beta2 0.75 and eps 0 make the first Adam direction exactly sign(g): m = g/2, sqrt(v) = |g|/2.
    w = _param([3.0, 4.0], [1.0, -2.0])
    b = _param([0.5, -0.5], [2.0, 2.0])
    groups = [
        {"params": [w], "weight_decay": 0.5, "trust_ratio": True},
        {"params": [b], "weight_decay": 0.0, "trust_ratio": False},
    ]
    opt = Lamb(groups, lr=0.1, betas=(0.5, 0.75), eps=0.0)
    opt.step()
    # w: update = sign(g) + 0.5 w = [1 + 1.5, -1 + 2] = [2.5, 1]; ratio = ||w|| / ||u|| = 5 / sqrt(7.25)
    ratio = 5.0 / math.sqrt(7.25)
    assert w.tolist() == pytest.approx([3.0 - 0.1 * ratio * 2.5, 4.0 - 0.1 * ratio * 1.0], abs=1e-15)
    # b (no decay, no trust ratio): update = sign(g) = [1, 1]
    assert b.tolist() == pytest.approx([0.4, -0.6], abs=1e-15)
    # second step, no bias correction: m = 0.5 m + 0.5 g, v = 0.75 v + 0.25 g^2, with g = [1, 1] for b
    b.grad = torch.tensor([1.0, 1.0], dtype=torch.float64)
    w.grad = None  # a parameter without gradient is left alone
    before = w.detach().clone()
    opt.step()
    m, v = 0.5 * 1.0 + 0.5 * 1.0, 0.75 * 1.0 + 0.25 * 1.0  # from m1 = 1, v1 = 1 (g1 = 2)
    assert b.tolist() == pytest.approx([0.4 - 0.1 * m / math.sqrt(v), -0.6 - 0.1 * m / math.sqrt(v)], abs=1e-15)
    assert torch.equal(w, before)


def test_lamb_trust_ratio_is_one_for_zero_weights():
    w = _param([0.0, 0.0], [1.0, -1.0])
    Lamb([w], lr=0.1, betas=(0.5, 0.75), eps=0.0, weight_decay=0.01).step()
    assert w.tolist() == pytest.approx([-0.1, 0.1], abs=1e-15)


def _reference_lamb(w, grads, lr, wd, adapt, beta1=0.9, beta2=0.999, eps=1e-6):
    # a transcription of google-research/albert lamb_optimizer.py apply_gradients, in numpy float64
    m, v = np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        update = m / (np.sqrt(v) + eps) + wd * w
        ratio = 1.0
        if adapt:
            w_norm, g_norm = np.linalg.norm(w), np.linalg.norm(update)
            ratio = w_norm / g_norm if w_norm > 0 and g_norm > 0 else 1.0
        w = w - ratio * lr * update
    return w


@pytest.mark.parametrize("adapt", [True, False])
def test_lamb_matches_the_authors_update_over_steps(adapt):
    rng = np.random.default_rng(0)
    start, grads = rng.normal(size=(4, 3)), [rng.normal(size=(4, 3)) for _ in range(5)]
    param = torch.nn.Parameter(torch.tensor(start))
    opt = Lamb([param], lr=0.01, weight_decay=0.01 if adapt else 0.0, trust_ratio=adapt)
    for g in grads:
        param.grad = torch.tensor(g)
        opt.step()
    expected = _reference_lamb(start, grads, 0.01, 0.01 if adapt else 0.0, adapt)
    np.testing.assert_allclose(param.detach().numpy(), expected, rtol=1e-12, atol=1e-14)


def test_lamb_defaults_are_the_authors():
    opt = Lamb([torch.nn.Parameter(torch.zeros(1))])
    group = opt.param_groups[0]
    assert (group["betas"], group["eps"], group["weight_decay"], group["trust_ratio"]) == (
        (0.9, 0.999),
        1e-6,
        0.01,
        True,
    )


def test_parameter_groups_exclude_layer_norm_and_bias():
    from albertlite.modeling_torch import AlbertForPreTraining

    model = AlbertForPreTraining(tiny_config())
    decay, no_decay = parameter_groups(model, 0.01)
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = sorted(names[id(p)] for p in decay["params"])
    skipped = sorted(names[id(p)] for p in no_decay["params"])
    assert all(("LayerNorm" in n or "layer_norm" in n or n.endswith("bias")) for n in skipped)
    assert not any(is_no_decay(n) for n in decayed)
    assert "albert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.weight" in skipped
    assert "albert.embeddings.word_embeddings.weight" in decayed
    assert len(decayed) + len(skipped) == len(list(model.parameters()))  # the tied decoder counted once
    assert (decay["weight_decay"], decay["trust_ratio"], no_decay["weight_decay"], no_decay["trust_ratio"]) == (
        0.01, True, 0.0, False,
    )  # fmt: skip


def test_build_optimizer_adamw_uses_the_same_groups():
    from albertlite.modeling_torch import AlbertForPreTraining

    model = AlbertForPreTraining(tiny_config())
    opt = build_optimizer(model, "adamw", lr=1e-3)
    assert isinstance(opt, torch.optim.AdamW)
    assert [g["weight_decay"] for g in opt.param_groups] == [0.01, 0.0]
    assert opt.param_groups[0]["eps"] == 1e-6
    with pytest.raises(ValueError, match="unknown optimizer"):
        build_optimizer(model, "sgd", lr=1e-3)


def test_authors_schedule_values():
    schedule = LearningRateSchedule(lr=1.0, total_steps=125_000, warmup_steps=3_125, kind="authors")
    assert schedule(0) == 0.0
    assert schedule(1) == 1 / 3125
    assert schedule(3_124) == 3_124 / 3_125
    assert schedule(3_125) == pytest.approx(0.975, abs=1e-15)  # the decay counted from step 0, not from warm-up
    assert schedule(62_500) == 0.5
    assert schedule(125_000) == 0.0
    assert schedule(200_000) == 0.0


def test_linear_schedule_values_and_apply():
    authors = LearningRateSchedule(lr=2.0, total_steps=10, warmup_steps=2, kind="authors")
    linear = LearningRateSchedule(lr=2.0, total_steps=10, warmup_steps=2, kind="linear")
    assert [linear(s) for s in range(11)] == [0.0, 1.0, 2.0, 1.75, 1.5, 1.25, 1.0, 0.75, 0.5, 0.25, 0.0]
    assert [authors(s) for s in range(11)] == pytest.approx([0.0, 1.0, 1.6, 1.4, 1.2, 1.0, 0.8, 0.6, 0.4, 0.2, 0.0])
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=9.0)
    assert linear.apply(opt, 4) == 1.5 and opt.param_groups[0]["lr"] == 1.5
    with pytest.raises(ValueError, match="unknown schedule"):
        LearningRateSchedule(lr=1.0, total_steps=10, kind="cosine")


def test_clip_by_global_norm():
    a, b = _param([0.0, 0.0], [3.0, 4.0]), _param([0.0], [12.0])
    assert clip_grad_norm([a, b], 1.0) == 13.0
    assert a.grad.tolist() == pytest.approx([3 / 13, 4 / 13]) and b.grad.tolist() == pytest.approx([12 / 13])
    assert clip_grad_norm([a, b], 5.0) == pytest.approx(1.0)  # within bounds: unchanged
    assert b.grad.tolist() == pytest.approx([12 / 13])
