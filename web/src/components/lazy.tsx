// Code loaded on first use: pages and the charting library live in their
// own chunks, so the first screen downloads only the frame and the login.
// A chunk that fails to load (the network dropped, or the console was
// rebuilt and the old chunk names are gone) shows an error in words with
// a reload button instead of a blank page.
import { Component, lazy, Suspense, type LazyExoticComponent, type ReactNode } from "react";
import { Button } from "./ui/button.tsx";
import { Loading } from "./ui/states.tsx";

/** The props a function component takes; `never` for what is not one. */
type PropsOf<C> = C extends (props: infer P) => ReactNode ? P : never;

/** A component of these props, as a function (which every lazily loaded one here is). */
export type Lazy<P> = LazyExoticComponent<(props: P) => ReactNode>;

/** `lazy` for a named export: `lazyNamed(() => import("./x.tsx"), "X")`. */
export function lazyNamed<M, K extends keyof M & string>(
  load: () => Promise<M>,
  name: K,
): Lazy<PropsOf<M[K]>> {
  return lazy(() =>
    load().then((module) => {
      const found = module[name];
      if (typeof found !== "function") throw new Error(`The module has no export ${name}.`);
      // A function export under this name: the component whose props PropsOf read.
      return { default: found as (props: PropsOf<M[K]>) => ReactNode };
    }),
  );
}

export const CHUNK_FAILED = "This part of the console could not be loaded. The gateway may have been updated or the connection dropped.";

/** Catches a failed chunk load below it; `resetKey` (e.g. the path) clears the error. */
interface BoundaryProps {
  children?: ReactNode;
  resetKey?: unknown;
}

interface BoundaryState {
  failed: boolean;
  resetKey: unknown;
}

export class ChunkBoundary extends Component<BoundaryProps, BoundaryState> {
  constructor(props: BoundaryProps) {
    super(props);
    this.state = { failed: false, resetKey: props.resetKey };
  }

  static getDerivedStateFromError() {
    return { failed: true };
  }

  static getDerivedStateFromProps(props: BoundaryProps, state: BoundaryState): Partial<BoundaryState> | null {
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
export function Deferred({ children, fallback = <Loading />, resetKey }: BoundaryProps & { fallback?: ReactNode }) {
  return (
    <ChunkBoundary resetKey={resetKey}>
      <Suspense fallback={fallback}>{children}</Suspense>
    </ChunkBoundary>
  );
}
