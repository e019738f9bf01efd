// Light or dark, remembered per browser; index.html applies it before the
// first paint.
import { useCallback, useState } from "react";

const KEY = "aip-theme";

export function useTheme() {
  const [dark, setDark] = useState(() => document.documentElement.classList.contains("dark"));
  const toggle = useCallback(() => {
    setDark((was) => {
      const next = !was;
      document.documentElement.classList.toggle("dark", next);
      try {
        localStorage.setItem(KEY, next ? "dark" : "light");
      } catch {
        // Private mode: the choice lasts until the page is closed.
      }
      return next;
    });
  }, []);
  return { dark, toggle };
}
