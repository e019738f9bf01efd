// Ending an OpenAI-format stream early (the WIT `stream-control`
// interface), as the Rust SDK's `openai_terminal_event` does: what a client
// sees at a quota cut is what it would see had the model hit its output
// limit — a chunk with `finish_reason: "length"`, a usage chunk with the
// usage so far, then `data: [DONE]`. Ids, model and creation time are the
// stream's first event's, so the end belongs to the same answer.
//
// Chat completions (`chat.completion.chunk`) and legacy completions
// (`text_completion`) are recognised; for any other stream the answer is
// empty, which tells the gateway this stream cannot be ended cleanly (it
// then runs to its end).

import { encode } from "./utf8.js";

/** The finish reason a cut chat or legacy completion reports. */
export const CUT_FINISH_REASON = "length";

const dataEvent = (value) => `data: ${JSON.stringify(value)}\n\n`;

/** Whether a chunk already gave a finish reason (or is the usage chunk). */
function finished(last) {
  const choices = last?.choices;
  if (!Array.isArray(choices)) return false;
  return choices.length === 0 || choices.some((c) => c?.finish_reason != null);
}

/**
 * The bytes that end the stream `parser` (a `streamParser` class instance)
 * has read: see the module comment. `reason` is the WIT `end-reason`.
 */
export function openaiTerminalEvent(parser, _reason) {
  if (parser.lastData !== null && parser.lastData.trim() === "[DONE]") return new Uint8Array();
  const first = parser.firstJson;
  if (first === null || typeof first !== "object") return encode("data: [DONE]\n\n");
  const object = first.object ?? "";
  const chunk = (choices) => ({
    id: first.id ?? null,
    object,
    created: first.created ?? 0,
    model: first.model ?? null,
    choices,
  });
  let out = "";
  if (!finished(parser.lastJson)) {
    let choice;
    if (object === "chat.completion.chunk") {
      choice = { index: 0, delta: {}, logprobs: null, finish_reason: CUT_FINISH_REASON };
    } else if (object === "text_completion") {
      choice = { index: 0, text: "", logprobs: null, finish_reason: CUT_FINISH_REASON };
    } else {
      return new Uint8Array();
    }
    out += dataEvent(chunk([choice]));
    const usage = parser.running() ?? { inputTokens: 0, outputTokens: 0 };
    out += dataEvent({
      ...chunk([]),
      usage: {
        prompt_tokens: usage.inputTokens,
        completion_tokens: usage.outputTokens,
        total_tokens: usage.inputTokens + usage.outputTokens,
      },
    });
  }
  return encode(`${out}data: [DONE]\n\n`);
}
