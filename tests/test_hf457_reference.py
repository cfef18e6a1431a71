"""Relative positions and head_mask against transformers 4.57 fixtures (5.x dropped both).

The fixtures were written by scripts/make_hf457_fixtures.py in a separate venv holding 4.57 (eager
attention); see tests/fixtures/hf457/README.md. We compare at real positions within 1e-5.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import albertlite

FIXTURES = Path(__file__).parent / "fixtures" / "hf457"
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_hf457_fixtures.py"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "io.npz").exists())
ATOL = 1e-5


def _load(case: str):
    data = dict(np.load(FIXTURES / case / "io.npz"))
    meta = json.loads((FIXTURES / case / "meta.json").read_text())
    return data, meta


def _run(model, data, **kwargs):
    inputs = {k: torch.from_numpy(data[k]) for k in ("input_ids", "attention_mask", "token_type_ids")}
    if "head_mask" in data:
        inputs["head_mask"] = torch.from_numpy(data["head_mask"])
    with torch.no_grad():
        return model(**inputs, **kwargs)


def _script_cases() -> dict[str, dict]:
    """The cases scripts/make_hf457_fixtures.py writes, read from its source (it imports transformers 4.57)."""
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    table = next(n for n in ast.walk(tree) if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "CASES")
    cases = {}
    for call in table.value.elts:
        fields = {k.arg: k.value for k in call.keywords}
        literal = {k: ast.literal_eval(v) for k, v in fields.items() if k in ("name", "description", "config", "seed")}
        cases[literal["name"]] = literal
    return cases


def test_every_case_the_script_writes_is_here_as_it_wrote_it():
    expected = _script_cases()
    assert sorted(expected) == CASES and len(CASES) >= 6
    for case in CASES:
        data, meta = _load(case)
        assert (meta["case"], meta["description"]) == (case, expected[case]["description"])
        assert meta["generator"]["seed"] == expected[case]["seed"] and meta["generator"]["transformers"].startswith(
            "4.57"
        )
        config = json.loads((FIXTURES / case / "config.json").read_text())
        assert {k: config[k] for k in expected[case]["config"]} == expected[case]["config"]
        assert {"input_ids", "attention_mask", "last_hidden_state", "prediction_logits"} <= set(data)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("attn", ["eager", "sdpa"])
def test_matches_transformers_457(case, attn):
    data, meta = _load(case)
    model = albertlite.AlbertForPreTraining.from_pretrained(FIXTURES / case, attn_implementation=attn)
    assert model.config.position_embedding_type == meta["position_embedding_type"]
    out = _run(
        model,
        data,
        labels=torch.from_numpy(data["labels"]),
        sentence_order_label=torch.from_numpy(data["sentence_order_label"]),
        output_hidden_states=True,
        output_attentions=True,
    )
    real = data["attention_mask"].astype(bool)
    np.testing.assert_allclose(out.prediction_logits.numpy()[real], data["prediction_logits"][real], atol=ATOL, rtol=0)
    np.testing.assert_allclose(out.sop_logits.numpy(), data["sop_logits"], atol=ATOL, rtol=0)
    np.testing.assert_allclose(out.loss.numpy(), data["loss"], atol=ATOL, rtol=0)
    indices = meta["comparable"]["hidden_states"]["albertlite_indices"]
    assert len(out.hidden_states) == meta["applied_layers"] + 1
    for ours_index, theirs in zip(indices, data["hidden_states"]):
        np.testing.assert_allclose(out.hidden_states[ours_index].numpy()[real], theirs[real], atol=ATOL, rtol=0)
    np.testing.assert_allclose(np.stack([a.numpy() for a in out.attentions]), data["attentions"], atol=ATOL, rtol=0)

    base = out.hidden_states[-1].numpy()
    np.testing.assert_allclose(base[real], data["last_hidden_state"][real], atol=ATOL, rtol=0)


@pytest.mark.parametrize("case", [c for c in CASES if c.startswith("relative")])
def test_default_fast_call_matches_without_extras(case):
    """No attentions or hidden states requested: the SDPA path with relative bias gives the same logits."""
    data, _ = _load(case)
    model = albertlite.AlbertForPreTraining.from_pretrained(FIXTURES / case)
    out = _run(model, data)
    real = data["attention_mask"].astype(bool)
    np.testing.assert_allclose(out.prediction_logits.numpy()[real], data["prediction_logits"][real], atol=ATOL, rtol=0)


def test_relative_weights_change_the_output():
    """Guards the comparison above: without the distance table the model is measurably different."""
    data, _ = _load("relative_key")
    model = albertlite.AlbertForPreTraining.from_pretrained(FIXTURES / "relative_key")
    for group in model.albert.encoder.albert_layer_groups:
        for layer in group.albert_layers:
            layer.attention.distance_embedding.weight.data.zero_()
    out = _run(model, data)
    real = data["attention_mask"].astype(bool)
    assert np.abs(out.prediction_logits.numpy()[real] - data["prediction_logits"][real]).max() > 1e-2


def test_transformers_5_mis_loads_relative_checkpoints_and_we_do_not():
    transformers = pytest.importorskip("transformers")
    data, _ = _load("relative_key")
    theirs = transformers.AlbertForPreTraining.from_pretrained(FIXTURES / "relative_key").eval()
    out = _run(theirs, data)
    real = data["attention_mask"].astype(bool)
    # transformers 5 silently ignores the relative weights: its logits are wrong.
    assert np.abs(out.prediction_logits.numpy()[real] - data["prediction_logits"][real]).max() > 1e-2
