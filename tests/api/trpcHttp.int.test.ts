/**
 * The web app's tRPC-over-HTTP endpoint (`/trpc`, docs/UI.md): the real @trpc/client against the
 * real server, with the same bearer auth and access checks as the REST routes.
 */
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRouter } from "../../server/routers";
import { startTestApi, type TestApi } from "../support/apiHarness";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.stop();
});

const clientFor = (token: string | null) =>
  createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${api.url}/trpc`,
        headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
      }),
    ],
  });

describe("UI-1 tRPC over HTTP for the web app", () => {
  it("creates, lists and renames a canvas as its owner, batched", async () => {
    const owner = await api.user("Owner");
    const client = clientFor(owner.token);
    const created = await client.canvas.create.mutate({ title: "Plans" });
    const id = created.canvas_id;
    await client.canvas.update.mutate({ canvas_id: id, title: "Plans v2" });
    const [list, one] = await Promise.all([
      client.canvas.list.query({}),
      client.sync.canvas.query({ canvas_id: id }),
    ]);
    expect(list.canvases.map((c) => [c.canvas_id, c.title, c.role])).toContainEqual([
      id,
      "Plans v2",
      "owner",
    ]);
    expect(one.canvas.title).toBe("Plans v2");
  });

  it("refuses anonymous callers (UNAUTHORIZED) and hides other people's canvases (NOT_FOUND)", async () => {
    const owner = await api.user("Owner");
    const stranger = await api.user("Stranger");
    const id = await api.canvas(owner, "Private");
    const anon = clientFor(null).canvas.list.query({});
    await expect(anon).rejects.toBeInstanceOf(TRPCClientError);
    await expect(anon).rejects.toMatchObject({ data: { code: "UNAUTHORIZED" } });
    await expect(clientFor(stranger.token).sync.canvas.query({ canvas_id: id })).rejects.toMatchObject({
      data: { code: "NOT_FOUND" },
    });
    // The REST side is untouched by the new prefix.
    expect((await owner.fetch(`/api/v1/canvas/${id}`)).status).toBe(200);
  });
});
