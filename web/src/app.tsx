// The console: who is signed in, which page is shown. A 401 from any call
// ends the session and shows the login page with the reason.
import { useCallback, useEffect, useRef, useState } from "react";
import { Layout, NAV } from "./components/layout.tsx";
import { ToastProvider } from "./components/ui/toast.jsx";
import { Empty, Loading } from "./components/ui/states.jsx";
import { onUnauthorized, SESSION_EXPIRED } from "./lib/api.ts";
import { navigate, useLocation } from "./lib/router.js";
import { Deferred, lazyNamed } from "./components/lazy.jsx";
import { LoginPage } from "./pages/login.tsx";
import { call } from "./lib/client.ts";

// Each page is its own chunk, fetched when first shown; the login page
// comes with the first download.
const PAGES = {
  "/": lazyNamed(() => import("./pages/dashboard.tsx"), "DashboardPage"),
  "/logs": lazyNamed(() => import("./pages/logs.tsx"), "LogsPage"),
  "/provider-keys": lazyNamed(() => import("./pages/provider-keys.tsx"), "ProviderKeysPage"),
  "/user-keys": lazyNamed(() => import("./pages/user-keys.tsx"), "UserKeysPage"),
  "/providers": lazyNamed(() => import("./pages/providers.tsx"), "ProvidersPage"),
  "/users": lazyNamed(() => import("./pages/users.tsx"), "UsersPage"),
  "/teams": lazyNamed(() => import("./pages/teams.tsx"), "TeamsPage"),
  "/audit": lazyNamed(() => import("./pages/audit.tsx"), "AuditPage"),
  // CALLBACK_PATH of lib/oauth.js, spelled out to keep that module out of the first download.
  "/oauth/callback": lazyNamed(() => import("./pages/oauth-callback.tsx"), "OAuthCallbackPage"),
};

/** Pages reached by address, not from the menu. */
const UNLISTED = [{ to: "/oauth/callback", label: "OAuth sign-in", admin: true }];

export function App() {
  const { path, search } = useLocation();
  const [user, setUser] = useState(undefined);
  const [notice, setNotice] = useState(null);
  const signedInRef = useRef(false);
  signedInRef.current = Boolean(user);

  useEffect(() => {
    onUnauthorized(() => {
      if (signedInRef.current) setNotice(SESSION_EXPIRED);
      setUser(null);
    });
    call("auth_me").then(setUser, () => setUser(null));
  }, []);

  const signedIn = useCallback((u) => {
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

  let content;
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
