"use client";

import Link from "next/link";
import { signOut } from "next-auth/react";
import { useState } from "react";
import { forgetAccessToken } from "@/lib/accessToken";
import styles from "./AppHeader.module.css";

/** The signed-in frame: product name (home), who is signed in, sign out. */
export function AppHeader({ name, email }: { name: string; email: string }) {
  const [leaving, setLeaving] = useState(false);
  return (
    <header className={styles.header}>
      <Link href="/" className={styles.brand}>
        POTENTIA
      </Link>
      <div className={styles.account}>
        <span className={styles.name} title={email}>
          {name}
        </span>
        <button
          type="button"
          className="button secondary"
          disabled={leaving}
          onClick={() => {
            setLeaving(true);
            forgetAccessToken();
            void signOut({ callbackUrl: "/signin" });
          }}
        >
          Sign out
        </button>
      </div>
    </header>
  );
}
