import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { getServerSession } from "next-auth";
import { CanvasList } from "@/components/canvases/CanvasList";
import { authOptions } from "@/server/auth";

export const metadata: Metadata = { title: "Your canvases · POTENTIA" };

/** UI-1: the canvas list. Signed-out visitors go to sign in; the list itself loads in the browser. */
export default async function Page() {
  const session = await getServerSession(authOptions);
  if (!session) redirect("/signin");
  return (
    <main>
      <CanvasList userId={session.user.id} />
    </main>
  );
}
