"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { signIn } from "next-auth/react";
import { type FormEvent, useState } from "react";
import styles from "./AuthForm.module.css";

/** Where to go after signing in: only a path on this site (no open redirect). */
function safeNext(next: string | null): string {
  return next?.startsWith("/") && !next.startsWith("//") ? next : "/";
}

/** UI-1 / AUTH-4: sign in, or create an account and sign in, through next-auth's credentials. */
export function AuthForm({ mode }: { mode: "signin" | "signup" }) {
  const router = useRouter();
  const params = useSearchParams();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signup = mode === "signup";

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    const result = await signIn("credentials", {
      redirect: false,
      mode: signup ? "register" : "login",
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
      name: String(form.get("name") ?? ""),
    });
    if (!result || result.error) {
      setBusy(false);
      setError(
        !result || result.error === "CredentialsSignin"
          ? "Sign-in failed. Check your email and password."
          : result.error,
      );
      return;
    }
    router.replace(safeNext(params.get("next")));
    router.refresh();
  }

  return (
    <main className={styles.page}>
      <form className={styles.card} onSubmit={submit} noValidate={false}>
        <p className={styles.brand}>POTENTIA</p>
        <h1 className={styles.title}>{signup ? "Create your account" : "Sign in"}</h1>
        {error ? (
          <p role="alert" className="alert">
            {error}
          </p>
        ) : null}
        {signup ? (
          <label className={styles.field}>
            <span>Name</span>
            <input className="input" name="name" autoComplete="name" required maxLength={100} />
          </label>
        ) : null}
        <label className={styles.field}>
          <span>Email</span>
          <input className="input" name="email" type="email" autoComplete="email" required />
        </label>
        <label className={styles.field}>
          <span>Password</span>
          <input
            className="input"
            name="password"
            type="password"
            autoComplete={signup ? "new-password" : "current-password"}
            minLength={signup ? 8 : undefined}
            required
          />
          {signup ? <small className={styles.hint}>At least 8 characters.</small> : null}
        </label>
        <button className="button" type="submit" disabled={busy}>
          {signup ? "Create account" : "Sign in"}
        </button>
        <p className={styles.switch}>
          {signup ? (
            <>
              Already have an account? <Link href="/signin">Sign in</Link>
            </>
          ) : (
            <>
              New here? <Link href="/signup">Create an account</Link>
            </>
          )}
        </p>
      </form>
    </main>
  );
}
