import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../../tests/support/apiHarness";
import { DEMO_EMAIL, DEMO_PASSWORD, ensureDemo } from "./demo";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.stop());

it("CMD-1: the single-node demo account and canvas are created once and can sign in", async () => {
  const deps = api.app.deps;
  const first = await ensureDemo(deps, deps.auth);
  const second = await ensureDemo(deps, deps.auth);
  expect(second.canvasId).toBe(first.canvasId);
  const login = await api.anonymous("/api/v1/auth/login", {
    method: "POST",
    json: { email: DEMO_EMAIL, password: DEMO_PASSWORD },
  });
  expect(login.status).toBe(200);
  const { access_token } = (await login.json()) as { access_token: string };
  const res = await api.anonymous(`/api/v1/canvas/${first.canvasId}`, {
    headers: { authorization: `Bearer ${access_token}` },
  });
  expect(res.status).toBe(200);
  // The first time, the canvas gets one welcome block of each type, in order.
  const body = (await res.json()) as { blocks: { type: string; y_order: string }[] };
  const types = [...body.blocks].sort((a, b) => (a.y_order < b.y_order ? -1 : 1)).map((b) => b.type);
  expect(types).toEqual(["heading", "text", "todo", "quote", "code", "divider", "text"]);
});
