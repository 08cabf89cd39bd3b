import type { DefaultSession } from "next-auth";

declare module "next-auth" {
  interface Session {
    user: { id: string; name: string; email: string } & Omit<DefaultSession["user"], "name" | "email">;
    /** The API's access token (AUTH-4); absent once the session can no longer be refreshed. */
    accessToken?: string;
    accessTokenExpiresAt?: number;
    error?: "RefreshFailed";
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    uid?: string;
    api?: { accessToken: string; refreshToken: string; expiresAt: number };
    error?: "RefreshFailed";
  }
}
