"""OpenAI usage objects as the WIT usage record."""
from wit_world.imports import types as t


def usage_of(obj):
    if not isinstance(obj, dict) or "prompt_tokens" not in obj:
        return None
    details = obj.get("prompt_tokens_details") or {}
    out = obj.get("completion_tokens_details") or {}
    return t.Usage(
        input_tokens=int(obj.get("prompt_tokens") or 0),
        output_tokens=int(obj.get("completion_tokens") or 0),
        cached_input_tokens=int(details.get("cached_tokens") or 0),
        cache_write_tokens=0,
        reasoning_tokens=int(out.get("reasoning_tokens") or 0),
    )

