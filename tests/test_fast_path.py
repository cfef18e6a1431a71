"""The padding-free fast path (albertlite.fast) equals the plain path, for every head and the tiny configs."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import albertlite
from albertlite import modeling_torch
from albertlite.fast import fast_path, fast_path_enabled, gemm, optimize, packed, set_fast_path

from .helpers.models import CONFIGS, MODEL_CLASSES, RELATIVE_CONFIGS, padded_batch, tiny_config

USES_FAST_PATH = True

HEADS = [c for c in MODEL_CLASSES if c != "AlbertForMultipleChoice"]
ALL_CONFIGS = [*CONFIGS, *RELATIVE_CONFIGS]
TOLERANCE = 1e-4


def _model(cls_name: str, config_name: str, seed: int = 0, **overrides) -> torch.nn.Module:
    torch.manual_seed(seed)
    return getattr(modeling_torch, cls_name)(tiny_config(config_name, **overrides)).eval()


def _batch(config, batch: int = 4, seq_len: int = 11, seed: int = 0) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v) for k, v in padded_batch(config, batch, seq_len, seed).items()}


def _compare(fast, plain, mask: torch.Tensor, tolerance: float = TOLERANCE) -> float:
    """Largest difference over the output fields, at real positions for per-token tensors."""
    worst = 0.0
    for key in plain:
        a, b = plain[key], fast[key]
        pairs = zip(a, b) if isinstance(a, tuple) else [(a, b)]
        for x, y in pairs:
            assert x.shape == y.shape, key
            if x.dim() >= 2 and tuple(x.shape[:2]) == tuple(mask.shape):
                x, y = x[mask], y[mask]
            worst = max(worst, float((x.float() - y.float()).abs().max()))
    assert worst <= tolerance, worst
    return worst


def _both_paths(model, batch, **kwargs):
    with torch.no_grad():
        with fast_path(False):
            plain = model(**batch, **kwargs)
        fast = model(**batch, **kwargs)
    return fast, plain


@pytest.mark.parametrize("config_name", ALL_CONFIGS)
@pytest.mark.parametrize("cls_name", HEADS)
def test_every_head_matches_plain_path(cls_name, config_name, monkeypatch):
    calls = []
    original = packed.packed_forward
    monkeypatch.setattr(packed, "packed_forward", lambda *a, **k: calls.append(1) or original(*a, **k))
    model = _model(cls_name, config_name)
    batch = _batch(model.config)
    fast, plain = _both_paths(model, batch, output_hidden_states=True)
    assert calls, "the fast path did not run"
    _compare(fast, plain, batch["attention_mask"].bool())
    assert len(fast.hidden_states) == model.config.num_applied_layers + 1


def test_multiple_choice_matches_plain_path():
    model = _model("AlbertForMultipleChoice", "groups_inner")
    flat = _batch(model.config, batch=6)
    batch = {k: v.view(2, 3, -1) for k, v in flat.items()}
    fast, plain = _both_paths(model, batch)
    assert float((fast.logits - plain.logits).abs().max()) <= TOLERANCE


def test_padded_positions_are_zero_and_real_positions_match():
    model = _model("AlbertModel", "shared")
    batch = _batch(model.config)
    fast, plain = _both_paths(model, batch)
    padding = ~batch["attention_mask"].bool()
    assert padding.any()
    assert float(fast.last_hidden_state[padding].abs().max()) == 0.0
    assert float(plain.last_hidden_state[padding].abs().max()) > 0.0  # the plain path fills them


@pytest.mark.parametrize("attention", ["loop", "padded", "loop-unfused", "padded-unfused"])
@pytest.mark.parametrize("config_name", ["groups_inner", "relative_key_query"])
def test_attention_strategies_match(attention, config_name):
    model = _model("AlbertModel", config_name)
    model.fast_options = packed.FastOptions(attention=attention)
    batch = _batch(model.config, batch=5, seq_len=13, seed=3)
    fast, plain = _both_paths(model, batch)
    _compare(fast, plain, batch["attention_mask"].bool())


def test_no_mask_position_ids_and_single_sequence():
    model = _model("AlbertModel", "e_equals_h")
    ids = torch.randint(5, 99, (3, 7))
    positions = torch.tensor([[3, 1, 4, 1, 5, 9, 2]])
    for kwargs in ({"input_ids": ids}, {"input_ids": ids, "position_ids": positions}, {"input_ids": ids[:1]}):
        fast, plain = _both_paths(model, kwargs)
        _compare(fast, plain, torch.ones(kwargs["input_ids"].shape, dtype=torch.bool))


def test_holes_in_the_mask_without_pooler():
    model = _model("AlbertForTokenClassification", "shared")
    batch = _batch(model.config, batch=3, seq_len=9)
    batch["attention_mask"][:, 0] = 0  # left padding and holes: no pooler reads position 0 here
    batch["attention_mask"][1, 4] = 0
    fast, plain = _both_paths(model, batch)
    _compare(fast, plain, batch["attention_mask"].bool())


def test_falls_back_when_it_cannot_reproduce(monkeypatch):
    calls = []
    monkeypatch.setattr(packed, "packed_forward", lambda *a, **k: calls.append(1))
    model = _model("AlbertModel", "relative_key")
    batch = _batch(model.config)
    with torch.no_grad():
        model(**batch, output_attentions=True)
        model(**batch, head_mask=torch.ones(model.config.num_attention_heads))
        model(inputs_embeds=torch.randn(2, 5, model.config.embedding_size))
        left = {**batch, "attention_mask": batch["attention_mask"].flip(1)}  # pooler would read padding
        model(**left)
    model(**batch)  # gradients on
    model.train()
    with torch.no_grad():
        model(**batch)
    assert calls == []


def test_switches(monkeypatch):
    calls = []
    monkeypatch.setattr(packed, "packed_forward", lambda *a, **k: calls.append(1))
    model = _model("AlbertModel", "shared")
    with torch.no_grad(), fast_path(False):
        model(**_batch(model.config))
    assert calls == []
    assert fast_path_enabled()
    set_fast_path(False)
    try:
        assert not albertlite.fast_path_enabled()
        with albertlite.fast_path(True):
            assert fast_path_enabled()
        assert not fast_path_enabled()
    finally:
        set_fast_path(True)
    code = "import albertlite.fast as f; print(f.fast_path_enabled())"
    env = {**os.environ, "ALBERTLITE_FAST_PATH": "0"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_weights_changed_after_first_call_are_seen():
    model = _model("AlbertModel", "shared")
    batch = _batch(model.config)
    with torch.no_grad():
        before = model(**batch).last_hidden_state
        model.encoder.albert_layer_groups[0].albert_layers[0].ffn.weight.mul_(2.0)
    fast, plain = _both_paths(model, batch)
    _compare(fast, plain, batch["attention_mask"].bool())
    assert float((fast.last_hidden_state - before).abs().max()) > 1e-3


def test_model_made_under_inference_mode():
    model = _model("AlbertModel", "shared")
    batch = _batch(model.config)
    with torch.inference_mode():
        fast = optimize(model)  # parameters copied under inference_mode keep no version counter
        got = fast(**batch).last_hidden_state
        with fast_path(False):
            expected = model(**batch).last_hidden_state
    mask = batch["attention_mask"].bool()
    assert float((got - expected)[mask].abs().max()) <= TOLERANCE


@pytest.mark.parametrize("activation", ["gelu", "gelu_new", "relu", "gelu_fast", "silu"])
def test_fused_activations_match(activation):
    model = _model("AlbertModel", "shared", hidden_act=activation)
    batch = _batch(model.config)
    fast, plain = _both_paths(model, batch)
    _compare(fast, plain, batch["attention_mask"].bool())


@pytest.mark.parametrize("rows", [7, 8, 131])  # padded to 8, run as they are, padded to 136 (mkldnn)
@pytest.mark.parametrize("backend", gemm.GEMM_BACKENDS)
def test_gemm_backends_equal_f_linear(backend, rows):
    generator = torch.Generator().manual_seed(0)
    weight, bias = torch.randn(48, 40, generator=generator), torch.randn(48, generator=generator)
    x, residual = torch.randn(rows, 40, generator=generator), torch.randn(rows, 48, generator=generator)
    layer = gemm.Linear(weight, bias, backend)
    expected = torch.nn.functional.linear(x, weight, bias)
    scale = float(expected.abs().max())
    assert float((layer(x) - expected).abs().max()) <= 1e-5 * scale
    assert float((layer.add(x, residual) - (expected + residual)).abs().max()) <= 1e-5 * scale
    gelu = layer.activated(x, "gelu_new", lambda t: torch.nn.functional.gelu(t, approximate="tanh"))
    assert float((gelu - torch.nn.functional.gelu(expected, approximate="tanh")).abs().max()) <= 1e-5 * scale
    assert gemm.choose_backend(weight) in gemm.GEMM_BACKENDS
    assert layer(x).shape == (rows, 48) and layer(x).is_contiguous()


def test_gemm_row_buckets_are_few_and_close():
    # oneDNN keeps a primitive per row count it has seen; a server's batches have every count up to the budget
    buckets = [gemm.row_bucket(rows) for rows in range(1, 16385)]
    assert len(set(buckets)) <= 16 + 16 * 7  # 8..128 in steps of 8, then 16 per doubling up to 16384
    for rows, bucket in enumerate(buckets, start=1):
        assert bucket >= rows and bucket % 8 == 0
        assert bucket - rows < max(8, rows / 16)
    assert gemm.row_bucket(0) == 0 and gemm.row_bucket(256) == 256 and gemm.row_bucket(257) == 272


def test_int8_fast_path_equals_int8_plain_path_and_stays_close():
    model = _model("AlbertForSequenceClassification", "groups_inner")
    batch = _batch(model.config)
    quantized = optimize(model, quantize="int8")
    assert "Dynamic" in type(quantized.albert.encoder.albert_layer_groups[0].albert_layers[0].ffn).__name__ or (
        type(quantized.albert.encoder.albert_layer_groups[0].albert_layers[0].ffn).__module__.startswith("torch.ao")
    )
    fast, plain = _both_paths(quantized, batch)
    _compare(fast, plain, batch["attention_mask"].bool(), tolerance=1e-4)
    with torch.no_grad():
        reference = model(**batch).logits
    scale = float(reference.abs().max())
    assert float((fast.logits - reference).abs().max()) <= 0.1 * scale


def test_optimize_keeps_the_original_and_validates():
    model = _model("AlbertModel", "shared")
    fast = optimize(model, dtype=torch.bfloat16)
    assert fast is not model and getattr(model, "fast_options", None) is None
    with pytest.raises(ValueError, match="quantize"):
        optimize(model, quantize="int4")
    with pytest.raises(ValueError, match="dtype"):
        optimize(model, dtype=torch.int8)
    with pytest.raises(TypeError, match="albertlite"):
        optimize(torch.nn.Linear(2, 2))


def test_bf16_pooled_output_close_to_fp32():
    # Base-like width and depth at a small vocabulary: bf16 GEMMs and residual stream, LayerNorm statistics in fp32.
    config = albertlite.AlbertConfig(
        vocab_size=300, embedding_size=128, hidden_size=256, num_attention_heads=4, intermediate_size=1024,
        num_hidden_layers=12, max_position_embeddings=64,
    )  # fmt: skip
    torch.manual_seed(0)
    model = modeling_torch.AlbertModel(config).eval()
    rng = np.random.default_rng(0)
    lengths = [30, 12, 50, 7]
    ids = torch.from_numpy(rng.integers(5, 300, (4, 50)))
    mask = (torch.arange(50)[None] < torch.tensor(lengths)[:, None]).long()
    bf16 = optimize(model, dtype=torch.bfloat16)
    with torch.no_grad():
        reference = model(ids, attention_mask=mask).pooler_output
        pooled = bf16(ids, attention_mask=mask).pooler_output
    assert pooled.dtype == torch.float32
    cosine = torch.nn.functional.cosine_similarity(pooled, reference, dim=-1)
    assert float(cosine.min()) >= 0.999, cosine
    assert float((pooled - reference).abs().max()) > 0  # really ran in bf16


def _backends(kind: str):
    """A make_linear that puts every GEMM on one backend, or alternates them (the timed choice can mix them)."""
    turn = iter(range(10_000))

    def make(weight, bias):
        backend = ("aten", "mkldnn")[next(turn) % 2] if kind == "mixed" else kind
        if backend == "mkldnn" and not gemm._mkldnn_usable(weight):
            pytest.skip("oneDNN linear is not available here")
        return gemm.Linear(weight, bias, backend)

    return make


@pytest.mark.parametrize("attention", ["loop", "padded"])
@pytest.mark.parametrize("backends", ["aten", "mkldnn", "mixed"])
def test_inside_bf16_autocast_runs_in_bf16_and_stays_close(backends, attention, monkeypatch):
    # Pretraining's held-out evaluation under --bf16 calls the model inside torch.autocast: the fused GEMMs must not
    # see autocast's per-op casts (a bf16 activation against a float32 bias), and the call computes in bf16.
    monkeypatch.setattr(packed, "make_linear", _backends(backends))
    model = _model("AlbertForPreTraining", "groups_inner", num_hidden_layers=4)
    model.fast_options = packed.FastOptions(attention=attention)
    batch = _batch(model.config, batch=5, seq_len=13, seed=1)
    with torch.no_grad():
        reference = model(**batch).prediction_logits
        with torch.autocast("cpu", dtype=torch.bfloat16):
            autocast = model(**batch)
        explicit = optimize(model, dtype=torch.bfloat16)
        explicit.fast_options = packed.FastOptions(compute_dtype=torch.bfloat16, attention=attention)
        bf16 = explicit(**batch).prediction_logits
    mask = batch["attention_mask"].bool()
    logits = autocast.prediction_logits
    assert float((logits.float() - bf16.float()).abs().max()) <= 1e-2 * float(bf16.abs().max())
    cosine = torch.nn.functional.cosine_similarity(logits[mask].float(), reference[mask], dim=-1)
    assert float(cosine.min()) >= 0.99, cosine
    assert float((logits.float() - reference).abs().max()) > 0  # really ran in bf16
    assert autocast.sop_logits.shape == (5, 2)


def _op_counts(model, batch) -> dict[str, int]:
    """How often each op runs in one warm call (the first call prepares weights and times kernels)."""
    with torch.no_grad():
        model(**batch)
    with torch.no_grad(), torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        model(**batch)
    return {event.key: event.count for event in prof.key_averages()}


def test_bf16_residual_stream_has_no_per_layer_dtype_copies():
    # The residual stream stays bf16 from layer to layer: the number of dtype conversions does not grow with depth.
    counts = []
    for layers in (2, 6):
        model = _model("AlbertModel", "shared", num_hidden_layers=layers)
        counts.append(_op_counts(optimize(model, dtype=torch.bfloat16), _batch(model.config)).get("aten::_to_copy", 0))
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("attention", ["loop", "padded"])
def test_attention_runs_the_fused_sdpa_kernel(attention):
    # CPU SDPA takes its unfused math path (several ops per call) for 3-D inputs; the packed path passes 4-D views.
    model = _model("AlbertModel", "shared")
    model.fast_options = packed.FastOptions(attention=attention)
    counts = _op_counts(model, _batch(model.config))
    assert counts.get("aten::_scaled_dot_product_flash_attention_for_cpu", 0) > 0, counts
    assert counts.get("aten::_scaled_dot_product_attention_math", 0) == 0, counts


@pytest.mark.slow
def test_compile_matches():
    model = _model("AlbertForSequenceClassification", "shared")
    batch = _batch(model.config)
    compiled = optimize(model, compile=True)
    with torch.no_grad():
        expected = model(**batch).logits
        got = compiled(**batch).logits
    assert float((got - expected).abs().max()) <= TOLERANCE
