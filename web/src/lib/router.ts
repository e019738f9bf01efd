// A small history-API router: the gateway answers every non-/api path
// with index.html, so each page has a real URL that survives a reload.
import { useEffect, useState, type MouseEvent } from "react";

const listeners = new Set<() => void>();

function current() {
  return { path: window.location.pathname, search: window.location.search };
}

/** Goes to `to` ("/logs?model=x"); `replace` keeps the history entry. */
export function navigate(to: string, { replace = false } = {}): void {
  if (to === window.location.pathname + window.location.search) return;
  window.history[replace ? "replaceState" : "pushState"](null, "", to);
  listeners.forEach((l) => l());
}

/** The current path and search, re-rendering on change. */
export function useLocation() {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return location;
}

/** A link that navigates without a reload (modified clicks open tabs as usual). */
export function linkHandler(to: string): (event: MouseEvent) => void {
  return (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
}
