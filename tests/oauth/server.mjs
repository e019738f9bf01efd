// An OAuth 2.0 authorization server for the gateway's tests: oauth2-mock-server
// (authorization code with PKCE S256, refresh tokens, JWT access tokens) on
// 127.0.0.1, made stricter where tests need it:
//   - refresh tokens are remembered and rotated; an unknown, used or revoked one
//     gets 400 invalid_grant (the library alone accepts any);
//   - OAUTH_TOKEN_TTL (seconds) sets the access token lifetime (short-lived
//     tokens for refresh tests);
//   - a control port answers GET /counts (token requests per grant type) and
//     POST /refresh/fail and /refresh/ok (refreshes fail or succeed from now on).
// Usage: node server.mjs PORT CONTROL_PORT; prints "READY <issuer url>".
import http from "node:http";
import { OAuth2Server } from "oauth2-mock-server";

const [port, controlPort] = process.argv.slice(2).map(Number);
const ttl = Number(process.env.OAUTH_TOKEN_TTL ?? 3600);
const issued = new Set();
const counts = {};
let failRefresh = false;

const server = new OAuth2Server();
await server.issuer.keys.generate("RS256");
server.service.on("beforeTokenSigning", (token) => {
  token.payload.exp = token.payload.iat + ttl;
});
server.service.on("beforeResponse", (response, req) => {
  const grant = req.body.grant_type;
  counts[grant] = (counts[grant] ?? 0) + 1;
  if (grant === "refresh_token") {
    const presented = req.body.refresh_token;
    if (failRefresh || !issued.has(presented)) {
      response.statusCode = 400;
      response.body = { error: "invalid_grant", error_description: "the refresh token is unknown, used or revoked" };
      return;
    }
    issued.delete(presented);
  }
  response.body.expires_in = ttl;
  if (response.body.refresh_token) issued.add(response.body.refresh_token);
});
await server.start(port, "127.0.0.1");

http
  .createServer((req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && req.url === "/counts") return reply(200, counts);
    if (req.method === "POST" && req.url === "/refresh/fail") {
      failRefresh = true;
      return reply(200, { failRefresh });
    }
    if (req.method === "POST" && req.url === "/refresh/ok") {
      failRefresh = false;
      return reply(200, { failRefresh });
    }
    reply(404, { error: "unknown control" });
  })
  .listen(controlPort, "127.0.0.1", () => console.log(`READY ${server.issuer.url}`));
