"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { TRPCClientError } from "@trpc/client";
import type { Session } from "next-auth";
import { SessionProvider, signOut, useSession } from "next-auth/react";
import { type ReactNode, useEffect, useState } from "react";
import { forgetAccessToken, rememberAccessToken } from "@/lib/accessToken";
import { createTrpcClient, trpc } from "@/lib/api";

/** Keeps the token cache in step with the session; a session that can no longer refresh ends. */
function SessionWatcher() {
  const { data } = useSession();
  useEffect(() => {
    if (data?.error === "RefreshFailed") {
      forgetAccessToken();
      void signOut({ callbackUrl: "/signin" });
      return;
    }
    rememberAccessToken(data?.accessToken, data?.accessTokenExpiresAt);
  }, [data]);
  return null;
}

function httpStatus(error: unknown): number {
  return error instanceof TRPCClientError
    ? ((error.data as { httpStatus?: number } | undefined)?.httpStatus ?? 0)
    : 0;
}

/** 429 (API-2) is retried after the limit's window; other 4xx answers are final; else two more tries. */
function retry(failureCount: number, error: unknown): boolean {
  const status = httpStatus(error);
  if (status === 429) return failureCount < 4;
  if (status >= 400 && status < 500) return false;
  return failureCount < 2;
}

function retryDelay(failureCount: number, error: unknown): number {
  // The per-user limits of reads are per second (A4 2/s): the next window is at most 1 s away.
  if (httpStatus(error) === 429) return 1_100;
  return Math.min(8_000, 500 * 2 ** failureCount);
}

export function Providers({ children, session }: { children: ReactNode; session: Session | null }) {
  const [queryClient] = useState(
    () =>
      new QueryClient({
        defaultOptions: { queries: { retry, retryDelay, staleTime: 5_000 }, mutations: { retry: false } },
      }),
  );
  const [trpcClient] = useState(createTrpcClient);
  return (
    // Refetching the session every 4 minutes keeps the 15-minute access token fresh (AUTH-4).
    <SessionProvider session={session} refetchInterval={240} refetchOnWindowFocus>
      <SessionWatcher />
      <trpc.Provider client={trpcClient} queryClient={queryClient}>
        <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
      </trpc.Provider>
    </SessionProvider>
  );
}
