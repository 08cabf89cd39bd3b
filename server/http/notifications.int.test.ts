import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../../tests/support/apiHarness";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ RATE_LIMITS: '{"A7":{"points":100,"duration":1}}' });
});
afterAll(async () => api?.stop());

/** Reads SSE events from a streaming fetch response until `count` events arrived. */
async function readEvents(
  res: Response,
  count: number,
  timeoutMs = 10_000,
): Promise<{ event: string; data: unknown }[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; data: unknown }[] = [];
  let buffer = "";
  // A read blocks until the next write (the heartbeat is 25 s away): cancelling ends it.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void reader.cancel();
  }, timeoutMs);
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
      end = buffer.indexOf("\n\n");
    }
  }
  clearTimeout(timer);
  if (timedOut) throw new Error(`timed out with ${JSON.stringify(events)}`);
  await reader.cancel();
  return events;
}

describe("notifications stream (RT-8)", () => {
  it("RT-8: a user hears being added, their role changing, and the canvas being deleted", async () => {
    const owner = await api.user("Owner");
    const bob = await api.user("Bob");
    const canvas = await api.canvas(owner);
    const [row] = await api.app.deps.db.query<{ email: string }>(
      "SELECT email FROM users WHERE user_id = $1",
      [bob.userId],
    );
    const stream = await api.anonymous(`/api/v1/notifications/stream?token=${bob.token}`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    // A compressing hop (the web app's proxy) must pass events through as they come.
    expect(stream.headers.get("cache-control")).toMatch(/\bno-transform\b/);
    const events = readEvents(stream, 3);
    await new Promise((r) => setTimeout(r, 100));
    const added = await owner.fetch(`/api/v1/canvas/${canvas}/members`, {
      method: "POST",
      json: { email: row!.email, role: "reader" },
    });
    expect(added.status).toBe(201);
    // UI-10: until Bob signs in again, the owner sees (and changes) the invitation.
    const { invitation_id } = (await added.json()) as { invitation_id: string };
    expect(
      (
        await owner.fetch(`/api/v1/canvas/${canvas}/invitations/${invitation_id}`, {
          method: "PATCH",
          json: { role: "writer" },
        })
      ).status,
    ).toBe(200);
    expect((await owner.fetch(`/api/v1/canvas/${canvas}`, { method: "DELETE" })).status).toBe(204);
    const got = await events;
    expect(got.map((e) => e.event)).toEqual(["member_added", "member_changed", "canvas_deleted"]);
    expect(got[1]!.data).toMatchObject({ canvas_id: canvas, user_id: bob.userId, role: "writer" });
  });

  it("RT-8: every member hears a rename (A6) with the new title, so an open editor can follow it", async () => {
    const owner = await api.user("Owner");
    const bob = await api.user("Bob");
    const outsider = await api.user("Outsider");
    const canvas = await api.canvas(owner, "Before");
    await api.member(canvas, bob, "reader");
    const stream = await api.anonymous("/api/v1/notifications/stream", {
      headers: { authorization: `Bearer ${bob.token}` },
    });
    const outsiderStream = await api.anonymous("/api/v1/notifications/stream", {
      headers: { authorization: `Bearer ${outsider.token}` },
    });
    const events = readEvents(stream, 1);
    const outsiderEvents = readEvents(outsiderStream, 1, 1_500).catch(() => []);
    await new Promise((r) => setTimeout(r, 100));
    const renamed = await owner.fetch(`/api/v1/canvas/${canvas}`, {
      method: "PATCH",
      json: { title: "After" },
    });
    expect(renamed.status).toBe(200);
    const { updated_at } = (await renamed.json()) as { updated_at: string };
    const [got] = await events;
    expect(got).toEqual({
      event: "canvas_updated",
      data: { type: "canvas_updated", canvas_id: canvas, title: "After", updated_at },
    });
    // Only members hear it.
    expect(await outsiderEvents).toEqual([]);
  });

  it("RT-8: the stream needs a valid token", async () => {
    expect((await api.anonymous("/api/v1/notifications/stream")).status).toBe(401);
    const bad = await api.anonymous("/api/v1/notifications/stream", {
      headers: { authorization: "Bearer nope" },
    });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");
  });
});
