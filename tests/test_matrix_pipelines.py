"""Bad input to the pipelines as a matrix: per registry task, the arguments a user gets wrong and what they get back.

Each case was ignored before (an unknown or misspelt argument ran with the defaults, ``top_k=0`` returned ``[]``,
``top_k=-1`` every piece of the vocabulary) or reported the wrong cause ("No [MASK]" for a mask past the maximum
length); now it is a TypeError or ValueError naming the argument and what works. Below the matrix, the Hugging Face
names that map to real features are checked to do what their names say.
"""

from __future__ import annotations

import pytest
import torch

import albertlite
from albertlite import AlbertTokenizerFast
from albertlite.tasks import registry

from .helpers.finetune import same_results

INPUTS = {
    "masked-lm": "alice sees [MASK]",
    "text-classification": "alice sees paris",
    "token-classification": "alice sees paris",
    "question-answering": {"question": "what color is it", "context": "the big red house near the river"},
    "multiple-choice": {"question": "which one", "choices": ["a red tree", "the house"]},
    "feature-extraction": "alice sees paris",
}
LONG_MASK = "alice " * 200 + "[MASK]"  # 200 pieces, then the mask: past the tiny model's 128 positions


@pytest.fixture(scope="module")
def tokenizer(base_model):
    return AlbertTokenizerFast.from_pretrained(base_model)


@pytest.fixture(scope="module")
def pipelines(base_model, tokenizer):
    """One pipeline per registry task, each over the tiny base model with that task's head."""
    built = {}
    for task in registry.REGISTRY:
        torch.manual_seed(0)
        model = task.head_class().from_pretrained(base_model)
        built[task.name] = albertlite.pipeline(task.name, model=model, tokenizer=tokenizer)
    return built


# (category, case id, task, keyword arguments of the call, the input (None: the task's), error, message fragment)
CALL_CASES = [
    *[("misspelt key", f"bogus-{task}", task, {"bogus": 1}, None, TypeError,
       f"the {'fill-mask' if task == 'masked-lm' else task} pipeline's keyword arguments: unknown key(s) 'bogus'")
      for task in INPUTS],
    ("misspelt key", "top-kk", "masked-lm", {"top_kk": 3}, None, TypeError,
     "unknown key(s) 'top_kk' (did you mean 'top_k'?); known keys: batch_size, max_length, targets, top_k."),
    ("misspelt key", "another-tasks-argument", "text-classification", {"aggregation_strategy": "simple"}, None,
     TypeError, "unknown key(s) 'aggregation_strategy'; known keys: batch_size, max_length, top_k."),
    ("misspelt key", "qa-max-answer-size", "question-answering", {"max_answer_size": 3}, None, TypeError,
     "'max_answer_size' (did you mean 'max_answer_"),
    ("misspelt key", "mc-top-k", "multiple-choice", {"top_k": 2}, None, TypeError,
     "the multiple-choice pipeline's keyword arguments: unknown key(s) 'top_k'; known keys: batch_size, max_length."),
    ("out of range", "fill-mask-top-k-0", "masked-lm", {"top_k": 0}, None, ValueError,
     "top_k must be at least 1, got 0"),
    ("out of range", "fill-mask-top-k-negative", "masked-lm", {"top_k": -1}, None, ValueError,
     "top_k must be at least 1, got -1"),
    ("out of range", "classification-top-k-0", "text-classification", {"top_k": 0}, None, ValueError,
     "top_k must be at least 1, got 0"),
    ("out of range", "qa-top-k-0", "question-answering", {"top_k": 0}, None, ValueError,
     "top_k must be at least 1, got 0"),
    ("out of range", "qa-max-answer-len-0", "question-answering", {"max_answer_len": 0}, None, ValueError,
     "max_answer_length must be at least 1, got 0"),
    ("out of range", "call-max-length-0", "feature-extraction", {"max_length": 0}, None, ValueError,
     "max_length must be at least 1, got 0"),
    ("out of range", "call-max-length-too-long", "text-classification", {"max_length": 1000}, None, ValueError,
     "max_length=1000 is outside what the model accepts (1 to 128 tokens)"),
    ("wrong type", "top-k-string", "masked-lm", {"top_k": "3"}, None, TypeError,
     "top_k must be a whole number, got '3'"),
    ("wrong type", "top-k-bool", "question-answering", {"top_k": True}, None, TypeError,
     "top_k must be a whole number, got True"),
    ("wrong type", "impossible-answer-string", "question-answering", {"handle_impossible_answer": "no"}, None,
     TypeError, "handle_impossible_answer must be True or False, got 'no'"),
    ("wrong type", "targets-number", "masked-lm", {"targets": 3}, None, TypeError,
     "targets must be a word or a non-empty list of words, got 3"),
    ("empty", "targets-empty-list", "masked-lm", {"targets": []}, None, TypeError,
     "targets must be a word or a non-empty list of words, got []"),
    ("too long", "target-of-several-pieces", "masked-lm", {"targets": ["zzzqqq"]}, None, ValueError,
     "targets: 'zzzqqq' is"),
    ("conflicting settings", "both-answer-lengths", "question-answering",
     {"max_answer_len": 3, "max_answer_length": 4}, None, TypeError,
     "got both max_answer_len= and max_answer_length=, which mean the same"),
    ("too long", "mask-past-max-length", "masked-lm", {}, LONG_MASK, ValueError,
     "input 0: the [MASK] is token 202 of 203, beyond max_length=128"),
    ("too long", "mask-past-call-max-length", "masked-lm", {"max_length": 8},
     "alice sees the big red house near the river [MASK]", ValueError, "beyond max_length=8"),
]  # fmt: skip


@pytest.mark.parametrize(("category", "case", "task", "kwargs", "inputs", "error", "fragment"), CALL_CASES,
                         ids=[c[1] for c in CALL_CASES])  # fmt: skip
def test_pipeline_call_refuses(category, case, task, kwargs, inputs, error, fragment, pipelines):
    with pytest.raises(error) as raised:
        pipelines[task](INPUTS[task] if inputs is None else inputs, **kwargs)
    assert fragment in str(raised.value)
    assert "\n" not in str(raised.value)


# (category, case id, task, keyword arguments of pipeline(), error, message fragment)
BUILD_CASES = [
    ("misspelt key", "build-bogus", "fill-mask", {"bogus": 1}, TypeError, "unknown key(s) 'bogus'"),
    ("misspelt key", "build-top-k-typo", "question-answering", {"topk": 2}, TypeError,
     "'topk' (did you mean 'top_k'?)"),
    ("out of range", "build-top-k-0", "fill-mask", {"top_k": 0}, ValueError, "top_k must be at least 1, got 0"),
    ("misspelt key", "build-pooling-typo", "feature-extraction", {"poolng": "mean"}, TypeError,
     "'poolng' (did you mean 'pooling'?)"),
]  # fmt: skip


@pytest.mark.parametrize(("category", "case", "task", "kwargs", "error", "fragment"), BUILD_CASES,
                         ids=[c[1] for c in BUILD_CASES])  # fmt: skip
def test_pipeline_construction_refuses(category, case, task, kwargs, error, fragment, pipelines, tokenizer):
    model = pipelines[registry.canonical_task(task)].model
    with pytest.raises(error) as raised:
        albertlite.pipeline(task, model=model, tokenizer=tokenizer, **kwargs)
    assert fragment in str(raised.value)


# --------------------------------------------------------------------------- Hugging Face's names do what they say


def test_fill_mask_targets_rank_only_those_words_with_their_full_vocabulary_scores(pipelines, tokenizer):
    pipe = pipelines["masked-lm"]
    everything = pipe(INPUTS["masked-lm"], top_k=tokenizer.vocab_size)
    by_token = {row["token"]: row["score"] for row in everything}
    words = ["paris", "rome", "bob"]
    ids = [tokenizer(word, add_special_tokens=False)["input_ids"][0] for word in words]
    restricted = pipe(INPUTS["masked-lm"], targets=words)
    assert sorted(row["token"] for row in restricted) == sorted(ids)
    assert [row["score"] for row in restricted] == sorted((by_token[i] for i in ids), reverse=True)
    assert [row["score"] for row in restricted] == pytest.approx([by_token[row["token"]] for row in restricted])
    assert pipe(INPUTS["masked-lm"], targets="paris", top_k=5)[0]["token_str"] == "paris"
    assert len(pipe(INPUTS["masked-lm"], targets=words, top_k=2)) == 2


def test_question_answering_top_k_lists_distinct_answers_best_first(pipelines):
    pipe = pipelines["question-answering"]
    best = pipe(INPUTS["question-answering"])
    answers = pipe(INPUTS["question-answering"], top_k=3)
    assert isinstance(answers, list) and len(answers) == 3
    assert answers[0] == best
    assert len({(a["start"], a["end"]) for a in answers}) == 3
    assert [a["score"] for a in answers] == sorted((a["score"] for a in answers), reverse=True)
    context = INPUTS["question-answering"]["context"]
    assert all(context[a["start"] : a["end"]] == a["answer"] for a in answers)


def test_question_answering_hugging_face_length_names(pipelines, tokenizer):
    pipe = pipelines["question-answering"]
    ours = pipe(INPUTS["question-answering"], top_k=5, max_answer_length=1)
    same_results(pipe(INPUTS["question-answering"], top_k=5, max_answer_len=1), ours)
    for answer in ours:  # one piece each: every word of this context is one piece of the tiny vocabulary
        assert len(tokenizer(answer["answer"], add_special_tokens=False)["input_ids"]) == 1
    longer = pipe(INPUTS["question-answering"], top_k=5, max_answer_len=6)
    assert longer != ours
    same_results(pipe(INPUTS["question-answering"], max_seq_len=16), pipe(INPUTS["question-answering"], max_length=16))


def test_call_time_max_length_applies_to_that_call_only(pipelines, base_model, tokenizer):
    pipe = pipelines["feature-extraction"]
    text = "the big red house near the river with bob and carol"
    short = pipe(text, max_length=5)
    assert len(short[0]) == 5
    built_short = albertlite.pipeline("feature-extraction", model=pipe.model, tokenizer=tokenizer, max_length=5)
    same_results(short, built_short(text))
    assert len(pipe(text)[0]) == len(tokenizer(text)["input_ids"])  # the next call is back to the default


def test_ragged_choices_run_and_match_one_by_one(pipelines):
    pipe = pipelines["multiple-choice"]
    items = [{"question": "which one", "choices": ["a red tree", "the house"]},
             {"question": "which one", "choices": ["a", "the big river", "blue", "bob"]},
             {"question": "which one", "choices": ["green", "a tree", "rome"]}]  # fmt: skip
    together = pipe(items, batch_size=3)
    assert [len(r["scores"]) for r in together] == [2, 4, 3]
    same_results(together, [pipe(item) for item in items])
