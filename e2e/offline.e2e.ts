import {
  addBlock,
  connection,
  expectAllSent,
  newUser,
  openEditor,
  ownerWithCanvas,
  readBlocks,
  signIn,
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
