"""The HTTP server in-process (httpx's ASGI transport): every route equals albertlite.pipeline, every error case
answers its status and JSON body, batching merges concurrent requests, limits hold."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time

import httpx
import numpy as np
import pytest
import torch

import albertlite
from albertlite import AlbertTokenizerFast
from albertlite.serve import ServeSettings, create_app
from albertlite.serve.settings import SETTINGS_VARIABLE

from .helpers.finetune import FILLER, qa_examples, same_results
from .helpers.serve import InProcess, in_process, metric, task_model_dir

USES_FAST_PATH = True  # the server runs the padding-free path, as it does in production

TEXTS = ["alice sees paris", "the big red house near the river with bob and carol", "rome", "a tree over oslo"]


@pytest.fixture(scope="module")
def model_dirs(base_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("serve_models")
    heads = ("classification", "score", "ner", "qa", "choice", "base")
    return {"mlm": base_model, **{head: task_model_dir(base_model, root / head, head) for head in heads}}


@pytest.fixture(scope="module")
def servers(model_dirs):
    """One in-process app per model, on default limits (max_wait_ms raised: the test machine is shared)."""
    opened = {}
    try:
        for name, directory in model_dirs.items():
            opened[name] = InProcess(create_app(ServeSettings(str(directory), max_wait_ms=20)))
        yield opened
    finally:
        for server in opened.values():
            server.close()


@pytest.fixture(scope="module")
def tokenizer(base_model):
    return AlbertTokenizerFast.from_pretrained(base_model)


def _ok(response):
    assert response.status_code == 200, response.text
    return response.json()


def _error(response, status, *fragments, kind="validation"):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "error_type"} and body["error_type"] == kind, body
    for fragment in fragments:
        assert fragment in body["error"], body
    return body["error"]


# ---------------------------------------------------------------------------------------------- results
def test_embed_equals_the_pipeline(servers, model_dirs):
    pipe = albertlite.pipeline("feature-extraction", model=model_dirs["mlm"])
    for pooling in ("mean", "cls"):
        expected = np.array(pipe(TEXTS, pooling=pooling))
        raw = np.array(_ok(servers["mlm"].post("/embed", json={"inputs": TEXTS, "pooling": pooling,
                                                                 "normalize": False})))  # fmt: skip
        np.testing.assert_allclose(raw, expected, atol=1e-5)
    normalized = np.array(_ok(servers["mlm"].post("/embed", json={"inputs": TEXTS[1]})))
    mean = np.array(pipe(TEXTS[1], pooling="mean"))
    np.testing.assert_allclose(normalized[0], mean / np.linalg.norm(mean), atol=1e-5)
    # the encoder of a task model serves /embed too, and equals that model's encoder alone
    encoder = albertlite.pipeline("feature-extraction", model=model_dirs["qa"])
    from_qa = np.array(_ok(servers["qa"].post("/embed", json={"inputs": TEXTS, "normalize": False})))
    np.testing.assert_allclose(from_qa, np.array(encoder(TEXTS, pooling="mean")), atol=1e-5)


def test_openai_embeddings_float_and_base64(servers, model_dirs, tokenizer):
    pipe = albertlite.pipeline("feature-extraction", model=model_dirs["mlm"])
    expected = np.array(pipe(TEXTS, pooling="mean"))
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    floats = _ok(servers["mlm"].post("/v1/embeddings", json={"input": TEXTS, "model": "tiny"}))
    assert floats["object"] == "list" and floats["model"] == "tiny"
    assert [d["index"] for d in floats["data"]] == [0, 1, 2, 3] and {d["object"] for d in floats["data"]} == {
        "embedding"
    }
    np.testing.assert_allclose(np.array([d["embedding"] for d in floats["data"]]), expected, atol=1e-5)
    tokens = sum(len(ids) for ids in tokenizer(TEXTS)["input_ids"])
    assert floats["usage"] == {"prompt_tokens": tokens, "total_tokens": tokens}
    packed = _ok(servers["mlm"].post("/v1/embeddings", json={"input": TEXTS[0], "encoding_format": "base64"}))
    decoded = np.frombuffer(base64.b64decode(packed["data"][0]["embedding"]), dtype="<f4")
    np.testing.assert_allclose(decoded, expected[0], atol=1e-5)


def test_fill_mask_and_post_root_equal_the_pipeline(servers, model_dirs):
    pipe = albertlite.pipeline("fill-mask", model=model_dirs["mlm"])
    texts = ["alice sees [MASK]", "[MASK] and [MASK] walk over the tree"]
    same_results(_ok(servers["mlm"].post("/fill-mask", json={"inputs": texts, "parameters": {"top_k": 3}})),
                 pipe(texts, top_k=3))  # fmt: skip
    same_results(_ok(servers["mlm"].post("/fill-mask", json={"inputs": texts[0]})), pipe(texts[0]))
    same_results(_ok(servers["mlm"].post("/", json={"inputs": texts[0]})), pipe(texts[0]))
    targets = {"inputs": texts[0], "parameters": {"targets": ["alice", "paris", "tree"], "top_k": 2}}
    same_results(
        _ok(servers["mlm"].post("/fill-mask", json=targets)),
        pipe(texts[0], targets=["alice", "paris", "tree"], top_k=2),
    )


def test_predict_equals_the_pipeline_for_texts_pairs_and_batches(servers, model_dirs):
    pipe = albertlite.pipeline(model=model_dirs["classification"])
    server = servers["classification"]
    same_results(
        _ok(server.post("/predict", json={"inputs": "alice sees paris"})), pipe("alice sees paris", top_k=None)
    )
    pair = {"text": "alice", "text_pair": "sees paris"}
    same_results(_ok(server.post("/predict", json={"inputs": ["alice", "sees paris"]})), pipe(pair, top_k=None))
    batch = [["rome"], ["alice", "sees paris"]]
    expected = pipe([{"text": "rome"}, pair], top_k=None)
    same_results(_ok(server.post("/predict", json={"inputs": batch})), expected)
    same_results(_ok(server.post("/", json={"inputs": batch})), expected)
    # raw scores: the logits, every label, best first
    model = pipe.model
    encoded = pipe.tokenizer("alice", "sees paris", return_tensors="pt")
    with torch.no_grad():
        logits = model(**encoded).logits[0].tolist()
    raw = _ok(server.post("/predict", json={"inputs": ["alice", "sees paris"], "raw_scores": True}))
    order = sorted(range(3), key=lambda i: -logits[i])
    assert [r["label"] for r in raw] == [model.config.id2label[i] for i in order]
    np.testing.assert_allclose([r["score"] for r in raw], [logits[i] for i in order], atol=1e-5)


def test_post_root_of_a_classifier_answers_a_list_of_labels_per_input(servers, model_dirs):
    pipe = albertlite.pipeline(model=model_dirs["classification"])
    server = servers["classification"]
    text = "alice sees paris"
    # /predict answers one text with its labels; POST / with a list of them, as the Inference API
    assert len(_ok(server.post("/predict", json={"inputs": text}))) == 3
    same_results(_ok(server.post("/", json={"inputs": text})), [pipe(text, top_k=None)])
    same_results(_ok(server.post("/", json={"inputs": text, "parameters": {"top_k": 2}})), [pipe(text, top_k=2)])
    encoded = pipe.tokenizer([text, "rome"], padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = pipe.model(**encoded).logits.double().numpy()
    applied = {"sigmoid": 1 / (1 + np.exp(-logits)), "none": logits}
    for function, scores in applied.items():
        got = _ok(server.post("/", json={"inputs": [[text], ["rome"]], "parameters": {"function_to_apply": function}}))
        for labels, row in zip(got, scores):
            order = np.argsort(-row, kind="stable")
            assert [r["label"] for r in labels] == [pipe.model.config.id2label[int(i)] for i in order]
            np.testing.assert_allclose([r["score"] for r in labels], row[order], atol=1e-5)
    softmax = _ok(server.post("/", json={"inputs": text, "parameters": {"function_to_apply": "softmax"}}))
    same_results(softmax, [pipe(text, top_k=None)])
    raw = _ok(server.post("/", json={"inputs": [[text], ["rome"]], "raw_scores": True}))
    np.testing.assert_allclose([[r["score"] for r in labels] for labels in raw], np.sort(logits)[:, ::-1], atol=1e-5)
    conflict = server.post(
        "/", json={"inputs": text, "raw_scores": True, "parameters": {"function_to_apply": "sigmoid"}}
    )
    _error(conflict, 422, "raw_scores", "function_to_apply")
    _error(server.post("/", json={"inputs": text, "parameters": {"top_k": 0}}), 422, "top_k")
    _error(
        server.post("/", json={"inputs": text, "parameters": {"function_to_apply": "tanh"}}), 422, "function_to_apply"
    )
    score = albertlite.pipeline(model=model_dirs["score"])
    same_results(_ok(servers["score"].post("/", json={"inputs": text})), [[score(text)]])


def test_rerank_sorts_by_the_scores_of_a_one_label_model(servers, model_dirs):
    pipe = albertlite.pipeline(model=model_dirs["score"])
    texts = ["paris", "a tree over oslo", "the big red house", "bob"]
    raw = [pipe({"text": "where is alice", "text_pair": t})["score"] for t in texts]
    ranks = _ok(servers["score"].post("/rerank", json={"query": "where is alice", "texts": texts, "return_text": True}))
    order = sorted(range(4), key=lambda i: -raw[i])
    assert [r["index"] for r in ranks] == order
    assert [r["text"] for r in ranks] == [texts[i] for i in order]
    np.testing.assert_allclose([r["score"] for r in ranks], [1 / (1 + np.exp(-raw[i])) for i in order], atol=1e-5)
    plain = _ok(servers["score"].post("/rerank", json={"query": "where is alice", "texts": texts, "raw_scores": True}))
    np.testing.assert_allclose([r["score"] for r in plain], [raw[i] for i in order], atol=1e-5)
    assert all("text" not in r for r in plain)


@pytest.mark.parametrize("strategy", [None, "none", "first"])
def test_token_classification_equals_the_pipeline(servers, model_dirs, strategy):
    pipe = albertlite.pipeline(model=model_dirs["ner"])
    texts = [*TEXTS, " ".join(FILLER * 3)]
    parameters = {} if strategy is None else {"aggregation_strategy": strategy}
    got = _ok(servers["ner"].post("/token-classification", json={"inputs": texts, "parameters": parameters}))
    same_results(got, pipe(texts, **parameters))
    assert any(got), "the scaled random head predicts some entities"


def test_question_answering_maps_the_inference_api_parameters(servers, model_dirs):
    pipe = albertlite.pipeline(model=model_dirs["qa"])
    questions = [{"question": e["question"], "context": e["context"]} for e in qa_examples(3, 9, context_words=30)]
    server = servers["qa"]
    same_results(_ok(server.post("/question-answering", json={"inputs": questions[0]})), pipe(questions[0]))
    parameters = {"max_answer_len": 2, "doc_stride": 16}
    got = _ok(server.post("/question-answering", json={"inputs": questions, "parameters": parameters}))
    same_results(got, pipe(questions, max_answer_length=2, doc_stride=16))
    for question, answer in zip(questions, got):
        assert question["context"][answer["start"] : answer["end"]] == answer["answer"]
    ranked = _ok(server.post("/question-answering", json={"inputs": questions[0], "parameters": {"top_k": 3}}))
    same_results(ranked, pipe(questions[0], top_k=3))
    assert isinstance(ranked, list) and len(ranked) >= 2


def test_multiple_choice_equals_the_pipeline(servers, model_dirs):
    pipe = albertlite.pipeline(model=model_dirs["choice"])
    inputs = [{"question": "which one", "choices": ["red house", "a tree", "bob"]},
              {"context": "alice sees paris", "question": "who", "choices": ["alice", "rome"]}]  # fmt: skip
    same_results(_ok(servers["choice"].post("/multiple-choice", json={"inputs": inputs})), pipe(inputs))
    same_results(_ok(servers["choice"].post("/", json={"inputs": inputs[1]})), pipe(inputs[1]))


def test_tokenize_and_decode(servers, tokenizer):
    text = "alice sees paris"
    tokens = _ok(servers["mlm"].post("/tokenize", json={"inputs": text}))[0]
    ids = tokenizer(text)["input_ids"]
    assert [t["id"] for t in tokens] == ids
    assert tokens[0] == {"id": tokenizer.cls_token_id, "text": "[CLS]", "special": True, "start": None, "stop": None}
    for token in tokens[1:-1]:
        assert not token["special"] and text[token["start"] : token["stop"]] == token["text"]
    bare = _ok(servers["mlm"].post("/tokenize", json={"inputs": [text, "rome"], "add_special_tokens": False}))
    assert [t["id"] for t in bare[0]] == ids[1:-1] and len(bare) == 2
    assert _ok(servers["mlm"].post("/decode", json={"ids": ids})) == [tokenizer.decode(ids, skip_special_tokens=True)]
    assert _ok(servers["mlm"].post("/decode", json={"ids": [ids, ids[:2]], "skip_special_tokens": False})) == [
        tokenizer.decode(ids),
        tokenizer.decode(ids[:2]),
    ]


# --------------------------------------------------------------------------------------- routes and errors
# The server's bad-input matrix: (category, case id, model, method, route, JSON body or raw bytes, status, error type,
# fragments of the error message). Each answers JSON {"error", "error_type"} with its status, never a traceback.
MASK = "a [MASK]"
SERVER_CASES = [
    ("wrong type", "malformed-json", "mlm", "post", "/embed", b"{not json", 422, "validation", ("JSON",)),
    ("wrong type", "malformed-json-root", "mlm", "post", "/", b"{not json", 422, "validation", ("Malformed JSON",)),
    ("wrong type", "inputs-number", "mlm", "post", "/embed", {"inputs": 3}, 422, "validation", ("inputs",)),
    ("missing", "no-inputs", "mlm", "post", "/embed", {"text": "a"}, 422, "validation", ("inputs", "Field required")),
    ("conflicting settings", "embed-dimensions", "mlm", "post", "/embed", {"inputs": "a", "dimensions": 8}, 422,
     "validation", ("body.dimensions", "no `dimensions` option")),
    ("conflicting settings", "embed-prompt", "base", "post", "/", {"inputs": "a", "prompt_name": "query"}, 422,
     "validation", ("body.prompt_name", "no `prompt_name` option")),
    ("conflicting settings", "embed-truncate-left", "mlm", "post", "/embed",
     {"inputs": "a", "truncation_direction": "left"}, 422, "validation", ("truncation_direction", "'right'")),
    ("empty", "inputs-empty-list", "mlm", "post", "/embed", {"inputs": []}, 422, "validation", ("cannot be empty",)),
    ("empty", "blank-input", "mlm", "post", "/embed", {"inputs": ["a", "  "]}, 422, "validation",
     ("`inputs` 1 is empty",)),
    ("too long", "client-batch", "mlm", "post", "/embed", {"inputs": ["a"] * 33}, 413, "validation",
     ("batch size 33", "32")),
    ("misspelt key", "parameter-typo", "mlm", "post", "/fill-mask", {"inputs": MASK, "parameters": {"top_kk": 2}},
     422, "validation", ("top_kk",)),
    ("missing", "no-mask", "mlm", "post", "/fill-mask", {"inputs": "no mask here"}, 422, "validation", ("No [MASK]",)),
    ("out of range", "top-k-0", "mlm", "post", "/", {"inputs": MASK, "parameters": {"top_k": 0}}, 422, "validation",
     ("top_k",)),
    ("out of range", "decode-id", "mlm", "post", "/decode", {"ids": [1, 10**6]}, 422, "validation", ("10000",)),
    ("missing", "unknown-route", "mlm", "get", "/nowhere", None, 404, "not_found", ("Not Found",)),
    ("wrong type", "get-on-post-route", "mlm", "get", "/embed", None, 405, "method_not_allowed", ()),
    ("conflicting settings", "predict-on-mlm", "mlm", "post", "/predict", {"inputs": "a"}, 400, "validation",
     ("text-classification model", "is a masked-lm model")),
    ("conflicting settings", "fill-mask-on-classifier", "classification", "post", "/fill-mask", {"inputs": MASK},
     400, "validation", ("is a text-classification model",)),
    ("conflicting settings", "choice-on-qa", "qa", "post", "/multiple-choice",
     {"inputs": {"question": "q", "choices": ["a", "b"]}}, 400, "validation",
     ("needs a multiple-choice model", "question-answering")),
    ("conflicting settings", "rerank-on-3-labels", "classification", "post", "/rerank",
     {"query": "q", "texts": ["a"]}, 400, "validation", ("3 labels", "/predict")),
    ("empty", "rerank-no-texts", "score", "post", "/rerank", {"query": "q", "texts": []}, 422, "validation",
     ("`texts` cannot be empty",)),
    ("empty", "rerank-blank-query", "score", "post", "/rerank", {"query": " ", "texts": ["a"]}, 422, "validation",
     ("`query` cannot be empty",)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("category", "case", "model", "method", "route", "body", "status", "kind", "fragments"),
    SERVER_CASES,
    ids=[c[1] for c in SERVER_CASES],
)
def test_bad_requests_answer_json_with_their_status(servers, category, case, model, method, route, body, status,
                                                    kind, fragments):  # fmt: skip
    server = servers[model]
    if method == "get":
        response = server.get(route)
    elif isinstance(body, bytes):
        response = server.post(route, content=body, headers={"content-type": "application/json"})
    else:
        response = server.post(route, json=body)
    _error(response, status, *fragments, kind=kind)


def test_openai_routes_answer_openais_error_shape(servers):
    openai = servers["mlm"].post("/v1/embeddings", json={"input": []})
    assert openai.status_code == 422
    assert openai.json() == {"error": {"message": "`input` cannot be empty.", "type": "validation", "param": None,
                                       "code": None}}  # fmt: skip


def test_an_input_over_max_input_length_is_413_unless_truncated(model_dirs):
    with in_process(create_app(ServeSettings(str(model_dirs["classification"]), max_input_length=8))) as server:
        long_text = " ".join(FILLER)
        _error(server.post("/embed", json={"inputs": ["rome", long_text]}), 413, "input 1", "--max-input-length of 8",
               "truncate")  # fmt: skip
        _error(server.post("/predict", json={"inputs": long_text}), 413, "of 8")
        assert len(_ok(server.post("/embed", json={"inputs": long_text, "truncate": True}))) == 1
        truncated = albertlite.pipeline(model=model_dirs["classification"], max_length=8)
        same_results(_ok(server.post("/predict", json={"inputs": long_text, "truncate": True})),
                     truncated(long_text, top_k=None))  # fmt: skip
        assert server.get("/info").json()["max_input_length"] == 8


def test_api_key(model_dirs):
    with in_process(create_app(ServeSettings(str(model_dirs["mlm"]), api_key="s3cret"))) as server:
        _error(server.post("/embed", json={"inputs": "a"}), 401, "API key", kind="unauthorized")
        wrong = {"Authorization": "Bearer nope"}
        _error(server.post("/embed", json={"inputs": "a"}, headers=wrong), 401, kind="unauthorized")
        _error(server.get("/metrics", headers=wrong), 401, kind="unauthorized")
        right = {"Authorization": "Bearer s3cret"}
        assert len(_ok(server.post("/embed", json={"inputs": "a"}, headers=right))) == 1
        assert server.get("/health").status_code == 200  # load balancers check without the key
        assert server.get("/info", headers=right).json()["auth"] is True


def test_the_model_loads_in_a_thread_that_ends_before_serving(model_dirs, monkeypatch):
    # a thread that ran large torch operations keeps an OpenMP team, and a second team beside the batching
    # worker's slows every forward pass (more OpenMP threads than cores stop spinning); loading must not leave one
    import albertlite.serve.app as app_module

    loaders = []

    def load_model(settings):
        loaders.append(threading.current_thread())
        return original(settings)

    original = app_module.load_model
    monkeypatch.setattr(app_module, "load_model", load_model)
    with in_process(create_app(ServeSettings(str(model_dirs["mlm"])))) as server:
        assert len(_ok(server.post("/embed", json={"inputs": "a"}))) == 1
        assert len(loaders) == 1
        assert loaders[0] is not threading.current_thread()
        assert not loaders[0].is_alive()


# ------------------------------------------------------------------------------------------------- batching
def test_64_concurrent_requests_share_forward_passes(servers, model_dirs):
    server = servers["mlm"]
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(FILLER, size=int(rng.integers(1, 30)))) for _ in range(64)]
    before = metric(server.get("/metrics").text, "albertlite_forward_passes_total")
    responses = server.post_many("/embed", [{"inputs": t, "normalize": False} for t in texts])
    passes = metric(server.get("/metrics").text, "albertlite_forward_passes_total") - before
    got = np.array([_ok(r)[0] for r in responses])
    expected = np.array(albertlite.pipeline("feature-extraction", model=model_dirs["mlm"])(texts, pooling="mean"))
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert passes < 64, passes


def test_batches_keep_to_the_token_budget(model_dirs, monkeypatch):
    app = create_app(ServeSettings(str(model_dirs["mlm"]), max_batch_tokens=40, max_batch_requests=3, max_wait_ms=50))
    batcher = app.state.server.batcher
    sizes = []
    forward = batcher._forward

    def recording(batch):
        sizes.append((len(batch), sum(item.tokens for item in batch)))
        forward(batch)

    monkeypatch.setattr(batcher, "_forward", recording)
    with in_process(app) as server:
        sizes.clear()  # the warm-up pass
        texts = [" ".join(["river"] * n) for n in (3, 5, 8, 12, 2, 6, 9, 4)]
        responses = server.post_many("/embed", [{"inputs": t} for t in texts])
        assert all(r.status_code == 200 for r in responses)
        long = server.post("/embed", json={"inputs": [" ".join(["tree"] * 30)] * 2})  # each input alone is over
        assert long.status_code == 200 and len(long.json()) == 2
    assert sum(n for n, _ in sizes[:-2]) == len(texts)
    assert all(n <= 3 for n, _ in sizes) and all(tokens <= 40 for n, tokens in sizes if n > 1), sizes
    assert max(n for n, _ in sizes) > 1, sizes  # some requests did share a pass


def test_a_bad_request_never_disturbs_those_batched_with_it(servers, model_dirs):
    pipe = albertlite.pipeline("fill-mask", model=model_dirs["mlm"])
    bodies = [{"inputs": f"{w} sees [MASK]"} if i % 3 else {"inputs": f"{w} sees"} for i, w in enumerate(FILLER)]
    responses = servers["mlm"].post_many("/fill-mask", bodies)
    for body, response in zip(bodies, responses):
        if "[MASK]" in body["inputs"]:
            same_results(_ok(response), pipe(body["inputs"]))
        else:
            _error(response, 422, "No [MASK]")


class _Gate:
    """Holds every forward pass of a batcher until opened (so requests stay in flight)."""

    def __init__(self, batcher, monkeypatch):
        self.open = threading.Event()
        self.entered = threading.Event()
        forward = batcher._forward

        def gated(batch):
            self.entered.set()
            self.open.wait(30)
            forward(batch)

        monkeypatch.setattr(batcher, "_forward", gated)


def _wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_more_requests_than_max_concurrent_requests_get_429_at_once(model_dirs, monkeypatch):
    app = create_app(ServeSettings(str(model_dirs["mlm"]), max_concurrent_requests=3))
    state = app.state.server
    with in_process(app) as server:
        gate = _Gate(state.batcher, monkeypatch)
        held = [asyncio.run_coroutine_threadsafe(server.client.post("/embed", json={"inputs": t}), server.loop)
                for t in TEXTS[:3]]  # fmt: skip
        _wait_for(lambda: state.in_flight == 3)
        started = time.monotonic()
        refused = server.post("/embed", json={"inputs": "rome"})
        assert time.monotonic() - started < 5
        _error(refused, 429, "3 requests in flight", "--max-concurrent-requests", kind="overloaded")
        gate.open.set()
        assert [f.result(30).status_code for f in held] == [200, 200, 200]
        assert server.get("/health").status_code == 200
        text = server.get("/metrics").text
        assert 'albertlite_requests_total{route="/embed",status="429"} 1.0' in text
        assert 'albertlite_requests_total{route="/embed",status="200"} 3.0' in text


def test_a_client_that_disconnects_has_its_queued_work_dropped(model_dirs, monkeypatch):
    app = create_app(ServeSettings(str(model_dirs["mlm"])))
    state = app.state.server
    with in_process(app) as server:
        gate = _Gate(state.batcher, monkeypatch)
        first = asyncio.run_coroutine_threadsafe(server.client.post("/embed", json={"inputs": "rome"}), server.loop)
        assert gate.entered.wait(30)  # the first request is in the (held) forward pass
        left = threading.Event()
        sent = []

        async def receive():  # the ASGI messages of a client that sends its request, then hangs up
            if not sent:
                sent.append(True)
                return {"type": "http.request", "body": json.dumps({"inputs": "paris"}).encode(), "more_body": False}
            await asyncio.get_running_loop().run_in_executor(None, left.wait)
            return {"type": "http.disconnect"}

        statuses = []

        async def send(message):
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/embed", "raw_path": b"/embed", "query_string": b"",
                 "headers": [(b"content-type", b"application/json")], "client": ("127.0.0.1", 1),
                 "server": ("albertlite.test", 80), "root_path": ""}  # fmt: skip
        gone = asyncio.run_coroutine_threadsafe(app(scope, receive, send), server.loop)
        _wait_for(lambda: len(state.batcher._queue) == 1)  # the second request waits behind the first
        left.set()
        gone.result(30)
        assert not state.batcher._queue
        gate.open.set()
        assert first.result(30).status_code == 200
        text = server.get("/metrics").text
        assert metric(text, "albertlite_dropped_items_total") == 1
        assert statuses == [499]


# ------------------------------------------------------------------------------------ health, info, metrics
def test_health_info_metrics_and_docs(servers, model_dirs):
    server = servers["classification"]
    assert _ok(server.get("/health")) == {"status": "ok"}
    info = _ok(server.get("/info"))
    assert info["task"] == "text-classification" and info["labels"] == ["neg", "mid", "pos"]
    assert info["model_id"] == str(model_dirs["classification"]) and info["model_dtype"] == "float32"
    assert info["routes"] == ["/embed", "/v1/embeddings", "/tokenize", "/decode", "/predict", "/rerank", "/"]
    assert (info["max_input_length"], info["max_batch_tokens"], info["max_client_batch_size"]) == (128, 16384, 32)
    assert info["version"] == albertlite.__version__
    server.post("/predict", json={"inputs": "alice"})
    text = server.get("/metrics").text
    for name in ("albertlite_queue_depth", "albertlite_batch_tokens_bucket", "albertlite_batch_requests_count",
                 "albertlite_queue_seconds_count", "albertlite_inference_seconds_count", "albertlite_tokens_total",
                 'albertlite_requests_total{route="/predict",status="200"}'):  # fmt: skip
        assert name in text, name
    assert metric(text, "albertlite_tokens_total") > 0
    assert server.get("/docs").status_code == 200
    paths = server.get("/openapi.json").json()["paths"]
    assert {"/embed", "/v1/embeddings", "/predict", "/rerank", "/fill-mask", "/question-answering"} <= set(paths)
    page = server.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


def test_health_is_503_until_started_and_after_stopping(model_dirs):
    app = create_app(ServeSettings(str(model_dirs["mlm"])))

    async def health_and_embed():  # without the app's lifespan: loaded, but neither warmed up nor batching
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://albertlite.test") as client:
            return await client.get("/health"), await client.post("/embed", json={"inputs": "a"})

    for response in asyncio.run(health_and_embed()):
        _error(response, 503, "not ready", kind="unhealthy")
    with in_process(app) as server:
        assert server.get("/health").status_code == 200
    for response in asyncio.run(health_and_embed()):  # after shutdown
        _error(response, 503, "not ready", kind="unhealthy")


@pytest.mark.parametrize("options", [{"dtype": "bfloat16"}, {"quantize": "int8"}])
def test_bfloat16_and_int8_stay_near_float32(servers, model_dirs, options):
    with in_process(create_app(ServeSettings(str(model_dirs["mlm"]), **options))) as server:
        got = np.array(_ok(server.post("/embed", json={"inputs": TEXTS})))
        assert server.get("/info").json()["model_dtype"] == options.get("dtype", "float32")
    reference = np.array(_ok(servers["mlm"].post("/embed", json={"inputs": TEXTS})))
    assert (got * reference).sum(axis=1).min() > 0.99  # both normalized: cosine similarity


def test_settings_and_command_line_refuse_bad_values(capsys, tmp_path, model_dirs, monkeypatch):
    from albertlite.cli import main

    with pytest.raises(ValueError, match="max_batch_tokens must be a whole number >= 1, got 0"):
        ServeSettings("m", max_batch_tokens=0)
    with pytest.raises(ValueError, match="Choose one of --dtype bfloat16 and --quantize int8"):
        ServeSettings("m", dtype="bfloat16", quantize="int8")
    settings = ServeSettings("m", port=0, api_key="k", max_wait_ms=2.5)
    assert ServeSettings.from_json(settings.to_json()) == settings
    assert main(["serve", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("albertlite serve: error: ") and err.count("\n") == 1
    assert main(["serve", str(model_dirs["mlm"]), "--max-input-length", "999"]) == 2
    assert "max_length=999 is outside what the model accepts (1 to 128 tokens)" in capsys.readouterr().err
    monkeypatch.delenv(SETTINGS_VARIABLE, raising=False)
    from albertlite.serve.app import app_from_environment

    with pytest.raises(RuntimeError, match=SETTINGS_VARIABLE):
        app_from_environment()
