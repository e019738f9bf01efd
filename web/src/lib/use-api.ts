// Loads a read of the typed client (`read(...)` of client.ts) into
// component state: data, error words, loading, and reload(). A read with
// another key aborts the previous load; null loads nothing. On a failed
// reload the last good data stays on screen beside the error.
import { useCallback, useEffect, useState } from "react";
import { describeError } from "./api.ts";
import type { Read } from "./client.ts";

interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
}

export interface ApiState<T> extends Loaded<T> {
  reload: () => void;
}

export function useApi<T>(request: Read<T> | null | undefined | false): ApiState<T> {
  const key = request ? request.key : null;
  const [state, setState] = useState<Loaded<T>>({ data: null, error: null, loading: Boolean(key) });
  const [tick, setTick] = useState(0);

  useEffect(() => {
    if (!request) {
      setState({ data: null, error: null, loading: false });
      return undefined;
    }
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true, error: null }));
    request.load(controller.signal).then(
      (data) => setState({ data, error: null, loading: false }),
      (error) => {
        if (error?.name === "AbortError") return;
        setState((s) => ({ data: s.data, error: describeError(error), loading: false }));
      },
    );
    return () => controller.abort();
    // The key names the request; a new object for the same key is the same read.
  }, [key, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}
