"""Time one TensorFlow or Flax ALBERT implementation on a saved batch; run by bench_models.py in a subprocess.

Hugging Face 4.57's TF/Flax classes cannot share a venv with transformers 5, so each implementation runs in its own
process (``/work/venv457/bin/python`` for the ``hf-*`` ones). Usage:

    python benchmarks/framework_worker.py IMPL MODEL_DIR BATCH.npz RUNS

IMPL is one of albertlite-tf, albertlite-flax, albertlite-tf-plain, albertlite-flax-plain, hf-tf, hf-flax. Prints one
JSON line: the median seconds of RUNS calls after two warm-up calls (tracing/compilation excluded), and the last hidden
state's checksum at real positions.

``albertlite-tf`` and ``albertlite-flax`` are the plain model call, which packs the batch (the fast path; packing reads
the mask's values, so the call is not wrapped in the caller's tf.function / jax.jit: the model compiles its packed
encoder itself). The ``-plain`` variants and Hugging Face's classes run the padded batch inside tf.function / jax.jit,
which is how those are used fastest.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _tf_runner(impl: str, model_dir: str):
    import tensorflow as tf

    if impl == "hf-tf":
        from transformers import TFAlbertModel

        model = TFAlbertModel.from_pretrained(model_dir, from_pt=True)
    else:
        from albertlite import TFAlbertModel

        model = TFAlbertModel.from_pretrained(model_dir)
        if impl == "albertlite-tf":
            return lambda batch: model(**batch, training=False).last_hidden_state.numpy()

    @tf.function(reduce_retracing=True)
    def run(input_ids, attention_mask, token_type_ids):
        out = model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, training=False)
        return out[0]

    return lambda batch: run(**{k: tf.constant(v) for k, v in batch.items()}).numpy()


def _flax_runner(impl: str, model_dir: str):
    import jax

    if impl == "hf-flax":
        from transformers import FlaxAlbertModel

        model = FlaxAlbertModel.from_pretrained(model_dir, from_pt=True)
    else:
        from albertlite import FlaxAlbertModel

        model = FlaxAlbertModel.from_pretrained(model_dir)
        if impl == "albertlite-flax":
            return lambda batch: np.asarray(model(**batch).last_hidden_state)

    @jax.jit
    def run(input_ids, attention_mask, token_type_ids):
        return model(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]

    return lambda batch: np.asarray(run(**batch))


def main() -> None:
    impl, model_dir, batch_file, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    batch = {k: v.astype(np.int32 if "flax" in impl else np.int64) for k, v in np.load(batch_file).items()}
    framework = impl.removesuffix("-plain").rsplit("-", 1)[1]
    runner = _tf_runner(impl, model_dir) if framework == "tf" else _flax_runner(impl, model_dir)
    for _ in range(2):
        out = runner(batch)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = runner(batch)
        times.append(time.perf_counter() - start)
    mask = batch["attention_mask"].astype(bool)
    print(json.dumps({"impl": impl, "median_s": statistics.median(times), "runs_s": times,
                      "checksum_real": float(np.abs(out[mask]).sum())}))  # fmt: skip


if __name__ == "__main__":
    main()
