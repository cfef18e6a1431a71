"""The fast path's choices come from capability and measurement on this machine, never from the CPU's vendor."""

from __future__ import annotations

import builtins
import platform

import pytest
import torch

from albertlite.cli import main
from albertlite.fast import attention_choice, gemm, machine_report
from albertlite.fast.packed import FastOptions, _attention, pack

from .helpers.models import tiny_config


def _varied_packing(lengths: list[int]) -> tuple:
    longest = max(lengths)
    mask = (torch.arange(longest)[None] < torch.tensor(lengths)[:, None]).long()
    return pack(mask, len(lengths), longest, torch.device("cpu"))


def _layer() -> object:
    class Layer:
        heads, head_size, relative = 4, 8, None

    return Layer()


def test_auto_attention_measures_once_per_shape_class_and_equals_both_kernels():
    attention_choice.forget_choices()
    lengths = [7, 3, 12, 5]
    packing = _varied_packing(lengths)
    qkv = torch.randn(sum(lengths), 3 * 32, generator=torch.Generator().manual_seed(0))
    loop = _attention(_layer(), qkv, packing, "loop")
    padded = _attention(_layer(), qkv, packing, "padded")
    auto = _attention(_layer(), qkv, packing, "auto")
    torch.testing.assert_close(loop, padded, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(auto, loop, atol=1e-5, rtol=1e-5)
    choices = attention_choice.chosen_modes()
    key = attention_choice.shape_class(lengths, qkv.dtype, qkv.device)
    assert list(choices) == [key] and choices[key] in attention_choice.ATTENTION_MODES
    # The same class is not timed again: a kept choice is used as it stands.
    attention_choice._CHOICES[key] = "loop"
    calls = []
    original = attention_choice.choose

    def spy(k, kernels):
        calls.append(k)
        return original(k, kernels)

    attention_choice.choose = spy
    try:
        torch.testing.assert_close(_attention(_layer(), qkv, packing, "auto"), loop, atol=0, rtol=0)
    finally:
        attention_choice.choose = original
    assert calls == [key]
    attention_choice.forget_choices()


def test_auto_attention_times_nothing_under_deterministic_algorithms(monkeypatch):
    # the kernels differ in the last bits, so a choice timed under load could change a rerun's or resume's metrics
    attention_choice.forget_choices()
    lengths = [7, 3, 12, 5]
    packing = _varied_packing(lengths)
    qkv = torch.randn(sum(lengths), 3 * 32, generator=torch.Generator().manual_seed(0))
    padded = _attention(_layer(), qkv, packing, "padded")

    def timed(key, kernels):
        raise AssertionError("auto attention was timed under deterministic algorithms")

    monkeypatch.setattr(attention_choice, "choose", timed)
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        auto = _attention(_layer(), qkv, packing, "auto")
    finally:
        torch.use_deterministic_algorithms(previous)
    torch.testing.assert_close(auto, padded, atol=0, rtol=0)
    assert attention_choice.chosen_modes() == {}


def test_shape_classes_bucket_batch_length_and_padding():
    cpu = torch.device("cpu")
    assert attention_choice.shape_class([40, 20], torch.float32, cpu) == ("cpu", torch.float32, 2, 64, 3)
    assert attention_choice.shape_class([33, 60, 60], torch.float32, cpu) == ("cpu", torch.float32, 4, 64, 4)
    assert attention_choice.shape_class([40, 20], torch.float32, cpu) != attention_choice.shape_class(
        [40, 20], torch.bfloat16, cpu
    )


def test_choices_never_read_the_cpu_vendor(monkeypatch):
    """With /proc/cpuinfo and platform's CPU queries unreadable, the GEMM and attention choices and a fast forward
    pass still work: nothing the fast path decides depends on who made the CPU."""
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        if "cpuinfo" in str(file):
            raise AssertionError("the fast path read /proc/cpuinfo")
        return real_open(file, *args, **kwargs)

    def refuse(*args, **kwargs):
        raise AssertionError("the fast path asked platform about the CPU")

    monkeypatch.setattr(builtins, "open", guarded_open)
    for name in ("processor", "uname", "machine"):
        monkeypatch.setattr(platform, name, refuse)
    monkeypatch.setattr(gemm, "_CHOICES", {})
    monkeypatch.setattr(attention_choice, "_CHOICES", {})
    assert set(machine_report.gemm_choices(torch.float32).values()) <= set(gemm.GEMM_BACKENDS)
    assert machine_report.attention_mode(torch.float32, (9, 4, 6)) in attention_choice.ATTENTION_MODES

    import albertlite

    model = albertlite.AlbertModel(tiny_config()).eval()
    ids = torch.tensor([[5, 6, 7, 8], [5, 6, 0, 0]])
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=(ids > 0).long())
    assert out.last_hidden_state.shape == (2, 4, model.config.hidden_size)
    assert FastOptions().attention == "auto"


@pytest.mark.slow
def test_info_fast_path_prints_what_runs(capsys):
    assert main(["info", "--fast-path"]) == 0
    out = capsys.readouterr().out
    assert "no choice reads it" in out
    assert "gemm       float32: 128->768: " in out
    assert "attention  float32, 16 varied sequences (10-87 tokens): " in out
    mode = out.split("attention  float32, 16 varied sequences (10-87 tokens): ")[1].split()[0]
    assert mode in attention_choice.ATTENTION_MODES
    assert "bf16       recipes train " in out
