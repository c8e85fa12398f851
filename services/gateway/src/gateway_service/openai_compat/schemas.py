"""The OpenAI Chat Completions request, as the `openai` SDK sends it."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway_service.http.problems import invalid


class ContentPart(BaseModel):
    type: str
    text: str | None = None


class OpenAIMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart] = Field(max_length=400_000)

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        if any(part.type != "text" for part in self.content):
            raise invalid("messages", "content_type", "only text content parts are supported", 400)
        return "".join(part.text or "" for part in self.content)


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionIn(BaseModel):
    # Parameters this API does not use (seed, penalties, user, ...) are accepted and ignored.
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=300)
    messages: list[OpenAIMessage] = Field(min_length=1, max_length=1000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    stop: str | list[str] | None = None
    n: int = Field(default=1, ge=1, le=1)
    stream: bool = False
    stream_options: StreamOptions | None = None


class Pricing(BaseModel):
    input_per_million: str = Field(description="US dollars per million input tokens.")
    output_per_million: str = Field(description="US dollars per million output tokens.")


class ListedModel(BaseModel):
    """One enabled model, in OpenAI's shape with the catalogue's limits and prices added."""

    id: str = Field(description="`provider/model`, as `model` in a request names it.")
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = Field(description="Its provider.")
    context_window: int
    max_output_tokens: int
    pricing: Pricing
    mock: bool = Field(description="Answered by the built-in mock provider (no upstream).")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ListedModel]
