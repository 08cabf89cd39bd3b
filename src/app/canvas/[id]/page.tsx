import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { getServerSession } from "next-auth";
import { CanvasEditor } from "@/components/editor/CanvasEditor";
import { authOptions } from "@/server/auth";

export const metadata: Metadata = { title: "Canvas · POTENTIA" };

/** UI-2: the canvas editor. Signed-out visitors go to sign in; the canvas loads in the browser (A1). */
export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const session = await getServerSession(authOptions);
  const { id } = await params;
  if (!session) redirect(`/signin?callbackUrl=${encodeURIComponent(`/canvas/${id}`)}`);
  return <CanvasEditor canvasId={id} />;
}
