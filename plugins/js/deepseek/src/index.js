// The component entry: exports the provider interface, its endpoints and
// `stream-control` (so a stream cut at a client's quota ends cleanly), and
// sends the plugin's log lines to the gateway through the `host.log` import.

import host from "ai-proxy:provider/host@0.1.0";

import { ENDPOINTS, NAME, VERSION, provider as deepseek, streamControl as control } from "./provider.js";

export const provider = {
  ...deepseek,
  info() {
    host.log("debug", `${NAME} plugin ${VERSION} (JavaScript, componentize-qjs) loaded`);
    return deepseek.info();
  },
};

export const endpoints = {
  endpoints() {
    return ENDPOINTS;
  },
};

export const streamControl = control;
