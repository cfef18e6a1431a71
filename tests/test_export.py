"""ONNX export (every class, dynamic axes, shared weights stored once), onnxruntime parity, torch.export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import helper, numpy_helper

import albertlite
from albertlite import modeling_torch
from albertlite.cli import main
from albertlite.export.onnx import dedupe_initializers, export_onnx, load_for_export, onnx_inputs, run_onnx
from albertlite.fast import fast_path

from .helpers.models import MODEL_CLASSES, tiny_config

CLASSES = MODEL_CLASSES


def _model(cls_name: str, config_name: str = "groups_inner", **overrides) -> torch.nn.Module:
    torch.manual_seed(0)
    return getattr(modeling_torch, cls_name)(tiny_config(config_name, **overrides)).eval()


def _assert_matches(model, path: Path, batch: int, seq_len: int) -> None:
    inputs = onnx_inputs(model, batch=batch, seq_len=seq_len, seed=7)
    got = run_onnx(path, inputs)
    with torch.no_grad(), fast_path(False):
        expected = model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
    assert sorted(got) == sorted(expected.keys())
    for name, value in expected.items():
        assert got[name].shape == tuple(value.shape), name
        np.testing.assert_allclose(got[name], value.numpy(), atol=1e-4, rtol=1e-4, err_msg=name)


# Each export takes ~5-20 s on 2 shared cores: two classes run in the quick suite, the others are marked slow.
QUICK = ("AlbertForSequenceClassification", "AlbertForMultipleChoice")


@pytest.mark.parametrize("cls_name", [c if c in QUICK else pytest.param(c, marks=pytest.mark.slow) for c in CLASSES])
def test_every_class_exports_and_matches_on_other_shapes(cls_name, tmp_path):
    model = _model(cls_name)
    path = export_onnx(model, tmp_path / "model.onnx")
    # Exported with batch 2 and length 8; dynamic axes must serve other shapes.
    _assert_matches(model, path, batch=3, seq_len=13)
    _assert_matches(model, path, batch=1, seq_len=5)


@pytest.mark.parametrize(
    "cls_name", ["AlbertForSequenceClassification", pytest.param("AlbertForMultipleChoice", marks=pytest.mark.slow)]
)
def test_mean_classifier_pooling_exports_and_matches(cls_name, tmp_path):
    # The masked mean over real tokens must survive graph capture with dynamic batch and length; a wide
    # initialisation so that the logits (not ~1e-3 as with 0.02) would show a wrong mean at 1e-4.
    model = _model(cls_name, classifier_pooling="mean", initializer_range=0.2)
    path = export_onnx(model, tmp_path / "model.onnx")
    _assert_matches(model, path, batch=3, seq_len=13)


@pytest.mark.slow
def test_relative_positions_export(tmp_path):
    model = _model("AlbertModel", "relative_key_query")
    path = export_onnx(model, tmp_path / "model.onnx")
    _assert_matches(model, path, batch=3, seq_len=13)


def _initializer_bytes(path: Path) -> int:
    return sum(numpy_helper.to_array(t).nbytes for t in onnx.load(str(path)).graph.initializer)


def test_shared_layer_is_stored_once(tmp_path):
    # 12 applications of one layer: a copy per application would be 12x the layer's bytes.
    model = _model("AlbertModel", "shared", num_hidden_layers=12, hidden_size=64, intermediate_size=256)
    path = export_onnx(model, tmp_path / "model.onnx")
    parameter_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    assert _initializer_bytes(path) <= 1.1 * parameter_bytes


@pytest.mark.slow
def test_albert_base_onnx_file_at_most_1_1x_safetensors(tmp_path):
    config = albertlite.AlbertConfig(
        vocab_size=30000, embedding_size=128, hidden_size=768, num_attention_heads=12, intermediate_size=3072,
        num_hidden_layers=12, hidden_act="gelu_new",
    )  # fmt: skip
    model = modeling_torch.AlbertModel(config).eval()
    directory = model.save_pretrained(tmp_path / "base")
    path = export_onnx(model, tmp_path / "base.onnx")
    ratio = path.stat().st_size / (directory / "model.safetensors").stat().st_size
    assert ratio <= 1.1, ratio


def test_dedupe_initializers_merges_equal_tensors_and_keeps_results():
    weight = np.arange(6, dtype=np.float32).reshape(2, 3)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["y1"]), helper.make_node("MatMul", ["y1", "w2"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 3])],
        [
            numpy_helper.from_array(weight, "w1"),
            numpy_helper.from_array(np.eye(3, dtype=np.float32), "w2"),
            numpy_helper.from_array(weight.copy(), "w3"),  # equal to w1, unused
        ],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    merged = dedupe_initializers(proto)
    assert [t.name for t in merged.graph.initializer] == ["w1", "w2"]
    shared = onnx.load_from_string(merged.SerializeToString())
    assert shared.graph.node[0].input[1] == "w1"


def test_torch_export_with_dynamic_shapes():
    model = _model("AlbertForSequenceClassification")
    inputs = {k: torch.from_numpy(v) for k, v in onnx_inputs(model).items()}
    batch = torch.export.Dim("batch")
    sequence = torch.export.Dim("sequence", max=model.config.max_position_embeddings)
    shapes = {name: {0: batch, 1: sequence} for name in inputs}
    program = torch.export.export(model, (), kwargs=inputs, dynamic_shapes=shapes)
    other = {k: torch.from_numpy(v) for k, v in onnx_inputs(model, batch=3, seq_len=13, seed=2).items()}
    with torch.no_grad():
        expected = model(**other).logits
    np.testing.assert_allclose(program.module()(**other).logits.detach(), expected, atol=1e-5)


def test_cli_export_onnx(tmp_path, capsys):
    model = _model("AlbertForTokenClassification", "shared", num_labels=3)
    model.save_pretrained(tmp_path / "model")
    output = tmp_path / "out" / "model.onnx"
    assert main(["export", "onnx", str(tmp_path / "model"), str(output)]) == 0
    assert "AlbertForTokenClassification" in capsys.readouterr().out
    _assert_matches(model, output, batch=2, seq_len=6)
    assert main(["export", "onnx", str(tmp_path / "model"), str(tmp_path / "b.onnx"), "--task", "base"]) == 0
    names = [o.name for o in onnx.load(str(tmp_path / "b.onnx")).graph.output]
    assert names == ["last_hidden_state", "pooler_output"]


@pytest.mark.slow  # one export, ~20-30 s on 2 shared cores
def test_export_onnx_loads_a_model_directory_with_the_head_its_config_names(tmp_path):
    model = _model("AlbertForTokenClassification", "shared", num_labels=3)
    model.save_pretrained(tmp_path / "model")
    path = export_onnx(str(tmp_path / "model"), tmp_path / "model.onnx", check=False)
    assert [o.name for o in onnx.load(str(path)).graph.output] == ["logits"]
    _assert_matches(model, path, batch=2, seq_len=6)
    loaded = load_for_export(tmp_path / "model")  # an os.PathLike too, as from_pretrained takes
    assert type(loaded) is type(model) and loaded.config.num_labels == 3


@pytest.mark.parametrize(
    "given", [None, 3, {"model": "dir"}, torch.nn.Linear(2, 2)], ids=["none", "int", "dict", "linear"]
)
def test_export_onnx_refuses_what_is_neither_a_model_nor_a_directory(given, tmp_path):
    with pytest.raises(
        TypeError,
        match=r"export_onnx takes an albertlite PyTorch model .* or a model directory / Hub "
        rf"id \(str or os.PathLike\), got {type(given).__name__}\.",
    ):
        export_onnx(given, tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()
