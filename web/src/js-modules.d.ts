// The console's JavaScript modules (components and helpers not yet in
// TypeScript) as seen from TypeScript: untyped. The typed client and the
// pages that call the API are TypeScript; what they import from these
// modules is not checked.
declare module "*.jsx";
declare module "*.js";
