"""Bad input, runtime settings: devices and ONNX opsets, refused in one line (exit 2) before any work.

Each CLI case failed before: ``--device tpu`` trained on the CPU (pretrain) or ended in a traceback, ``--device cuda``
without CUDA was a traceback mid-run, and ``--opset 1`` printed two tracebacks, wrote opset 18 and exited 0.
CUDA and MPS are reported missing (monkeypatched) so that the cases mean the same on a machine that has them.
"""

from __future__ import annotations

import json
import re

import onnx
import pytest
import torch

import albertlite
from albertlite.cli import main
from albertlite.devices import resolve_device
from albertlite.export.onnx import export_onnx, opset_range
from albertlite.train import PretrainConfig
from albertlite.train.finetune import FinetuneSettings

from .helpers.finetune import sentiment_examples, write_jsonl
from .helpers.pretrain import build_tiny_corpus, cli_args, tiny_options

NO_CUDA = "cuda is not available on this machine (torch "

# (category, case id, command, flags added to a working command line, exit code, fragment of the one-line error)
DEVICE_CASES = [
    ("out of range", "finetune-tpu", "finetune", ["--device", "tpu"], 2,
     "--device tpu: unknown device; use cpu, cuda, cuda:N (a CUDA device index) or mps (this machine has cpu)"),
    ("out of range", "finetune-cuda", "finetune", ["--device", "cuda"], 2, NO_CUDA),
    ("out of range", "finetune-mps", "finetune", ["--device", "mps"], 2, "mps is not available on this machine"),
    ("out of range", "pretrain-tpu", "pretrain", ["--device", "tpu"], 2, "--device tpu: unknown device"),
    ("out of range", "pretrain-cuda", "pretrain", ["--device", "cuda"], 2, f"{NO_CUDA}"),
    ("out of range", "pretrain-cuda-1", "pretrain", ["--device", "cuda:1"], 2,
     "cuda:1 is not available on this machine"),
    ("out of range", "fill-mask-cuda", "fill-mask", ["--device", "cuda"], 2, "; use --device cpu"),
    ("out of range", "fill-mask-xla", "fill-mask", ["--device", "xla"], 2, "--device xla: unknown device"),
    ("out of range", "predict-cuda", "predict", ["--device", "cuda"], 2, NO_CUDA),
    ("out of range", "predict-cpu-index", "predict", ["--device", "cpu:1"], 2, "--device cpu:1: unknown device"),
    ("empty", "predict-empty", "predict", ["--device", ""], 2, "--device : unknown device"),
]  # fmt: skip

# (category, case id, command, flags, exit code, fragment)
OPSET_CASES = [
    ("out of range", "opset-1", "export", ["--opset", "1"], 2,
     "--opset 1 is outside the ONNX opsets this exporter writes: give 18 to 22 (default 20; torch "),
    ("out of range", "opset-17", "export", ["--opset", "17"], 2, "--opset 17 is outside the ONNX opsets"),
    ("out of range", "opset-23", "export", ["--opset", "23"], 2, "give 18 to 22"),
    ("out of range", "opset-negative", "export", ["--opset", "-5"], 2, "--opset -5 is outside"),
]  # fmt: skip


@pytest.fixture
def no_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_tiny_corpus(tmp_path_factory.mktemp("runtime-corpus"))


@pytest.fixture(scope="module")
def command_lines(base_model, corpus, tmp_path_factory):
    """A working command line of each command; the cases add the flag under test."""
    directory = tmp_path_factory.mktemp("runtime-data")
    train = write_jsonl(directory / "train.jsonl", sentiment_examples(16, 0))
    out = directory / "out"
    return {
        "finetune": ["finetune", "--task", "text-classification", "--model", str(base_model), "--train", str(train),
                     "--output", str(out / "finetuned"), "--no-progress", "--max-steps", "1"],
        "pretrain": cli_args(tiny_options(corpus, out / "pretrained", steps=1)),
        "fill-mask": ["fill-mask", "--model", str(base_model), "the [MASK] walks"],
        "predict": ["predict", "--model", str(base_model), "--task", "masked-lm", "--input", str(
            write_jsonl(directory / "masked.jsonl", [{"text": "the [MASK] walks"}])), "--output", "-"],
        "export": ["export", "onnx", str(base_model), str(out / "model.onnx")],
    }  # fmt: skip


def _one_line_error(capsys, argv: list[str], expected_code: int) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == expected_code and len(lines) == 1 and "Traceback" not in captured.err, (code, captured.err[-2000:])
    return lines[0]


CASES = DEVICE_CASES + OPSET_CASES


@pytest.mark.parametrize(("category", "case", "command", "flags", "code", "fragment"), CASES, ids=[c[1] for c in CASES])
def test_cli_refuses(category, case, command, flags, code, fragment, command_lines, no_accelerators, capsys):
    argv = [*command_lines[command], *flags]
    line = _one_line_error(capsys, argv, code)
    assert line.startswith(f"albertlite {command}: error: ") and fragment in line, line
    assert capsys.readouterr().out == ""  # refused before any work: nothing predicted, trained or written


def test_pretrain_config_file_device_is_refused_naming_the_key(command_lines, no_accelerators, tmp_path, capsys):
    options = tmp_path / "run.json"
    options.write_text(json.dumps({"device": "gpu"}), encoding="utf-8")
    line = _one_line_error(capsys, [*command_lines["pretrain"], "--config", str(options)], 2)
    assert "device='gpu': unknown device" in line


def test_the_api_refuses_the_same_devices(base_model, no_accelerators):
    with pytest.raises(ValueError, match=r"^cuda is not available on this machine \(torch .*\); use device='cpu'$"):
        albertlite.pipeline("fill-mask", model=base_model, device="cuda")
    with pytest.raises(ValueError, match=r"^cuda:0 is not available"):
        albertlite.pipeline("fill-mask", model=base_model, device=0)  # an index means a CUDA device
    assert albertlite.pipeline("fill-mask", model=base_model, device=-1).device == torch.device("cpu")
    with pytest.raises(ValueError, match=r"^device='tpu': unknown device; use cpu, cuda"):
        FinetuneSettings(device="tpu")
    with pytest.raises(ValueError, match=r"^mps is not available on this machine"):
        PretrainConfig(data="d", tokenizer="t", output="o", device="mps")
    with pytest.raises(TypeError, match=r"^device=1\.5: expected a device name \(cpu, cuda"):
        resolve_device(1.5, name="device")


def test_a_cuda_index_beyond_the_machine_names_what_it_has(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    assert resolve_device(None, default="auto") == torch.device("cuda")
    assert resolve_device(None) == torch.device("cpu")
    message = "cuda:3 is not on this machine (it has 2 CUDA devices); use --device cpu or --device cuda:0 or --device "
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        resolve_device("cuda:3")


def test_the_api_refuses_opsets_before_exporting(base_model, tmp_path):
    model = albertlite.AlbertForMaskedLM.from_pretrained(base_model)
    lowest, highest, default = opset_range()
    assert (lowest, highest, default) == (18, 22, 20)  # torch 2.13: torchlib's 18 up to 22 (see _LAST_RUNNABLE_OPSET)
    with pytest.raises(ValueError, match=r"^opset 17 is outside the ONNX opsets this exporter writes: give 18 to 22"):
        export_onnx(model, tmp_path / "a.onnx", opset=17)
    with pytest.raises(TypeError, match=r"^opset must be a whole number from 18 to 22, got str"):
        export_onnx(model, tmp_path / "a.onnx", opset="20")
    assert not (tmp_path / "a.onnx").exists()


def test_a_valid_non_default_opset_is_the_one_written(command_lines, tmp_path, capsys):
    output = tmp_path / "opset19.onnx"
    argv = [*command_lines["export"][:-1], str(output), "--opset", "19"]
    assert main(argv) == 0, capsys.readouterr().err
    versions = {entry.domain: entry.version for entry in onnx.load(str(output)).opset_import}
    assert versions[""] == 19
