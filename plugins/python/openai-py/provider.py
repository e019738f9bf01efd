"""The `stream-parser` resource of the provider interface (componentize-py looks it up here)."""
import json

from wit_world.exports import provider as provider_iface
from openai_usage import usage_of as _usage


class StreamParser(provider_iface.StreamParser):
    def __init__(self):
        self.buf = b""
        self.usage = None

    def _event(self, block):
        for line in block.replace(b"\r\n", b"\n").split(b"\n"):
            if line.startswith(b"data:"):
                data = line[5:].strip()
                if data and data != b"[DONE]":
                    try:
                        found = _usage(json.loads(data).get("usage"))
                    except (ValueError, AttributeError):
                        found = None
                    if found is not None:
                        self.usage = found
                        return True
        return False

    def feed(self, chunk):
        self.buf += chunk
        changed = False
        norm = self.buf.replace(b"\r\n", b"\n")
        while b"\n\n" in norm:
            block, norm = norm.split(b"\n\n", 1)
            changed = self._event(block) or changed
        self.buf = norm
        return self.usage if changed else None

    def finish(self):
        if self.buf.strip():
            self._event(self.buf)
        return self.usage

