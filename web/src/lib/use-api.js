// Loads an API path into component state: data, error words, loading,
// and reload(). A changed path aborts the previous load; on a failed
// reload the last good data stays on screen beside the error.
import { useCallback, useEffect, useState } from "react";
import { api, describeError } from "./api.js";

export function useApi(path) {
  const [state, setState] = useState({ data: null, error: null, loading: Boolean(path) });
  const [tick, setTick] = useState(0);

  useEffect(() => {
    if (!path) {
      setState({ data: null, error: null, loading: false });
      return undefined;
    }
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true, error: null }));
    api(path, { signal: controller.signal }).then(
      (data) => setState({ data, error: null, loading: false }),
      (error) => {
        if (error?.name === "AbortError") return;
        setState((s) => ({ data: s.data, error: describeError(error), loading: false }));
      },
    );
    return () => controller.abort();
  }, [path, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}
