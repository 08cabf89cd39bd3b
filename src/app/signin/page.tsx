import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { getServerSession } from "next-auth";
import { Suspense } from "react";
import { AuthForm } from "@/components/shell/AuthForm";
import { authOptions } from "@/server/auth";

export const metadata: Metadata = { title: "Sign in · POTENTIA" };

export default async function Page() {
  if (await getServerSession(authOptions)) redirect("/");
  return (
    <Suspense>
      <AuthForm mode="signin" />
    </Suspense>
  );
}
