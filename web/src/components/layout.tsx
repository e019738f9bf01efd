// The frame around every page: a sidebar on wide screens, a top bar with
// a menu drawer on narrow ones, the theme switch and the account menu.
import * as DialogPrimitive from "@radix-ui/react-dialog";
import {
  Activity,
  LockKeyhole,
  Boxes,
  KeyRound,
  LayoutDashboard,
  LogOut,
  Menu,
  Moon,
  ScrollText,
  ShieldCheck,
  Sun,
  Users,
  UsersRound,
  Waypoints,
  X,
  type LucideIcon,
} from "lucide-react";
import { useEffect, useState, type ReactNode } from "react";
import { cn } from "../lib/cn.ts";
import { linkHandler } from "../lib/router.ts";
import { useTheme } from "../lib/theme.ts";

import { Button } from "./ui/button.tsx";
import { FormDialog } from "./ui/dialog.tsx";
import { Field, Input } from "./ui/input.tsx";
import { call, type Schema } from "../lib/client.ts";

/** The signed-in account. */
export type Account = Schema<"Account">;

/** What every page is given: the signed-in account and the URL's search string. */
export interface PageProps {
  user: Account;
  search: string;
}

/** The signed-in account's own password; a change ends every session, this one too. */
interface PasswordDialogProps {
  username: string;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onChanged: () => void;
}

function PasswordDialog({ username, open, onOpenChange, onChanged }: PasswordDialogProps) {
  const submit = async (form: FormData) => {
    const current = String(form.get("current") ?? "");
    const next = String(form.get("next") ?? "");
    if (!current) throw new Error("Enter your current password.");
    if (next.length < 8) throw new Error("The new password needs at least 8 characters.");
    if (next !== form.get("repeat")) throw new Error("The new passwords differ.");
    await call("auth_change_password", { body: { current_password: current, new_password: next } });
    onOpenChange(false);
    onChanged();
  };
  return open ? (
    <FormDialog
      open
      onOpenChange={onOpenChange}
      title="Change password"
      description="Every session of this account ends; sign in again with the new password."
      submitLabel="Change password"
      onSubmit={submit}
    >
      <input type="text" name="username" value={username} autoComplete="username" readOnly hidden />
      <Field label="Current password">{(id) => <Input id={id} name="current" type="password" autoComplete="current-password" />}</Field>
      <Field label="New password">{(id) => <Input id={id} name="next" type="password" autoComplete="new-password" />}</Field>
      <Field label="Confirm password">{(id) => <Input id={id} name="repeat" type="password" autoComplete="new-password" />}</Field>
    </FormDialog>
  ) : null;
}

/** A page of the menu; `admin` pages are listed for admins only. */
export interface NavItem {
  to: string;
  label: string;
  icon: LucideIcon;
  admin?: boolean;
}

export const NAV: NavItem[] = [
  { to: "/", label: "Dashboard", icon: LayoutDashboard },
  { to: "/logs", label: "Logs", icon: ScrollText },
  { to: "/upstream-keys", label: "Upstream Keys", icon: KeyRound, admin: true },
  { to: "/client-keys", label: "Client Keys", icon: Waypoints },
  { to: "/providers", label: "Providers & Plugins", icon: Boxes },
  { to: "/users", label: "Users", icon: Users, admin: true },
  { to: "/teams", label: "Teams", icon: UsersRound },
  { to: "/audit", label: "Audit Log", icon: ShieldCheck, admin: true },
];

function isActive(path: string, to: string): boolean {
  return to === "/" ? path === "/" : path === to || path.startsWith(`${to}/`);
}

function NavLinks({ path, admin, onNavigate }: { path: string; admin: boolean; onNavigate?: () => void }) {
  return (
    <nav className="grid gap-1" aria-label="Main">
      {NAV.filter((n) => admin || !n.admin).map(({ to, label, icon: Icon }) => {
        const active = isActive(path, to);
        return (
          <a
            key={to}
            href={to}
            onClick={(e) => {
              linkHandler(to)(e);
              onNavigate?.();
            }}
            aria-current={active ? "page" : undefined}
            className={cn(
              "flex items-center gap-3 rounded-md px-3 py-2 text-sm font-medium transition-colors focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
              active ? "bg-primary/10 text-primary" : "text-muted-foreground hover:bg-accent hover:text-foreground",
            )}
          >
            <Icon className="size-4" aria-hidden="true" />
            {label}
          </a>
        );
      })}
    </nav>
  );
}

function Brand() {
  return (
    <div className="flex items-center gap-2 px-1">
      <span className="flex size-8 items-center justify-center rounded-lg bg-primary text-primary-foreground">
        <Activity className="size-4" aria-hidden="true" />
      </span>
      <span className="font-semibold tracking-tight">ai-proxy</span>
    </div>
  );
}

interface LayoutProps {
  user: Account;
  path: string;
  title: string;
  onLogout: () => void;
  onPasswordChanged: () => void;
  children: ReactNode;
}

export function Layout({ user, path, title, onLogout, onPasswordChanged, children }: LayoutProps) {
  const { dark, toggle } = useTheme();
  const [menu, setMenu] = useState(false);
  const [password, setPassword] = useState(false);
  const admin = user.role === "admin";
  useDocumentTitle(title);
  return (
    <div className="min-h-dvh bg-muted/30 lg:pl-60">
      <a
        href="#main"
        className="sr-only z-50 rounded-md bg-primary px-3 py-2 text-sm font-medium text-primary-foreground focus:not-sr-only focus:fixed focus:left-3 focus:top-3"
      >
        Skip to content
      </a>
      <aside className="fixed inset-y-0 left-0 hidden w-60 flex-col gap-6 border-r bg-card px-3 py-4 lg:flex">
        <Brand />
        <NavLinks path={path} admin={admin} />
      </aside>
      <header className="sticky top-0 z-30 flex h-14 items-center gap-2 border-b bg-card/95 px-3 backdrop-blur sm:px-5">
        <DialogPrimitive.Root open={menu} onOpenChange={setMenu}>
          <DialogPrimitive.Trigger asChild>
            <Button variant="ghost" size="icon" className="lg:hidden" aria-label="Open menu">
              <Menu />
            </Button>
          </DialogPrimitive.Trigger>
          <DialogPrimitive.Portal>
            <DialogPrimitive.Overlay className="fixed inset-0 z-40 bg-black/50 lg:hidden" />
            <DialogPrimitive.Content className="fixed inset-y-0 left-0 z-50 flex w-72 max-w-[85vw] flex-col gap-6 border-r bg-card px-3 py-4 shadow-xl focus:outline-none lg:hidden">
              <DialogPrimitive.Title className="sr-only">Menu</DialogPrimitive.Title>
              <DialogPrimitive.Description className="sr-only">Pages of the console</DialogPrimitive.Description>
              <div className="flex items-center justify-between">
                <Brand />
                <DialogPrimitive.Close asChild>
                  <Button variant="ghost" size="icon" aria-label="Close menu">
                    <X />
                  </Button>
                </DialogPrimitive.Close>
              </div>
              <NavLinks path={path} admin={admin} onNavigate={() => setMenu(false)} />
            </DialogPrimitive.Content>
          </DialogPrimitive.Portal>
        </DialogPrimitive.Root>
        <h1 className="min-w-0 flex-1 truncate text-base font-semibold tracking-tight sm:text-lg">{title}</h1>
        <Button variant="ghost" size="icon" onClick={toggle} aria-label={dark ? "Switch to light mode" : "Switch to dark mode"}>
          {dark ? <Sun /> : <Moon />}
        </Button>
        <div className="hidden text-right text-xs leading-tight sm:block">
          <div className="font-medium" data-testid="current-user">
            {user.username}
          </div>
          <div className="text-muted-foreground">{user.role}</div>
        </div>
        <Button variant="ghost" size="icon" onClick={() => setPassword(true)} aria-label="Change password" title="Change password">
          <LockKeyhole />
        </Button>
        <Button variant="ghost" size="icon" onClick={onLogout} aria-label="Sign out" title="Sign out">
          <LogOut />
        </Button>
      </header>
      <main id="main" tabIndex={-1} className="mx-auto w-full max-w-7xl p-3 focus:outline-none sm:p-5 lg:p-6">
        {children}
      </main>
      <PasswordDialog username={user.username} open={password} onOpenChange={setPassword} onChanged={onPasswordChanged} />
    </div>
  );
}

/** The browser tab names the page: "Logs · ai-proxy", so tabs and history tell pages apart. */
export function useDocumentTitle(title: string | null | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · ai-proxy` : "ai-proxy";
  }, [title]);
}

/** The title row of a page: a sentence about it and its main actions. */
export function PageIntro({ children, actions }: { children: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-4 flex flex-wrap items-center justify-between gap-3 sm:mb-5">
      <p className="max-w-2xl text-sm text-muted-foreground">{children}</p>
      {actions ? <div className="flex flex-wrap gap-2">{actions}</div> : null}
    </div>
  );
}
