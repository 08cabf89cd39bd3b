import {
  addBlock,
  connection,
  expectAllSent,
  newUser,
  openEditor,
  ownerWithCanvas,
  readBlocks,
  signIn,
  signUp,
  typeInto,
} from "./support/app";
import { expect, test } from "./support/fixtures";
import { SocketGate } from "./support/socketGate";

test("UI-6 UI-3: unsent edits survive a reload (pending queue in localStorage) and reach the server later", async ({
  page,
  users,
  consoleGuard,
}) => {
  // The REST fallback's aborted mutate requests are logged by Chromium itself.
  consoleGuard.allowConsole(/Failed to load resource: net::ERR_FAILED/);
  const alice = newUser("Alice");
  const canvasId = await ownerWithCanvas(page, alice, `Offline ${alice.email.slice(6, 14)}`);
  const gate = await SocketGate.install(page);
  await openEditor(page, canvasId);
  await addBlock(page);
  await expectAllSent(page);

  // Nothing of A's writes reaches the server: held on the socket, refused over REST.
  gate.hold();
  let blocked = true;
  await page.route("**/api/v1/canvas/*/mutate", (route) => (blocked ? route.abort() : route.fallback()));
  await typeInto(page, 1, "kept across reload");
  await expect(connection(page)).toContainText(/[1-9]\d* unsent/);

  await page.reload();
  await expect(connection(page)).toContainText(/[1-9]\d* unsent/, { timeout: 20_000 });
  await expect.poll(async () => (await readBlocks(page))[0]?.text).toBe("kept across reload");

  // Unblock: the queued ops go out and the server has the text.
  blocked = false;
  gate.release();
  await expectAllSent(page, 30_000);

  const { page: fresh } = await users.open("fresh");
  await signIn(fresh, alice);
  await expect(fresh.getByRole("heading", { name: "Your canvases" })).toBeVisible({ timeout: 20_000 });
  await openEditor(fresh, canvasId);
  await expect.poll(async () => (await readBlocks(fresh))[0]?.text).toBe("kept across reload");
});

test("UI-3: the badge says Offline within 2 s of losing the network and Live within 2 s of its return; peers stop showing the user as online", async ({
  users,
  consoleGuard,
}) => {
  // While the network is down Chromium itself reports what fails (the app retries nothing then,
  // but next-auth refetches its session on focus).
  consoleGuard.allowConsole(/ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed/);
  const alice = newUser("Alice");
  const bob = newUser("Bob");
  const { page: b } = await users.open("B");
  const { context: aContext, page: a } = await users.open("A");
  await signUp(b, bob);
  const canvasId = await ownerWithCanvas(a, alice, `Network ${alice.email.slice(6, 14)}`, {
    email: bob.email,
    role: "writer",
  });
  await openEditor(a, canvasId);
  await openEditor(b, canvasId);
  await addBlock(a);
  await typeInto(a, 1, "before");
  await expectAllSent(a);
  const onlineAtB = b.getByRole("list", { name: "Online now" }).getByRole("listitem", { name: alice.name });
  await expect(onlineAtB).toBeVisible({ timeout: 15_000 });

  // The network goes away (navigator.onLine false, the socket can no longer send or receive).
  await aContext.setOffline(true);
  await expect(connection(a)).toContainText("Offline", { timeout: 2_000 });
  await typeInto(a, 1, " offline");
  await expect(connection(a)).toContainText(/Offline\W*[1-9]\d* unsent/);
  // The server drops the socket it no longer hears from: Bob stops seeing Alice online.
  await expect(onlineAtB).toBeHidden({ timeout: 15_000 });
  // It stays Offline however long it lasts: no "Polling" or "Live" while nothing gets through.
  await a.waitForTimeout(3_000);
  await expect(connection(a)).toContainText("Offline");

  // The network returns: Live again at once (no backoff), the edit goes out, Bob sees both.
  await aContext.setOffline(false);
  await expect(connection(a)).toContainText("Live", { timeout: 2_000 });
  await expectAllSent(a);
  await expect.poll(async () => (await readBlocks(b))[0]?.text, { timeout: 15_000 }).toBe("before offline");
  await expect(onlineAtB).toBeVisible({ timeout: 15_000 });
});
