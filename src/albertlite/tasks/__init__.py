"""Tasks: the registry (one entry per task) and the framework-free path from examples to features and back.

- :mod:`~albertlite.tasks.registry`: the entries, task look-up, and the task a model directory records;
- :mod:`~albertlite.tasks.examples`: reading examples from files, lists of dicts and ``datasets`` objects;
- :mod:`~albertlite.tasks.labels`: label names, regression detection, label checks;
- :mod:`~albertlite.tasks.features`: one featurizer per task;
- :mod:`~albertlite.tasks.batching`: padded numpy batches, ``tf.data``, masking for masked-LM fine-tuning;
- :mod:`~albertlite.tasks.decoding`: answer spans and word tags from model outputs;
- :mod:`~albertlite.tasks.evaluation`: validation scores per task.
"""

from albertlite.tasks.batching import (
    LABEL_KEYS,
    MODEL_INPUTS,
    batch_indices,
    collate,
    feature_length,
    mask_batch,
    numpy_batches,
    to_tf_dataset,
)
from albertlite.tasks.decoding import DecodeSettings, decode_answers, word_tags
from albertlite.tasks.evaluation import ScoreOptions
from albertlite.tasks.features import IGNORE_INDEX, FeatureSettings
from albertlite.tasks.labels import is_regression
from albertlite.tasks.registry import (
    REGISTRY,
    TASK_FILE,
    TASKS,
    TRAINABLE_TASKS,
    Task,
    canonical_task,
    check_labels,
    dataset_label_names,
    directory_task,
    get_task,
    label_names,
    load_examples,
    prepare_features,
    read_task_file,
    resolve_task,
    trainable_task,
)

__all__ = [
    "IGNORE_INDEX",
    "LABEL_KEYS",
    "MODEL_INPUTS",
    "REGISTRY",
    "TASKS",
    "TASK_FILE",
    "TRAINABLE_TASKS",
    "DecodeSettings",
    "FeatureSettings",
    "ScoreOptions",
    "Task",
    "batch_indices",
    "canonical_task",
    "check_labels",
    "collate",
    "dataset_label_names",
    "decode_answers",
    "directory_task",
    "feature_length",
    "get_task",
    "is_regression",
    "label_names",
    "load_examples",
    "mask_batch",
    "numpy_batches",
    "prepare_features",
    "read_task_file",
    "resolve_task",
    "to_tf_dataset",
    "trainable_task",
    "word_tags",
]
