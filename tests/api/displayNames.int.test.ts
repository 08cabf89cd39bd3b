/**
 * Issue 9: display names never carry bidi controls or invisible characters — cleaned when an
 * account is created, and again wherever a name is relayed to others (members list, A8, presence
 * and join events, the session answer), so a name stored before the rule is shown clean too.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { DEFAULT_RATE_LIMITS } from "../../server/env";
import { startTestApi, type TestApi } from "../support/apiHarness";

const UNLIMITED = JSON.stringify(
  Object.fromEntries(Object.keys(DEFAULT_RATE_LIMITS).map((id) => [id, { points: 1_000_000, duration: 1 }])),
);
// Right-to-left override + "nnA" shows as "Ann"; an isolate hides what follows it from layout.
const SPOOF = "\u202EnnA\u2066\u200B";
const CLEAN = "nnA";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ RATE_LIMITS: UNLIMITED });
});
afterAll(async () => api?.stop());

function register(name: string) {
  return api.anonymous("/api/v1/auth/register", {
    method: "POST",
    json: { email: `names-${randomUUID()}@example.test`, password: "correct horse battery", name },
  });
}

describe("display names", () => {
  it("API-3: registration stores the name without bidi controls or invisible characters", async () => {
    const res = await register(` ${SPOOF} `);
    expect(res.status).toBe(201);
    const session = (await res.json()) as { user: { user_id: string; name: string } };
    expect(session.user.name).toBe(CLEAN);
    const [row] = await api.app.deps.db.query<{ name: string }>("SELECT name FROM users WHERE user_id = $1", [
      session.user.user_id,
    ]);
    expect(row?.name).toBe(CLEAN);
  });

  it("API-3: a name of nothing but invisible characters is refused with 400, and no account is made", async () => {
    const before = await api.app.deps.db.query<{ n: number }>("SELECT count(*)::int AS n FROM users");
    const res = await register("\u202E\u2066\u200B\u3164");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_input" });
    const after = await api.app.deps.db.query<{ n: number }>("SELECT count(*)::int AS n FROM users");
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it("API-3: a name stored before the rule is relayed clean: members list, A8, presence and join events", async () => {
    const owner = await api.user("Owner");
    const legacy = await api.user(SPOOF); // straight into the database
    const canvasId = await api.canvas(owner);
    await api.member(canvasId, legacy, "writer");

    const members = (await (await owner.fetch(`/api/v1/canvas/${canvasId}/members`)).json()) as {
      members: { user_id: string; name: string }[];
    };
    expect(members.members.find((m) => m.user_id === legacy.userId)?.name).toBe(CLEAN);
    const perms = (await (await owner.fetch(`/api/v1/canvas/${canvasId}/permissions`)).json()) as {
      users: { user_id: string; name: string }[];
    };
    expect(perms.users.find((u) => u.user_id === legacy.userId)?.name).toBe(CLEAN);

    const relayed: { type: string; name?: string; users?: { name: string }[] }[] = [];
    const unsubscribe = await api.app.deps.bus.subscribe(`presence:${canvasId}`, (m) =>
      relayed.push(JSON.parse(m)),
    );
    try {
      const presence = await legacy.fetch(`/api/v1/canvas/${canvasId}/presence`, {
        method: "POST",
        json: { cursor: { x: 1, y: 2 } },
      });
      expect(presence.status).toBe(200);
      const ws = new WebSocket(
        `${api.url.replace("http", "ws")}/ws/canvas/${canvasId}?token=${legacy.token}`,
      );
      await new Promise((resolve, reject) => {
        ws.once("open", resolve);
        ws.once("error", reject);
      });
      ws.send(JSON.stringify({ id: 1, method: "subscription", params: { path: "sync.events", input: {} } }));
      for (let i = 0; i < 200 && !relayed.some((e) => e.type === "join"); i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      ws.close();
      // A presence call's bus message (`update`; sockets get it batched, RT-10).
      expect(relayed.find((e) => e.type === "update")?.name).toBe(CLEAN);
      expect(relayed.find((e) => e.type === "join")?.users?.map((u) => u.name)).toEqual([CLEAN]);
    } finally {
      await unsubscribe();
    }
  });
});
