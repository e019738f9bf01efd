import { Activity } from "lucide-react";
import { useState, type FormEvent } from "react";
import { Button } from "../components/ui/button.tsx";
import { Card } from "../components/ui/card.tsx";
import { Field, Input } from "../components/ui/input.tsx";
import { ErrorNote, Spinner } from "../components/ui/states.tsx";
import { ApiError, describeError } from "../lib/api.ts";
import { useDocumentTitle, type Account } from "../components/layout.tsx";
import { call } from "../lib/client.ts";

interface LoginProps {
  /** Why the login shows: signed out, the session ended. */
  notice: string | null;
  onSignedIn: (user: Account) => void;
}

export function LoginPage({ notice, onSignedIn }: LoginProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useDocumentTitle("Sign in");

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const username = String(form.get("username") ?? "").trim();
    const password = String(form.get("password") ?? "");
    if (!username || !password) {
      setError("Enter your user name and password.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const answer = await call("auth_login", { body: { username, password } });
      onSignedIn(answer.user);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? "Wrong user name or password." : describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="flex min-h-dvh items-center justify-center bg-muted/40 p-4">
      <Card className="w-full max-w-sm p-6 sm:p-8">
        <div className="mb-6 flex flex-col items-center gap-3 text-center">
          <span className="flex size-11 items-center justify-center rounded-xl bg-primary text-primary-foreground">
            <Activity className="size-5" aria-hidden="true" />
          </span>
          <div>
            <h1 className="text-xl font-semibold tracking-tight">Sign in to ai-proxy</h1>
            <p className="mt-1 text-sm text-muted-foreground">The operator's console of your AI gateway</p>
          </div>
        </div>
        {notice ? (
          <p role="status" className="mb-4 rounded-md bg-muted px-3 py-2 text-sm text-muted-foreground">
            {notice}
          </p>
        ) : null}
        <form onSubmit={submit} className="grid gap-4" noValidate>
          <Field label="User name">
            {(id) => <Input id={id} name="username" autoComplete="username" autoFocus required />}
          </Field>
          <Field label="Password">
            {(id) => <Input id={id} name="password" type="password" autoComplete="current-password" required />}
          </Field>
          <ErrorNote error={error} />
          <Button type="submit" disabled={busy} className="w-full">
            {busy ? <Spinner /> : null}
            Sign in
          </Button>
        </form>
      </Card>
    </div>
  );
}
