import {
  addBlock,
  blockText,
  expectAllSent,
  newUser,
  openEditor,
  openShareDialog,
  ownerWithCanvas,
  signUp,
  typeInto,
} from "./support/app";
import { expect, test } from "./support/fixtures";

/**
 * UI-3 / UI-1: a writer whose role becomes reader while editing keeps a live, read-only canvas —
 * the refused write is kept on the device and reported, nothing else is lost or closed.
 */
test("UI-3: a writer turned reader mid-edit stays live and read-only, the refused edit kept and counted", async ({
  users,
}) => {
  const owner = newUser("Olga");
  const member = newUser("Wim");
  const title = `Roles ${owner.email.split("@")[0]}`;
  const { page: a } = await users.open("A");
  const { page: b } = await users.open("B");
  await signUp(b, member);
  const canvasId = await ownerWithCanvas(a, owner, title, { email: member.email, role: "writer" });

  await openEditor(a, canvasId);
  await addBlock(a);
  await typeInto(a, 1, "shared");
  await expectAllSent(a);
  await openEditor(b, canvasId);
  await expect(blockText(b, 1)).toHaveValue("shared", { timeout: 15_000 });
  await typeInto(b, 1, " +w");
  await expectAllSent(b);
  await expect(blockText(a, 1)).toHaveValue("shared +w", { timeout: 15_000 });

  // A makes B a reader while B's editor is open (the socket stays: B is still a member).
  await a.goto("/");
  const dialog = await openShareDialog(a, title);
  const roleOfB = dialog.getByRole("combobox", { name: `Role for ${member.email}`, exact: true });
  await roleOfB.selectOption("reader");
  await expect(
    dialog.getByRole("status").filter({ hasText: `${member.email} is now reader.` }),
  ).toBeVisible();

  // B's next edit is refused by the server: B sees why, the edit is kept (counted), the canvas
  // turns read-only and stays live.
  await typeInto(b, 1, "!");
  await expect(b.getByRole("alert").filter({ hasText: "You can no longer edit this canvas" })).toBeVisible({
    timeout: 15_000,
  });
  await expect(b.getByRole("alert").filter({ hasText: "1 unsent edit is kept" })).toBeVisible();
  await expect(blockText(b, 1)).toHaveAttribute("readonly", "");
  await expect(b.getByRole("button", { name: "Add block" })).toHaveCount(0);
  await expect(b.getByRole("status", { name: "Connection" })).toContainText("Live");

  await openEditor(a, canvasId);
  await typeInto(a, 1, " and more");
  await expectAllSent(a);
  // Still live for B: A's edit arrives after the role change (B's kept "!" is shown on top of it).
  await expect
    .poll(async () => (await blockText(b, 1).inputValue()).replace("!", ""), { timeout: 15_000 })
    .toBe("shared +w and more");
  await expect(blockText(a, 1)).toHaveValue("shared +w and more");
});
