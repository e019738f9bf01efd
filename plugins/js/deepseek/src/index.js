// The component entry: exports the provider interface and sends the plugin's
// log lines to the gateway through the `host.log` import.

import host from "ai-proxy:provider/host@0.1.0";

import { ENDPOINTS, NAME, VERSION, provider as deepseek } from "./provider.js";

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
