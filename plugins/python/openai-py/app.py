"""An OpenAI-compatible provider plugin in Python, built with componentize-py:
the chat completions wire format, a Bearer key, usage with cached and
reasoning tokens, and the default error classes. An example of the
language, not a built-in: see sdk/README.md for its size and cost."""
import json

from wit_world import exports
from wit_world.exports import endpoints as ep
from wit_world.exports import provider as provider_iface
from wit_world.imports import types as t
from componentize_py_types import Err

NAME = "openai-py"

from openai_usage import usage_of as _usage

class Provider(exports.Provider):
    def info(self):
        return t.ProviderInfo(NAME, "0.1.0", "https://api.openai.com", t.CredentialStyle_Bearer(), None, None)

    def inspect(self, head, body):
        try:
            value = json.loads(body) if body.strip() else {}
        except ValueError:
            raise Err(t.PluginError_BadRequest("request body is not valid JSON"))
        if not isinstance(value, dict):
            return t.RequestFacts(None, False)
        return t.RequestFacts(value.get("model"), value.get("stream") is True)

    def prepare(self, head, body, credential):
        headers = [h for h in head.headers if h.name.lower() != "authorization"]
        headers.append(t.Header("authorization", "Bearer " + credential))
        return t.OutboundRequest(head.path, headers, None)

    def body_usage(self, body):
        try:
            return _usage(json.loads(body).get("usage"))
        except (ValueError, AttributeError):
            return None

    def cost(self, model, usage, prices):
        best = None
        for p in prices:
            if model.startswith(p.model) and (best is None or len(p.model) > len(best.model)):
                best = p
        if best is None:
            return None
        cached = min(usage.cached_input_tokens, usage.input_tokens)
        micro = ((usage.input_tokens - cached) * best.input
                 + cached * (best.cached_input if best.cached_input is not None else best.input)
                 + usage.cache_write_tokens * (best.cache_write if best.cache_write is not None else best.input)
                 + usage.output_tokens * best.output)
        return (micro + 500) // 1000

    def default_prices(self):
        return [t.Price("gpt-4o-mini", 150_000, 600_000, 75_000, None),
                t.Price("o4-mini", 1_100_000, 4_400_000, 275_000, None)]

    def classify(self, status, headers, body):
        if status == 429:
            retry = next((h.value for h in headers if h.name.lower() == "retry-after"), None)
            return t.ErrorClass_RateLimited(int(retry) if retry and retry.isdigit() else None)
        if status == 401:
            return t.ErrorClass_AuthInvalid()
        if 500 <= status < 600:
            return t.ErrorClass_ServerError()
        if 400 <= status < 500:
            return t.ErrorClass_BadRequest()
        return t.ErrorClass_Other()

class Endpoints(exports.Endpoints):
    def endpoints(self):
        return [ep.Endpoint("POST", "/v1/chat/completions", ep.EndpointClass.INFERENCE)]
