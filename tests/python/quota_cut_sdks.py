"""Streams cut at a client key's daily quota, read by the official Python SDKs.

Run by tests/tests/quota_cut_e2e.rs (`run.sh quota_cut_sdks.py`; not collected with the
other SDK tests, whose keys have no quota): the keys given here have a small
`tokens_per_day` quota and `quota_overrun: cut`, and the mock is asked for a stream far
longer than the quota (`x-mock-repeat`). Each SDK must read the shortened stream to a
clean end, strictly validated, with the provider's "ran out of output" reason.

Environment: AI_PROXY_BASE_URL, AI_PROXY_OPENAI_CUT_KEY, AI_PROXY_ANTHROPIC_CUT_KEY.
"""

import os

import pytest

BASE_URL = os.environ["AI_PROXY_BASE_URL"].rstrip("/")
LONG = {"x-mock-repeat": "100"}
PROMPT = [{"role": "user", "content": "Tell me a long story."}]
# The mock repeats these pieces 100 times (tests/src/mock/usage.rs).
FULL_LENGTH = len("Hello from the mock upstream.") * 100


def strictly(obj):
    type(obj).model_validate(obj.to_dict())
    return obj


def test_openai_sdk_reads_a_cut_stream_to_a_length_finish():
    import openai

    client = openai.OpenAI(
        base_url=f"{BASE_URL}/v1", api_key=os.environ["AI_PROXY_OPENAI_CUT_KEY"], max_retries=0
    )
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=PROMPT, stream=True, extra_headers=LONG
    )
    text, finish_reasons, usages = [], [], []
    for chunk in stream:
        strictly(chunk)
        for choice in chunk.choices:
            text.append(choice.delta.content or "")
            if choice.finish_reason:
                finish_reasons.append(choice.finish_reason)
        if chunk.usage is not None:
            usages.append(chunk.usage)
    assert finish_reasons == ["length"]
    assert 0 < len("".join(text)) < FULL_LENGTH
    assert len(usages) == 1 and usages[0].completion_tokens > 0


def test_anthropic_sdk_accumulates_a_cut_stream_into_a_max_tokens_message():
    import anthropic

    client = anthropic.Anthropic(
        base_url=BASE_URL, api_key=os.environ["AI_PROXY_ANTHROPIC_CUT_KEY"], max_retries=0
    )
    with client.messages.stream(
        model="claude-sonnet-4-6", max_tokens=4096, messages=PROMPT, extra_headers=LONG
    ) as stream:
        message = stream.get_final_message()
    strictly(message)
    assert message.stop_reason == "max_tokens"
    assert 0 < len(message.content[0].text) < FULL_LENGTH
    assert message.usage.output_tokens > 0
