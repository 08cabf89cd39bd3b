import type { Metadata, Viewport } from "next";
import { getServerSession } from "next-auth";
import type { ReactNode } from "react";
import { AppHeader } from "@/components/shell/AppHeader";
import { authOptions } from "@/server/auth";
import "./globals.css";
import { Providers } from "./providers";

export const metadata: Metadata = {
  title: "POTENTIA",
  description: "A real-time collaborative block canvas",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1, themeColor: "#ffffff" };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const session = await getServerSession(authOptions);
  return (
    <html lang="en">
      <body>
        <Providers session={session}>
          {session ? <AppHeader name={session.user.name} email={session.user.email} /> : null}
          {children}
        </Providers>
      </body>
    </html>
  );
}
