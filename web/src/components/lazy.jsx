// Code loaded on first use: pages and the charting library live in their
// own chunks, so the first screen downloads only the frame and the login.
// A chunk that fails to load (the network dropped, or the console was
// rebuilt and the old chunk names are gone) shows an error in words with
// a reload button instead of a blank page.
import { Component, lazy, Suspense } from "react";
import { Button } from "./ui/button.jsx";
import { Loading } from "./ui/states.jsx";

/** `lazy` for a named export: `lazyNamed(() => import("./x.jsx"), "X")`. */
export function lazyNamed(load, name) {
  return lazy(() =>
    load().then((module) => {
      if (!module[name]) throw new Error(`The module has no export ${name}.`);
      return { default: module[name] };
    }),
  );
}

export const CHUNK_FAILED = "This part of the console could not be loaded. The gateway may have been updated or the connection dropped.";

/** Catches a failed chunk load below it; `resetKey` (e.g. the path) clears the error. */
export class ChunkBoundary extends Component {
  constructor(props) {
    super(props);
    this.state = { failed: false, resetKey: props.resetKey };
  }

  static getDerivedStateFromError() {
    return { failed: true };
  }

  static getDerivedStateFromProps(props, state) {
    return props.resetKey !== state.resetKey ? { failed: false, resetKey: props.resetKey } : null;
  }

  render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div role="alert" className="flex flex-col items-center gap-3 px-4 py-12 text-center text-sm">
        <p className="max-w-md text-muted-foreground">{CHUNK_FAILED}</p>
        <Button variant="outline" onClick={() => window.location.reload()}>
          Reload the page
        </Button>
      </div>
    );
  }
}

/** Shows `children` once their code is loaded; `fallback` until then. */
export function Deferred({ children, fallback = <Loading />, resetKey }) {
  return (
    <ChunkBoundary resetKey={resetKey}>
      <Suspense fallback={fallback}>{children}</Suspense>
    </ChunkBoundary>
  );
}
