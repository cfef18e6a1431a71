"""Relative positions and head_mask against transformers 4.57 fixtures (5.x dropped both).

The fixtures were written by scripts/make_hf457_fixtures.py in a separate venv holding 4.57 (eager
attention); see tests/fixtures/hf457/README.md. We compare at real positions within 1e-5.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import albertlite

FIXTURES = Path(__file__).parent / "fixtures" / "hf457"
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


def test_all_cases_present():
    assert len(CASES) == 6


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
