"""Request and response bodies: text-embeddings-inference's, OpenAI's embeddings and Hugging Face's Inference API.

Unknown top-level fields are ignored (as text-embeddings-inference does, so clients that send extra options still
work); unknown ``parameters`` of the Inference API routes are refused (422), since a parameter that does nothing is
a silent wrong answer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Parameters(BaseModel):
    model_config = ConfigDict(extra="forbid")


Texts = str | list[str]


# ------------------------------------------------------------------------------------------------ the encoder
class EmbedRequest(_Body):
    """``POST /embed``: one embedding per input, ``[[float, ...], ...]``."""

    inputs: Texts
    normalize: bool = True
    truncate: bool = False
    pooling: Literal["mean", "cls"] = "mean"
    # text-embeddings-inference's options that this server does not offer are refused (422), not ignored: ignored,
    # they would answer something else than what was asked (InferenceClient.feature_extraction sends them)
    truncation_direction: Literal["right", "Right"] = "right"  # truncate cuts the end
    prompt_name: str | None = None
    dimensions: int | None = None

    @field_validator("prompt_name", "dimensions")
    @classmethod
    def _not_offered(cls, value: object, info: ValidationInfo) -> object:
        if value is not None:
            raise ValueError(f"albertlite serve has no `{info.field_name}` option (no prompts, no shortened "
                             "embeddings): leave it out")  # fmt: skip
        return value


class OpenAIEmbeddingRequest(_Body):
    """``POST /v1/embeddings``, as OpenAI's API."""

    input: Texts
    model: str | None = None
    encoding_format: Literal["float", "base64"] = "float"
    user: str | None = None


class OpenAIEmbedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str  # base64: the float32 values, little-endian


class OpenAIUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class OpenAIEmbeddingResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[OpenAIEmbedding]
    model: str
    usage: OpenAIUsage


class TokenizeRequest(_Body):
    """``POST /tokenize``: the pieces of each input, ``[[{"id", "text", "special", "start", "stop"}, ...], ...]``."""

    inputs: Texts
    add_special_tokens: bool = True


class SimpleToken(BaseModel):
    id: int
    text: str
    special: bool
    start: int | None  # character offsets in the input (None for special tokens)
    stop: int | None


class DecodeRequest(_Body):
    """``POST /decode``: one text per id list."""

    ids: list[int] | list[list[int]]
    skip_special_tokens: bool = True


# --------------------------------------------------------------------------------------- sequence classification
class PredictRequest(_Body):
    """``POST /predict``: a text, a pair ``[a, b]``, or a batch ``[[a], [a, b], ...]``; every label with its score."""

    inputs: str | list[str] | list[list[str]]
    raw_scores: bool = False
    truncate: bool = False


class TextClassificationParameters(_Parameters):
    top_k: int | None = Field(None, ge=1)  # default: every label
    function_to_apply: Literal["softmax", "sigmoid", "none"] | None = None  # default: the pipeline's scores


class TextClassificationRequest(PredictRequest):
    """``POST /`` of a classifier: /predict's inputs and Hugging Face's ``parameters``; one list of labels per
    input, even for one input (``[[{"label", "score"}, ...]]``, what ``InferenceClient.text_classification``
    reads)."""

    parameters: TextClassificationParameters = Field(default_factory=TextClassificationParameters)


class LabelScore(BaseModel):
    label: str
    score: float


class RerankRequest(_Body):
    """``POST /rerank``: each text scored against the query by a one-label classifier, best first."""

    query: str
    texts: list[str]
    raw_scores: bool = False
    return_text: bool = False
    truncate: bool = False


class Rank(BaseModel):
    index: int
    score: float
    text: str | None = None  # only with return_text


# -------------------------------------------------------------------------- the Inference API routes of the tasks
class FillMaskParameters(_Parameters):
    top_k: int | None = Field(None, ge=1)
    targets: str | list[str] | None = None  # rank only these words


class FillMaskRequest(_Body):
    inputs: Texts
    parameters: FillMaskParameters = Field(default_factory=FillMaskParameters)


class TokenClassificationParameters(_Parameters):
    aggregation_strategy: Literal["none", "simple", "first", "average", "max"] | None = None


class TokenClassificationRequest(_Body):
    inputs: Texts
    parameters: TokenClassificationParameters = Field(default_factory=TokenClassificationParameters)


class QuestionContext(_Parameters):
    question: str
    context: str


class QuestionAnsweringParameters(_Parameters):
    top_k: int | None = Field(None, ge=1)  # more than 1: a list of the best distinct answers
    doc_stride: int | None = Field(None, ge=1)
    max_answer_len: int | None = Field(None, ge=1)
    max_question_len: int | None = Field(None, ge=1)
    handle_impossible_answer: bool | None = None


class QuestionAnsweringRequest(_Body):
    inputs: QuestionContext | list[QuestionContext]
    parameters: QuestionAnsweringParameters = Field(default_factory=QuestionAnsweringParameters)


class Choices(_Parameters):
    question: str | None = None
    context: str | None = None
    choices: list[str]


class MultipleChoiceParameters(_Parameters):
    """Multiple choice takes no parameters; the model decides."""


class MultipleChoiceRequest(_Body):
    inputs: Choices | list[Choices]
    parameters: MultipleChoiceParameters = Field(default_factory=MultipleChoiceParameters)


# ------------------------------------------------------------------------------------------------------ errors
class ErrorBody(BaseModel):
    """text-embeddings-inference's error body (``/v1/...`` answers OpenAI's ``{"error": {"message", "type"}}``)."""

    error: str
    error_type: str


REQUESTS = {
    "/embed": EmbedRequest,
    "/v1/embeddings": OpenAIEmbeddingRequest,
    "/tokenize": TokenizeRequest,
    "/decode": DecodeRequest,
    "/predict": PredictRequest,
    "/rerank": RerankRequest,
    "/fill-mask": FillMaskRequest,
    "/token-classification": TokenClassificationRequest,
    "/question-answering": QuestionAnsweringRequest,
    "/multiple-choice": MultipleChoiceRequest,
}  # route -> its request body

ROOT_REQUESTS = {**REQUESTS, "/predict": TextClassificationRequest}  # POST / as the model's own route -> its body
