"""Bad data and config files as a matrix, through the CLI: what ``finetune``, ``predict`` and ``pretrain`` answer.

Each case failed before: a traceback (a CSV row with an extra cell), a bare ``'labels'`` or numpy message raised when
the row was batched, a decode error or an ``int()`` message naming neither the file nor the line or key, a BOM
that hid the ``text`` column, a config file inside a model directory blamed on the Hub. Now each is one line on
stderr and exit code 2 naming the file, the line (or key) and what works; a BOM just works (exit 0).
"""

from __future__ import annotations

import json
import shutil
import socket
import time

import pytest
from huggingface_hub import constants

from albertlite import AlbertConfig, AlbertForMaskedLM, AlbertForSequenceClassification, AlbertTokenizerFast
from albertlite.checkpoints import hub
from albertlite.cli import main
from albertlite.train import finetune as ft

from .helpers.models import fake_hub_cache

QA_ROW = {"question": "what color is it", "context": "the red house", "answers": {"text": ["red"], "answer_start": [4]}}
TC = "text-classification"


def _jsonl(*rows: dict) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


# (category, case id, command, task, file name, file bytes, exit code, fragment of the one line (or of stdout))
FILE_CASES = [
    ("missing", "csv-short-row", "finetune", TC, "train.csv", b"text,label\nalice good,pos\nbob bad\n", 2,
     "train.csv, line 3: 1 of the header's 2 columns (no 'label')."),
    ("too long", "csv-long-row", "finetune", TC, "train.csv", b"text,label\nalice good,pos\nbob bad,neg,x\n", 2,
     "train.csv, line 3: 3 cells, more than the header's 2 columns."),
    ("missing", "jsonl-row-without-label", "finetune", TC, "train.jsonl",
     _jsonl({"text": "alice good", "label": "pos"}, {"text": "bob bad"}, {"text": "x", "label": "neg"}), 2,
     "train.jsonl, line 2: no label ('label' is empty); every training example needs one"),
    ("empty", "csv-empty-label", "finetune", TC, "train.csv", b"text,label\nalice good,pos\nbob bad,\n", 2,
     "train.csv, line 3: no label ('label' is empty)"),
    ("wrong type", "number-among-label-names", "finetune", TC, "train.jsonl",
     _jsonl({"text": "alice good", "label": "pos"}, {"text": "bob bad", "label": "neg"}, {"text": "x", "label": 1}),
     2, "training labels mix names and numbers: example 2 has 1 among 'neg', 'pos'"),
    ("wrong type", "fraction-among-label-names", "finetune", TC, "train.jsonl",
     _jsonl({"text": "alice good", "label": "pos"}, {"text": "x", "label": 0.5}, {"text": "bob bad", "label": "neg"}),
     2, "training labels mix names and numbers: example 1 has 0.5 among 'neg', 'pos'"),
    ("missing", "jsonl-row-without-question", "finetune", "question-answering", "train.jsonl",
     _jsonl(QA_ROW, {k: v for k, v in QA_ROW.items() if k != "question"}), 2,
     "train.jsonl, line 2: no 'question', which question-answering needs (its non-empty columns: context, answers)"),
    ("wrong type", "classification-data-for-qa", "finetune", "question-answering", "train.jsonl",
     _jsonl({"text": "alice good", "label": "pos"}), 2,
     "missing column 'question' for question-answering (accepted names: question; columns found: text, label); "
     "question-answering needs question, context, answers, and these columns look like text-classification data."),
    ("wrong type", "qa-data-for-tagging", "finetune", "token-classification", "train.jsonl", _jsonl(QA_ROW), 2,
     "these columns look like question-answering data."),
    ("conflicting settings", "ragged-choices", "finetune", "multiple-choice", "train.jsonl",
     _jsonl({"question": "q", "choices": ["a", "b"], "label": 0}, {"question": "q", "choices": ["a", "b", "c"],
                                                                    "label": 1}), 2,
     "train.jsonl, line 2: 3 choices, but the first example (", ),
    ("wrong type", "latin-1-csv", "finetune", TC, "train.csv", b"text,label\nalice \xe9t\xe9,pos\n", 2,
     "train.csv is not UTF-8 text (line 2: byte 0xe9 invalid continuation byte); save it as UTF-8."),
    ("wrong type", "latin-1-jsonl", "predict", None, "input.jsonl", b'{"text": "a"}\n{"text": "caf\xe9"}\n', 2,
     "input.jsonl is not UTF-8 text (line 2: byte 0xe9"),
    ("wrong type", "latin-1-json", "predict", None, "input.json", b'[{"text": "caf\xe9"}]', 2,
     "input.json is not UTF-8 text (line 1: byte 0xe9"),
    ("wrong type", "invalid-json", "predict", None, "input.json", b'[{"text": "a"},]', 2, "input.json: not valid JSON"),
    ("missing", "predict-short-row", "predict", None, "input.csv", b"text,text_pair\nalice,bob\ncarol\n", 2,
     "input.csv, line 3: 1 of the header's 2 columns (no 'text_pair')."),
    ("wrong type", "csv-with-bom", "predict", None, "input.csv", b"\xef\xbb\xbftext\nalice good\nbob bad\n", 0,
     "wrote 2 predictions"),
    ("wrong type", "jsonl-with-bom", "predict", None, "input.jsonl", b"\xef\xbb\xbf" + _jsonl({"text": "a"}), 0,
     "wrote 1 predictions"),
]  # fmt: skip


def _run(capsys, argv: list[str]) -> tuple[int, str, list[str]]:
    code = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err[-2000:]
    return code, captured.out, captured.err.strip().splitlines()


def _one_line(capsys, argv: list[str]) -> str:
    code, _, lines = _run(capsys, argv)
    assert code == 2 and len(lines) == 1, (code, lines)
    return lines[0]


@pytest.fixture(scope="module")
def classifier(base_model, tmp_path_factory):
    """A text-classification directory (its config.json names the head), for predict."""
    directory = tmp_path_factory.mktemp("classifier")
    model = AlbertForSequenceClassification.from_pretrained(base_model, id2label={0: "neg", 1: "pos"})
    model.save_pretrained(directory)
    AlbertTokenizerFast.from_pretrained(base_model).save_pretrained(directory)
    return directory


@pytest.mark.parametrize(("category", "case", "command", "task", "name", "data", "code", "fragment"), FILE_CASES,
                         ids=[c[1] for c in FILE_CASES])  # fmt: skip
def test_data_files(category, case, command, task, name, data, code, fragment, base_model, classifier, tmp_path,
                    capsys):  # fmt: skip
    path = tmp_path / name
    path.write_bytes(data)
    out = tmp_path / "out"
    if command == "finetune":
        argv = ["finetune", "--task", task, "--model", str(base_model), "--train", str(path), "--output", str(out),
                "--no-progress", "--max-steps", "1"]  # fmt: skip
    else:
        argv = ["predict", "--model", str(classifier), "--input", str(path), "--output", str(out / "p.jsonl")]
    if code == 2:
        assert fragment in _one_line(capsys, argv)
        assert not (out / "model.safetensors").exists() and not (out / "p.jsonl").exists()
    else:
        status, stdout, _ = _run(capsys, argv)
        assert status == 0 and fragment in stdout
        rows = [json.loads(line) for line in (out / "p.jsonl").read_text(encoding="utf-8").splitlines()]
        assert all(row["label"] in ("neg", "pos") for row in rows)


# (category, case id, config.json changes (bytes: the whole file), fragment of the one line)
MODEL_CONFIG_CASES = [
    ("wrong type", "dropout-string", {"hidden_dropout_prob": "x"},
     "config.json: AlbertConfig.hidden_dropout_prob must lie in [0, 1), got 'x'."),
    ("not a number", "eps-string", {"layer_norm_eps": "tiny"},
     "config.json: AlbertConfig.layer_norm_eps must be a positive number, got 'tiny'."),
    ("wrong type", "id2label-keys", {"id2label": {"a": "neg"}},
     "config.json: AlbertConfig.id2label keys must be label ids (whole numbers), got 'a'."),
    ("wrong type", "pad-token-string", {"pad_token_id": "0"},
     "config.json: AlbertConfig.pad_token_id must be a token id (a whole number) or null, got '0'."),
    ("wrong type", "not-utf-8", b'{"hidden_act": "gelu\xe9"}', "config.json is not UTF-8 text"),
]  # fmt: skip


@pytest.mark.parametrize(("category", "case", "change", "fragment"), MODEL_CONFIG_CASES,
                         ids=[c[1] for c in MODEL_CONFIG_CASES])  # fmt: skip
def test_model_config_files(category, case, change, fragment, base_model, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(base_model, model)
    if isinstance(change, bytes):
        (model / "config.json").write_bytes(change)
    else:
        config = json.loads((model / "config.json").read_text(encoding="utf-8"))
        (model / "config.json").write_text(json.dumps({**config, **change}), encoding="utf-8")
    train = tmp_path / "train.jsonl"
    train.write_bytes(_jsonl({"text": "alice good", "label": "pos"}, {"text": "bob bad", "label": "neg"}))
    argv = ["finetune", "--task", TC, "--model", str(model), "--train", str(train), "--output", str(tmp_path / "out"),
            "--no-progress"]  # fmt: skip
    line = _one_line(capsys, argv)
    assert fragment in line and str(model / "config.json") in line
    with pytest.raises(ValueError, match=r"config\.json"):
        AlbertConfig.from_pretrained(model)


# (category, case id, --config file options (bytes: the whole file), fragment of the one line)
PRETRAIN_CONFIG_CASES = [
    ("not a number", "steps-ten", {"steps": "ten"}, "run.json: steps must be a whole number, got 'ten'."),
    ("not a number", "lr-word", {"lr": "fast"}, "run.json: lr must be a number, got 'fast'."),
    ("wrong type", "bf16-string", {"bf16": "yes"}, "run.json: bf16 must be true or false, got 'yes'."),
    ("wrong type", "steps-true", {"steps": True}, "run.json: steps must be a whole number, got True."),
    ("misspelt key", "steps-typo", {"stpes": 3}, "run.json: unknown key(s) 'stpes' (did you mean 'steps'?)"),
    ("wrong type", "not-utf-8", b'{"device": "cpu\xe9"}', "run.json is not UTF-8 text (invalid continuation byte"),
]  # fmt: skip


@pytest.mark.parametrize(("category", "case", "options", "fragment"), PRETRAIN_CONFIG_CASES,
                         ids=[c[1] for c in PRETRAIN_CONFIG_CASES])  # fmt: skip
def test_pretrain_config_files(category, case, options, fragment, tmp_path, capsys):
    run_file = tmp_path / "run.json"
    if isinstance(options, bytes):
        run_file.write_bytes(options)
    else:
        run_file.write_text(json.dumps({"data": str(tmp_path / "d"), "tokenizer": str(tmp_path / "t"),
                                        "output": str(tmp_path / "o"), **options}))  # fmt: skip
    assert fragment in _one_line(capsys, ["pretrain", "--config", str(run_file)])
    assert not (tmp_path / "o").exists()


# (category, case id, finetune --config file options (bytes: the whole file), fragment of the one line)
FINETUNE_CONFIG_CASES = [
    ("not a number", "lr-word", {"learning_rate": "fast"}, "ft.json: learning_rate must be a number, got 'fast'."),
    ("wrong type", "bf16-string", {"bf16": "no"}, "ft.json: bf16 must be true or false, got 'no'."),
    ("wrong type", "batch-float-string", {"batch_size": "32"}, "ft.json: batch_size must be a whole number, got '32'."),
    ("misspelt key", "lr-typo", {"learnig_rate": 0.1},
     "ft.json: unknown key(s) 'learnig_rate' (did you mean 'learning_rate'?)"),
    ("wrong type", "not-an-object", b"[1, 2]", "ft.json must hold a JSON object of fine-tuning settings"),
    ("wrong type", "not-utf-8", b'{"device": "cpu\xe9"}', "ft.json is not UTF-8 text"),
]  # fmt: skip


def _finetune_argv(base_model, tmp_path, *flags: str) -> list[str]:
    train = tmp_path / "train.jsonl"
    train.write_bytes(_jsonl({"text": "alice good", "label": "pos"}, {"text": "bob bad", "label": "neg"}))
    return ["finetune", "--task", TC, "--model", str(base_model), "--train", str(train), "--output",
            str(tmp_path / "out"), "--no-progress", *flags]  # fmt: skip


@pytest.mark.parametrize(("category", "case", "options", "fragment"), FINETUNE_CONFIG_CASES,
                         ids=[c[1] for c in FINETUNE_CONFIG_CASES])  # fmt: skip
def test_finetune_config_files(category, case, options, fragment, base_model, tmp_path, capsys):
    config = tmp_path / "ft.json"
    config.write_bytes(options if isinstance(options, bytes) else json.dumps(options).encode())
    assert fragment in _one_line(capsys, _finetune_argv(base_model, tmp_path, "--config", str(config)))
    assert not (tmp_path / "out" / "model.safetensors").exists()


def test_finetune_config_file_settings_apply_and_flags_win(base_model, tmp_path, capsys):
    config = tmp_path / "ft.json"
    config.write_text(json.dumps({"max-steps": 1, "batch_size": 4, "weight_decay": 0.0, "seed": 3}))
    code, _, lines = _run(capsys, _finetune_argv(base_model, tmp_path, "--config", str(config), "--seed", "5"))
    assert code == 0, lines
    settings = json.loads((tmp_path / "out" / ft.RESULTS_FILE).read_text(encoding="utf-8"))["settings"]
    assert (settings["max_steps"], settings["batch_size"], settings["weight_decay"], settings["seed"]) == (1, 4, 0.0, 5)
    with pytest.raises(ValueError, match="FinetuneSettings: bf16 must be true or false, got 'no'"):
        ft.FinetuneSettings(bf16="no")


# (category, case id, command, --model (a name in the base model's directory, or ""), fragment of the one line)
MODEL_PATH_CASES = [
    ("wrong type", "predict-model-config-file", "predict", "config.json", "config.json is a file: pass the directory"),
    ("wrong type", "finetune-model-weights-file", "finetune", "model.safetensors",
     "model.safetensors is a file: pass the directory that holds it"),
    ("empty", "predict-empty-model", "predict", "", "The model name is empty: pass a model directory or a Hub id"),
    ("empty", "finetune-empty-model", "finetune", "", "The model name is empty"),
]  # fmt: skip


@pytest.mark.parametrize(("category", "case", "command", "name", "fragment"), MODEL_PATH_CASES,
                         ids=[c[1] for c in MODEL_PATH_CASES])  # fmt: skip
def test_model_paths(category, case, command, name, fragment, base_model, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(base_model)  # "" used to read the current directory: a model directory here
    data = tmp_path / "data.jsonl"
    data.write_bytes(_jsonl({"text": "alice good", "label": "pos"}, {"text": "bob bad", "label": "neg"}))
    model = str(base_model / name) if name else ""
    if command == "predict":
        argv = ["predict", "--task", "feature-extraction", "--model", model, "--input", str(data), "--output", "-"]
    else:
        argv = ["finetune", "--task", TC, "--model", model, "--train", str(data), "--output", str(tmp_path / "o"),
                "--no-progress", "--max-steps", "1"]  # fmt: skip
    assert fragment in _one_line(capsys, argv)


def test_from_pretrained_refuses_empty_names_and_files_in_the_api(base_model):
    for load in (AlbertConfig.from_pretrained, AlbertForMaskedLM.from_pretrained, AlbertTokenizerFast.from_pretrained):
        with pytest.raises(ValueError, match="The model name is empty"):
            load("")
    with pytest.raises(ValueError, match=rf"is a file: pass the directory that holds it \({base_model}\)"):
        AlbertForMaskedLM.from_pretrained(base_model / "config.json")
    assert AlbertConfig.from_pretrained(base_model / "config.json").hidden_size == 64  # a config file is a config


# --------------------------------------------------------------------------- an unreachable Hub


@pytest.fixture
def unreachable_hub(monkeypatch, tmp_path):
    """Offline mode off, the endpoint a local port nothing listens on, an empty cache of our own."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: connections are refused
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    monkeypatch.setattr(hub, "_UNREACHABLE", {})
    return tmp_path / "hub-cache", port


def test_an_unreachable_hub_is_one_line_without_retries(unreachable_hub, tmp_path, capsys):
    data = tmp_path / "data.jsonl"
    data.write_bytes(_jsonl({"text": "alice"}))
    started = time.monotonic()
    line = _one_line(capsys, ["predict", "--model", "someorg/somemodel", "--input", str(data), "--output", "-"])
    assert time.monotonic() - started < 15  # huggingface_hub's retries took ~23 s per file
    assert f"The Hugging Face Hub (http://127.0.0.1:{unreachable_hub[1]}) cannot be reached" in line
    assert "'someorg/somemodel' is not in the local cache" in line and "HF_HUB_OFFLINE=1" in line


def test_an_unreachable_hub_answers_from_the_cache_at_once(unreachable_hub, base_model, tmp_path, capsys):
    fake_hub_cache(unreachable_hub[0], "someorg/cached", base_model)
    data = tmp_path / "data.jsonl"
    data.write_bytes(_jsonl({"text": "alice"}))
    started = time.monotonic()
    code, out, lines = _run(capsys, ["predict", "--task", "feature-extraction", "--model", "someorg/cached",
                                     "--input", str(data), "--output", "-"])  # fmt: skip
    assert time.monotonic() - started < 15
    assert code == 0 and len(json.loads(out)["embedding"]) == 64, lines
    assert not [line for line in lines if "Retrying" in line]


# --------------------------------------------------------------------------- guards speak the caller's language


def test_output_guards_name_flags_on_the_cli_and_arguments_in_the_api(base_model, tmp_path, capsys):
    taken = tmp_path / "qa-model"
    shutil.copytree(base_model, taken)
    (taken / "task.json").write_text(json.dumps({"task": "question-answering"}), encoding="utf-8")
    train = tmp_path / "train.jsonl"
    train.write_bytes(_jsonl({"text": "alice good", "label": "pos"}, {"text": "bob bad", "label": "neg"}))
    argv = ["finetune", "--task", TC, "--model", str(base_model), "--train", str(train), "--output", str(taken),
            "--no-progress"]  # fmt: skip
    line = _one_line(capsys, argv)
    assert "holds a fine-tuned question-answering model" in line and "pass --overwrite to replace it whole" in line
    with pytest.raises(ValueError, match="pass overwrite=True to replace it whole") as refused:
        ft.finetune(TC, base_model, train, None, taken, ft.FinetuneSettings(progress=False))
    assert "--overwrite" not in str(refused.value)


def test_files_read_whole_keep_their_line_breaks(tmp_path):
    from albertlite.tasks import load_examples

    path = tmp_path / "train.jsonl"  # a raw U+2028 inside a JSON string, and Windows line ends
    path.write_text(json.dumps({"text": "a\u2028b", "label": "x"}, ensure_ascii=False) + "\r\n"
                    + json.dumps({"text": "c", "label": "y"}) + "\n", encoding="utf-8")  # fmt: skip
    assert load_examples(path, TC) == [{"text": "a\u2028b", "label": "x"}, {"text": "c", "label": "y"}]
    quoted = tmp_path / "train.csv"  # a quoted cell over two lines: the next row is still numbered by its line
    quoted.write_text('text,label\n"two\nlines",x\nshort\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"train\.csv, line 4: 1 of the header's 2 columns \(no 'label'\)"):
        load_examples(quoted, TC)
