// The console: who is signed in, which page is shown. A 401 from any call
// ends the session and shows the login page with the reason.
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { Layout, NAV, type Account, type PageProps } from "./components/layout.tsx";
import { ToastProvider } from "./components/ui/toast.tsx";
import { Empty, Loading } from "./components/ui/states.tsx";
import { onUnauthorized, SESSION_EXPIRED } from "./lib/api.ts";
import { navigate, useLocation } from "./lib/router.ts";
import { Deferred, lazyNamed, type Lazy } from "./components/lazy.tsx";
import { LoginPage } from "./pages/login.tsx";
import { call } from "./lib/client.ts";

// Each page is its own chunk, fetched when first shown; the login page
// comes with the first download.
const PAGES: Partial<Record<string, Lazy<PageProps>>> = {
  "/": lazyNamed(() => import("./pages/dashboard.tsx"), "DashboardPage"),
  "/logs": lazyNamed(() => import("./pages/logs.tsx"), "LogsPage"),
  "/upstream-keys": lazyNamed(() => import("./pages/upstream-keys.tsx"), "UpstreamKeysPage"),
  "/client-keys": lazyNamed(() => import("./pages/client-keys.tsx"), "ClientKeysPage"),
  "/providers": lazyNamed(() => import("./pages/providers.tsx"), "ProvidersPage"),
  "/users": lazyNamed(() => import("./pages/users.tsx"), "UsersPage"),
  "/teams": lazyNamed(() => import("./pages/teams.tsx"), "TeamsPage"),
  "/audit": lazyNamed(() => import("./pages/audit.tsx"), "AuditPage"),
  // CALLBACK_PATH of lib/oauth.ts, spelled out to keep that module out of the first download.
  "/oauth/callback": lazyNamed(() => import("./pages/oauth-callback.tsx"), "OAuthCallbackPage"),
};

/**
 * Earlier addresses of pages, kept so bookmarks still land: the console
 * once named its key pages after the API's routes (issue 14).
 */
export const MOVED: Record<string, string> = {
  "/provider-keys": "/upstream-keys",
  "/user-keys": "/client-keys",
};

/** Pages reached by address, not from the menu. */
const UNLISTED = [{ to: "/oauth/callback", label: "OAuth sign-in", admin: true }];

export function App() {
  const { path, search } = useLocation();
  // undefined while asking who is signed in, null when nobody is.
  const [user, setUser] = useState<Account | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  const signedInRef = useRef(false);
  signedInRef.current = Boolean(user);

  const moved = MOVED[path];
  useEffect(() => {
    if (moved) navigate(`${moved}${search}`, { replace: true });
  }, [moved, search]);

  useEffect(() => {
    onUnauthorized(() => {
      if (signedInRef.current) setNotice(SESSION_EXPIRED);
      setUser(null);
    });
    call("auth_me").then(setUser, () => setUser(null));
  }, []);

  const signedIn = useCallback((u: Account) => {
    setNotice(null);
    setUser(u);
    if (path === "/login") navigate("/", { replace: true });
  }, [path]);

  const logout = useCallback(async () => {
    try {
      await call("auth_logout");
    } catch {
      // The session is gone either way.
    }
    setNotice("You have signed out.");
    setUser(null);
  }, []);

  let content: ReactNode;
  if (user === undefined) {
    content = <Loading label="Starting…" className="min-h-dvh" />;
  } else if (user === null) {
    content = <LoginPage notice={notice} onSignedIn={signedIn} />;
  } else {
    const item = NAV.find((n) => n.to === path) ?? UNLISTED.find((n) => n.to === path);
    const Page = PAGES[path];
    const allowed = item && (!item.admin || user.role === "admin");
    content = (
      <Layout
        user={user}
        path={path}
        title={item?.label ?? "Not found"}
        onLogout={logout}
        onPasswordChanged={() => {
          setNotice("Password changed. Sign in with the new one.");
          setUser(null);
        }}
      >
        {Page && allowed ? (
          <Deferred resetKey={path}>
            <Page user={user} search={search} />
          </Deferred>
        ) : (
          <Empty title={Page ? "Admins only" : "No such page"}>
            {Page ? "This page is for admin accounts." : "Choose a page from the menu."}
          </Empty>
        )}
      </Layout>
    );
  }
  return <ToastProvider>{content}</ToastProvider>;
}
