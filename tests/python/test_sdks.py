"""End-to-end checks with the providers' official Python SDKs.

Each SDK makes a normal and a streamed call against AI_PROXY_BASE_URL (the gateway, or
the mock upstream itself) and the test asserts that the text and every usage counter the
mock upstream reports arrive intact. The numbers below are the mock's constants in
tests/src/mock/usage.rs; keep the two in step.

Environment:
  AI_PROXY_BASE_URL        http://HOST:PORT, without a path
  AI_PROXY_OPENAI_KEY      key for the OpenAI SDK (its tests are skipped when unset)
  AI_PROXY_ANTHROPIC_KEY   key for the Anthropic SDK (skipped when unset)
  AI_PROXY_ANTHROPIC_BASE_URL
                           base URL for the Anthropic SDK (default AI_PROXY_BASE_URL;
                           a client key with several providers may reach Anthropic
                           under a path prefix, http://HOST:PORT/anthropic)
  AI_PROXY_GEMINI_KEY      key for the google-genai SDK (skipped when unset)
  AI_PROXY_AZURE_KEY       key for the OpenAI SDK's AzureOpenAI client, in front of a
                           provider using the azure-openai plugin (skipped when unset)
  AI_PROXY_AZURE_DEPLOYMENT
                           deployment name to call (default below)
  AI_PROXY_OPENAI_MODEL, AI_PROXY_ANTHROPIC_MODEL, AI_PROXY_GEMINI_MODEL
                           model names to ask for (defaults below)
"""

import os

import pytest

BASE_URL = os.environ.get("AI_PROXY_BASE_URL", "").rstrip("/")
OPENAI_KEY = os.environ.get("AI_PROXY_OPENAI_KEY")
ANTHROPIC_KEY = os.environ.get("AI_PROXY_ANTHROPIC_KEY")
ANTHROPIC_BASE_URL = os.environ.get("AI_PROXY_ANTHROPIC_BASE_URL", BASE_URL).rstrip("/")
GEMINI_KEY = os.environ.get("AI_PROXY_GEMINI_KEY")
AZURE_KEY = os.environ.get("AI_PROXY_AZURE_KEY")
AZURE_DEPLOYMENT = os.environ.get("AI_PROXY_AZURE_DEPLOYMENT", "gpt-4o-mini")
AZURE_API_VERSION = "2024-10-21"

OPENAI_MODEL = os.environ.get("AI_PROXY_OPENAI_MODEL", "gpt-4o-mini")
ANTHROPIC_MODEL = os.environ.get("AI_PROXY_ANTHROPIC_MODEL", "claude-sonnet-4-6")
GEMINI_MODEL = os.environ.get("AI_PROXY_GEMINI_MODEL", "gemini-2.5-flash")

# The mock upstream's answer (tests/src/mock/usage.rs).
TEXT = "Hello from the mock upstream."
TEXT_PIECES = ["Hello", " from", " the", " mock", " upstream."]
PROMPT_TOKENS = 37
COMPLETION_TOKENS = 29
CACHED_TOKENS = 13
REASONING_TOKENS = 7
CACHE_CREATION_TOKENS = 17
THOUGHTS_TOKENS = 11
OPENAI_TOTAL_TOKENS = PROMPT_TOKENS + COMPLETION_TOKENS
GEMINI_TOTAL_TOKENS = PROMPT_TOKENS + COMPLETION_TOKENS + THOUGHTS_TOKENS
EMBEDDING_DIMENSIONS = 8
TIMEOUT_SECS = 30

PROMPT = [{"role": "user", "content": "Say hello."}]

pytestmark = pytest.mark.skipif(not BASE_URL, reason="AI_PROXY_BASE_URL is not set")
needs_openai = pytest.mark.skipif(not OPENAI_KEY, reason="AI_PROXY_OPENAI_KEY is not set")
needs_anthropic = pytest.mark.skipif(not ANTHROPIC_KEY, reason="AI_PROXY_ANTHROPIC_KEY is not set")
needs_gemini = pytest.mark.skipif(not GEMINI_KEY, reason="AI_PROXY_GEMINI_KEY is not set")
needs_azure = pytest.mark.skipif(not AZURE_KEY, reason="AI_PROXY_AZURE_KEY is not set")


def strictly(obj):
    """Re-validates an OpenAI/Anthropic SDK object, which the SDKs build without
    validation, so a missing required field or a mistyped one fails the test."""
    type(obj).model_validate(obj.to_dict())
    return obj


def embedding_value(index):
    """The mock's embedding value at `index` (tests/src/mock/openai.rs)."""
    return ((index % 8) - 3.5) / 8.0


# --- OpenAI -------------------------------------------------------------------------


@pytest.fixture
def openai_client():
    openai = pytest.importorskip("openai")
    return openai.OpenAI(base_url=f"{BASE_URL}/v1", api_key=OPENAI_KEY, max_retries=0, timeout=TIMEOUT_SECS)


def assert_openai_chat_usage(usage):
    assert usage.prompt_tokens == PROMPT_TOKENS
    assert usage.completion_tokens == COMPLETION_TOKENS
    assert usage.total_tokens == OPENAI_TOTAL_TOKENS
    assert usage.prompt_tokens_details.cached_tokens == CACHED_TOKENS
    assert usage.completion_tokens_details.reasoning_tokens == REASONING_TOKENS


def assert_openai_responses_usage(usage):
    assert usage.input_tokens == PROMPT_TOKENS
    assert usage.output_tokens == COMPLETION_TOKENS
    assert usage.total_tokens == OPENAI_TOTAL_TOKENS
    assert usage.input_tokens_details.cached_tokens == CACHED_TOKENS
    assert usage.output_tokens_details.reasoning_tokens == REASONING_TOKENS


@needs_openai
def test_openai_chat_completion_returns_text_and_usage(openai_client):
    completion = strictly(openai_client.chat.completions.create(model=OPENAI_MODEL, messages=PROMPT))

    assert completion.object == "chat.completion"
    assert completion.model == OPENAI_MODEL
    assert completion.choices[0].message.content == TEXT
    assert completion.choices[0].finish_reason == "stop"
    assert_openai_chat_usage(completion.usage)


@needs_openai
def test_openai_chat_stream_with_include_usage_ends_with_usage_chunk(openai_client):
    stream = openai_client.chat.completions.create(
        model=OPENAI_MODEL, messages=PROMPT, stream=True, stream_options={"include_usage": True}
    )

    pieces, finish_reasons, usages, chunks = [], [], [], 0
    for chunk in stream:
        chunks += 1
        strictly(chunk)
        assert chunk.object == "chat.completion.chunk"
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            if choice.finish_reason:
                finish_reasons.append(choice.finish_reason)
        if chunk.usage is not None:
            assert chunk.choices == []
            usages.append(chunk.usage)

    assert pieces == TEXT_PIECES
    assert finish_reasons == ["stop"]
    assert len(usages) == 1
    assert_openai_chat_usage(usages[0])


@needs_openai
def test_openai_chat_stream_without_include_usage(openai_client):
    """Straight from the upstream such a stream carries no usage. Through the gateway it
    ends with one usage chunk (choices empty): the gateway asks for usage so it can
    bill the stream (AI_PROXY_EXPECT_INJECTED_USAGE=1)."""
    stream = openai_client.chat.completions.create(model=OPENAI_MODEL, messages=PROMPT, stream=True)

    chunks = list(stream)

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    usages = [chunk.usage for chunk in chunks if chunk.usage is not None]
    if os.environ.get("AI_PROXY_EXPECT_INJECTED_USAGE") == "1":
        assert len(usages) == 1
        assert chunks[-1].choices == []
        assert_openai_chat_usage(usages[0])
    else:
        assert usages == []


@needs_openai
def test_openai_responses_create_returns_text_and_usage(openai_client):
    response = strictly(openai_client.responses.create(model=OPENAI_MODEL, input="Say hello."))

    assert response.object == "response"
    assert response.status == "completed"
    assert response.model == OPENAI_MODEL
    assert response.output_text == TEXT
    assert_openai_responses_usage(response.usage)


@needs_openai
def test_openai_responses_stream_events_end_with_completed_usage(openai_client):
    stream = openai_client.responses.create(model=OPENAI_MODEL, input="Say hello.", stream=True)

    events = [strictly(event) for event in stream]

    types = [event.type for event in events]
    assert types[0] == "response.created"
    assert types[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert deltas == TEXT_PIECES
    final = events[-1].response
    assert final.output_text == TEXT
    assert_openai_responses_usage(final.usage)


@needs_openai
def test_openai_responses_stream_helper_accumulates_final_response(openai_client):
    with openai_client.responses.stream(model=OPENAI_MODEL, input="Say hello.") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()

    assert "".join(deltas) == TEXT
    assert final.output_text == TEXT
    assert_openai_responses_usage(final.usage)


@needs_openai
def test_openai_embeddings_decode_base64_vectors(openai_client):
    result = strictly(openai_client.embeddings.create(model="text-embedding-3-small", input=["one", "two"]))

    assert [item.index for item in result.data] == [0, 1]
    expected = [embedding_value(i) for i in range(EMBEDDING_DIMENSIONS)]
    assert result.data[0].embedding == expected
    assert result.usage.prompt_tokens == PROMPT_TOKENS


@needs_openai
def test_openai_models_list_has_models(openai_client):
    models = [strictly(model) for model in openai_client.models.list()]

    assert models
    assert all(model.object == "model" for model in models)


@needs_openai
def test_openai_rate_limit_raises_rate_limit_error(openai_client):
    openai = pytest.importorskip("openai")

    with pytest.raises(openai.RateLimitError) as caught:
        openai_client.chat.completions.create(
            model=OPENAI_MODEL, messages=PROMPT, extra_headers={"x-mock-status": "429"}
        )

    assert caught.value.status_code == 429
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.response.headers.get("retry-after") == "3"


# --- Azure OpenAI (the azure-openai plugin) -------------------------------------------


@pytest.fixture
def azure_client():
    openai = pytest.importorskip("openai")
    # The client sends its gateway key in Azure's api-key header, as it would its Azure
    # key; the plugin puts the upstream key there in turn.
    return openai.AzureOpenAI(
        azure_endpoint=BASE_URL,
        api_key=AZURE_KEY,
        api_version=AZURE_API_VERSION,
        max_retries=0,
        timeout=TIMEOUT_SECS,
    )


@needs_azure
def test_azure_chat_completion_returns_text_and_usage(azure_client):
    completion = strictly(azure_client.chat.completions.create(model=AZURE_DEPLOYMENT, messages=PROMPT))

    assert completion.model == AZURE_DEPLOYMENT
    assert completion.choices[0].message.content == TEXT
    assert_openai_chat_usage(completion.usage)


@needs_azure
def test_azure_chat_stream_ends_with_usage_chunk(azure_client):
    """The client does not ask for usage; through the gateway the stream ends with it
    all the same, because the plugin asks Azure for it (AI_PROXY_EXPECT_INJECTED_USAGE=1)."""
    chunks = list(azure_client.chat.completions.create(model=AZURE_DEPLOYMENT, messages=PROMPT, stream=True))

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    usages = [chunk.usage for chunk in chunks if chunk.usage is not None]
    if os.environ.get("AI_PROXY_EXPECT_INJECTED_USAGE") == "1":
        assert len(usages) == 1
        assert_openai_chat_usage(usages[0])
    else:
        assert usages == []


# --- Anthropic ----------------------------------------------------------------------


@pytest.fixture
def anthropic_client():
    anthropic = pytest.importorskip("anthropic")
    return anthropic.Anthropic(base_url=ANTHROPIC_BASE_URL, api_key=ANTHROPIC_KEY, max_retries=0, timeout=TIMEOUT_SECS)


def assert_anthropic_usage(usage):
    assert usage.input_tokens == PROMPT_TOKENS
    assert usage.output_tokens == COMPLETION_TOKENS
    assert usage.cache_creation_input_tokens == CACHE_CREATION_TOKENS
    assert usage.cache_read_input_tokens == CACHED_TOKENS


@needs_anthropic
def test_anthropic_message_returns_text_and_usage(anthropic_client):
    message = strictly(anthropic_client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=PROMPT))

    assert message.type == "message"
    assert message.model == ANTHROPIC_MODEL
    assert [block.text for block in message.content] == [TEXT]
    assert message.stop_reason == "end_turn"
    assert_anthropic_usage(message.usage)


@needs_anthropic
def test_anthropic_stream_helper_accumulates_final_message(anthropic_client):
    with anthropic_client.messages.stream(model=ANTHROPIC_MODEL, max_tokens=64, messages=PROMPT) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()

    assert pieces == TEXT_PIECES
    assert final.content[0].text == TEXT
    assert final.stop_reason == "end_turn"
    assert_anthropic_usage(final.usage)


@needs_anthropic
def test_anthropic_raw_stream_events_carry_start_and_delta_usage(anthropic_client):
    stream = anthropic_client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=PROMPT, stream=True)

    events = [strictly(event) for event in stream]

    types = [event.type for event in events]
    assert types[0] == "message_start"
    assert types[-1] == "message_stop"
    start = events[0].message.usage
    assert start.input_tokens == PROMPT_TOKENS
    assert start.cache_creation_input_tokens == CACHE_CREATION_TOKENS
    assert start.cache_read_input_tokens == CACHED_TOKENS
    assert start.output_tokens == 1
    (delta,) = [event for event in events if event.type == "message_delta"]
    assert delta.delta.stop_reason == "end_turn"
    assert delta.usage.output_tokens == COMPLETION_TOKENS
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    assert text == TEXT


@needs_anthropic
def test_anthropic_models_list_has_models(anthropic_client):
    models = [strictly(model) for model in anthropic_client.models.list()]

    assert models
    assert all(model.type == "model" for model in models)


@needs_anthropic
def test_anthropic_rate_limit_raises_rate_limit_error(anthropic_client):
    anthropic = pytest.importorskip("anthropic")

    with pytest.raises(anthropic.RateLimitError) as caught:
        anthropic_client.messages.create(
            model=ANTHROPIC_MODEL, max_tokens=64, messages=PROMPT, extra_headers={"x-mock-status": "429"}
        )

    assert caught.value.status_code == 429
    assert caught.value.body["error"]["type"] == "rate_limit_error"


# --- Gemini (google-genai) ----------------------------------------------------------

# None is the SDK's own default version (v1 in google-genai 3.x); v1beta is what most
# callers pin.
GEMINI_API_VERSIONS = ["v1beta", None]


def gemini_client(api_version):
    genai = pytest.importorskip("google.genai")
    types = genai.types
    options = types.HttpOptions(base_url=BASE_URL, timeout=TIMEOUT_SECS * 1000)
    if api_version is not None:
        options.api_version = api_version
    return genai.Client(api_key=GEMINI_KEY, http_options=options)


def assert_gemini_usage(usage):
    assert usage.prompt_token_count == PROMPT_TOKENS
    assert usage.candidates_token_count == COMPLETION_TOKENS
    assert usage.cached_content_token_count == CACHED_TOKENS
    assert usage.thoughts_token_count == THOUGHTS_TOKENS
    assert usage.total_token_count == GEMINI_TOTAL_TOKENS


@needs_gemini
@pytest.mark.parametrize("api_version", GEMINI_API_VERSIONS)
def test_gemini_generate_content_returns_text_and_usage(api_version):
    client = gemini_client(api_version)

    response = client.models.generate_content(model=GEMINI_MODEL, contents="Say hello.")

    assert response.text == TEXT
    assert response.model_version == GEMINI_MODEL
    assert response.candidates[0].finish_reason == "STOP"
    assert_gemini_usage(response.usage_metadata)


@needs_gemini
@pytest.mark.parametrize("api_version", GEMINI_API_VERSIONS)
def test_gemini_stream_ends_with_total_usage(api_version):
    client = gemini_client(api_version)

    chunks = list(client.models.generate_content_stream(model=GEMINI_MODEL, contents="Say hello."))

    assert [chunk.text for chunk in chunks] == TEXT_PIECES
    running = [chunk.usage_metadata.candidates_token_count for chunk in chunks]
    assert running == sorted(running)
    assert chunks[-1].candidates[0].finish_reason == "STOP"
    assert_gemini_usage(chunks[-1].usage_metadata)


@needs_gemini
def test_gemini_models_list_has_models():
    client = gemini_client("v1beta")

    models = list(client.models.list())

    assert models
    assert all(model.name.startswith("models/") for model in models)


@needs_gemini
def test_gemini_rate_limit_raises_client_error():
    genai = pytest.importorskip("google.genai")
    client = gemini_client("v1beta")
    config = genai.types.GenerateContentConfig(
        http_options=genai.types.HttpOptions(headers={"x-mock-status": "429"})
    )

    with pytest.raises(genai.errors.ClientError) as caught:
        client.models.generate_content(model=GEMINI_MODEL, contents="Say hello.", config=config)

    assert caught.value.code == 429
    assert caught.value.status == "RESOURCE_EXHAUSTED"

