"""Shared fixtures: tiny ALBERT configs and padded batches. Nothing here downloads anything."""

from __future__ import annotations

import os

import numpy as np
import pytest

# Tests never reach the Hub: every Hub lookup must be answered from a local cache built by the test.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from albertlite.fast import fast_path, set_fast_path

from .helpers.models import MODEL_CLASSES, tiny_config  # noqa: F401 (conftest is where pytest looks)

# Parity tests pin the plain PyTorch path (module-scoped fixtures included); modules that set
# ``USES_FAST_PATH = True`` run their tests with the padding-free fast path on.
set_fast_path(False)


@pytest.fixture(autouse=True)
def _plain_path_unless_asked(request: pytest.FixtureRequest):
    with fast_path(bool(getattr(request.module, "USES_FAST_PATH", False))):
        yield


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="module")
def base_model(tmp_path_factory):
    """A tiny ALBERT masked-LM directory with its tokenizer, for the fine-tuning and pipeline tests."""
    from .helpers.finetune import make_model_dir, make_tokenizer_dir

    tokenizer_dir = make_tokenizer_dir(tmp_path_factory.mktemp("tok"))
    return make_model_dir(tmp_path_factory.mktemp("base"), tokenizer_dir)
