import {
  addBlock,
  blockList,
  connection,
  expectAllSent,
  expectConverged,
  newUser,
  openEditor,
  ownerWithCanvas,
  readBlocks,
  signUp,
  typeInto,
} from "./support/app";
import { expect, screen, test } from "./support/fixtures";
import { SocketGate } from "./support/socketGate";

// The engine probes the socket again every socketRetryMs (30 s by default) once it polls.
test.setTimeout(150_000);

test("UI-6 UI-3: without a socket the editor polls (H2 + H4) both ways, and goes Live again when the socket returns", async ({
  users,
  consoleGuard,
}, testInfo) => {
  // Chromium itself reports the refused sockets; that is the point of this test.
  consoleGuard.allowConsole(/WebSocket connection to .*\/ws\/canvas\/.* failed/);
  const alice = newUser("Alice");
  const bob = newUser("Bob");
  const { page: a } = await users.open("A");
  const { page: b } = await users.open("B");
  await signUp(b, bob);
  const canvasId = await ownerWithCanvas(a, alice, `Fallback ${alice.email.slice(6, 14)}`, {
    email: bob.email,
    role: "writer",
  });
  await openEditor(b, canvasId);
  await addBlock(b);
  await addBlock(b);
  await expectAllSent(b);

  const gate = await SocketGate.install(a, "refuse");
  await a.goto(`/canvas/${canvasId}`);
  await expect(blockList(a).locator("[data-block-id]")).toHaveCount(2, { timeout: 20_000 });
  await expect(connection(a)).toContainText("Polling", { timeout: 30_000 });
  expect(gate.opened, "the engine tried the socket before falling back").toBeGreaterThanOrEqual(1);
  await screen(a, testInfo, "polling-badge");

  // A's edits go over REST H2 and reach B (on the socket) …
  await typeInto(a, 1, "sent over REST");
  await expectAllSent(a);
  await expect.poll(async () => (await readBlocks(b))[0]?.text, { timeout: 15_000 }).toBe("sent over REST");
  // … and B's edits reach A through H4 polling.
  await typeInto(b, 2, "seen by polling");
  await expect.poll(async () => (await readBlocks(a))[1]?.text, { timeout: 15_000 }).toBe("seen by polling");
  await expect(connection(a)).toContainText("Polling");

  // The socket works again: the engine's probe finds it and the badge returns to Live.
  gate.allow();
  await expect(connection(a)).toContainText("Live", { timeout: 45_000 });
  await typeInto(a, 1, " and live");
  await expectAllSent(a);
  const blocks = await expectConverged(a, b);
  expect(blocks.map((x) => x.text)).toEqual(["sent over REST and live", "seen by polling"]);
});
