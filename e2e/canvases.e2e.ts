import type { Locator, Page } from "@playwright/test";
import {
  addBlock,
  addMember,
  blockList,
  blockText,
  canvasItem,
  canvasList,
  createCanvas,
  expectAllSent,
  gotoList,
  newUser,
  openEditor,
  openShareDialog,
  ownerWithCanvas,
  signUp,
  typeInto,
} from "./support/app";
import { expect, screen, test } from "./support/fixtures";

/**
 * UI-1 in Chromium: the canvas list (empty state, create, role and "Edited …"), rename, sharing
 * (members and roles as they reach the member's own list and editor), owner-only controls,
 * delete, and sign-out — all through the accessible names of docs/UI.md.
 */

/** The list's empty state (UI.md names no element for it: the sentence the list shows). */
function emptyState(page: Page): Locator {
  return page.getByText(/No canvases yet/);
}

/** An alert that says something (Next's route announcer is an empty `role="alert"` too). */
function sayingAlert(scope: Page | Locator): Locator {
  return scope.getByRole("alert").filter({ hasText: /\w+\s+\w+/ });
}

function ownerButtons(page: Page, title: string): Locator[] {
  return ["Rename", "Share", "Delete"].map((verb) =>
    page.getByRole("button", { name: `${verb} ${title}`, exact: true }),
  );
}

/** A title unique to this run: the user's random id keeps parallel workers apart. */
function titleFor(prefix: string, email: string): string {
  return `${prefix} ${email.split("@")[0]?.split("-")[1] ?? email}`;
}

test("UI-1: empty list, create, owner role and Edited; rename (Escape cancels) reaches a member's list and editor; owner-only controls; sign out", async ({
  users,
}, testInfo) => {
  const owner = newUser("Owen");
  const member = newUser("Wren");
  const title = titleFor("Plans", owner.email);
  const renamed = `${title} renamed`;
  const { page: a } = await users.open("A");
  const { page: b } = await users.open("B");
  await signUp(b, member);

  // A new user: no canvases, the empty state, no list.
  await signUp(a, owner);
  await expect(emptyState(a)).toBeVisible({ timeout: 15_000 });
  await expect(canvasList(a)).toHaveCount(0);

  // Create: the app opens the new canvas, its title as the editor's heading.
  const canvasId = await createCanvas(a, title);
  await expect(a).toHaveURL(new RegExp(`/canvas/${canvasId}$`));
  await expect(a.getByRole("heading", { level: 1, name: title, exact: true })).toBeVisible();

  // Back on the list: one item, a link to the canvas, role owner, "Edited …".
  await gotoList(a, title);
  await expect(emptyState(a)).toHaveCount(0);
  await expect(canvasList(a).getByRole("listitem")).toHaveCount(1);
  const item = canvasItem(a, title);
  await expect(item.getByRole("link", { name: title, exact: true })).toHaveAttribute(
    "href",
    `/canvas/${canvasId}`,
  );
  await expect(item).toContainText("owner");
  await expect(item).toContainText(/Edited (just now|\d+ \w+ ago)/);
  for (const button of ownerButtons(a, title)) await expect(button).toBeVisible();
  await screen(a, testInfo, "canvas-list-owner");

  // Share with B as a writer; B's list shows it with that role and none of the owner's controls.
  const dialog = await openShareDialog(a, title);
  await addMember(dialog, member.email, "writer");
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(dialog).toBeHidden();
  await gotoList(b, title);
  const memberItem = canvasItem(b, title);
  await expect(memberItem).toContainText("writer");
  await expect(memberItem).toContainText(/Edited /);
  for (const button of ownerButtons(b, title)) await expect(button).toHaveCount(0);
  await expect(memberItem.getByRole("button")).toHaveCount(0);

  // Rename, then Escape: the edit is dropped, the title stays.
  await item.getByRole("button", { name: `Rename ${title}`, exact: true }).click();
  const titleBox = a.getByRole("textbox", { name: `Title for ${title}`, exact: true });
  await expect(titleBox).toBeFocused();
  await expect(titleBox).toHaveValue(title);
  await titleBox.fill("Not this title");
  await titleBox.press("Escape");
  await expect(titleBox).toHaveCount(0);
  await expect(item.getByRole("link", { name: title, exact: true })).toBeVisible();
  await expect(a.getByRole("link", { name: "Not this title" })).toHaveCount(0);

  // Rename and Save: the list shows the new title (and the owner's controls follow it).
  await a.getByRole("button", { name: `Rename ${title}`, exact: true }).click();
  await expect(titleBox).toHaveValue(title);
  await titleBox.fill(renamed);
  await a.getByRole("button", { name: "Save", exact: true }).click();
  await expect(canvasItem(a, renamed)).toBeVisible({ timeout: 15_000 });
  await expect(titleBox).toHaveCount(0);
  await expect(a.getByRole("link", { name: title, exact: true })).toHaveCount(0);
  await expect(canvasList(a).getByRole("listitem")).toHaveCount(1);
  await expect(a.getByRole("button", { name: `Rename ${renamed}`, exact: true })).toBeVisible();
  // The rename survives a reload (it is the server's title, not a local edit).
  await gotoList(a, renamed);
  await expect(a.getByRole("link", { name: title, exact: true })).toHaveCount(0);

  // The member sees the new title after a reload, in the list and as the editor's heading.
  await b.reload();
  await expect(canvasItem(b, renamed)).toBeVisible({ timeout: 15_000 });
  await expect(b.getByRole("link", { name: title, exact: true })).toHaveCount(0);
  await canvasItem(b, renamed).getByRole("link", { name: renamed, exact: true }).click();
  await expect(b).toHaveURL(new RegExp(`/canvas/${canvasId}$`));
  await expect(b.getByRole("heading", { level: 1, name: renamed, exact: true })).toBeVisible({
    timeout: 20_000,
  });
  // A writer's editor has the editing controls (the owner-only ones are the list's, above).
  await expect(b.getByRole("button", { name: "Add block" })).toBeVisible();

  // And the owner's editor heading too.
  await openEditor(a, canvasId);
  await expect(a.getByRole("heading", { level: 1, name: renamed, exact: true })).toBeVisible();

  // Sign out from the header: back to /signin, and the list is no longer reachable.
  await a.getByRole("button", { name: "Sign out" }).click();
  await expect(a).toHaveURL(/\/signin/, { timeout: 15_000 });
  await expect(a.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await a.goto("/");
  await expect(a).toHaveURL(/\/signin/);
  await expect(a.getByRole("heading", { name: "Your canvases" })).toHaveCount(0);
});

test("UI-1 RT-8: a rename reaches a member's open editor without a reload: its heading and the window title follow", async ({
  users,
}) => {
  const owner = newUser("Owen");
  const member = newUser("Wren");
  const title = titleFor("Trip", owner.email);
  const renamed = `${title} (moved to May)`;
  const { page: a } = await users.open("A");
  const { page: b } = await users.open("B");
  await signUp(b, member);
  const canvasId = await ownerWithCanvas(a, owner, title, { email: member.email, role: "reader" });

  // The member's editor is open (and has its notification stream, RT-8) before the rename.
  const stream = b.waitForResponse((r) => r.url().endsWith("/api/v1/notifications/stream") && r.ok());
  await openEditor(b, canvasId);
  await stream;
  await expect(b.getByRole("heading", { level: 1, name: title, exact: true })).toBeVisible();
  await expect(b).toHaveTitle(`${title} · POTENTIA`);

  await a.getByRole("button", { name: `Rename ${title}`, exact: true }).click();
  await a.getByRole("textbox", { name: `Title for ${title}`, exact: true }).fill(renamed);
  await a.getByRole("button", { name: "Save", exact: true }).click();
  await expect(canvasItem(a, renamed)).toBeVisible({ timeout: 15_000 });

  await expect(b.getByRole("heading", { level: 1, name: renamed, exact: true })).toBeVisible();
  await expect(b).toHaveTitle(`${renamed} · POTENTIA`);
  expect(b.url()).toMatch(new RegExp(`/canvas/${canvasId}$`));
});

test("UI-1: share — an unknown email is invited like any other (UI-10); a reader cannot edit; made writer, edits reach the owner; removed, the canvas is gone for them", async ({
  users,
  consoleGuard,
}, testInfo) => {
  // Provoked on purpose: A1 for a canvas B was removed from (404). Chromium logs the response.
  consoleGuard.allowConsole(/status of 404 .*\/api\/v1\/canvas\/[^/\s]+(\s|\)|$)/);
  const owner = newUser("Ann");
  const member = newUser("Ben");
  const title = titleFor("Shared", owner.email);
  const { page: a } = await users.open("A");
  const { page: b } = await users.open("B");
  await signUp(b, member);

  // A canvas with one block of text, so there is something for the reader to try to change.
  await signUp(a, owner);
  const canvasId = await createCanvas(a, title);
  await addBlock(a);
  await typeInto(a, 1, "hello");
  await expectAllSent(a);
  await gotoList(a, title);

  // Unknown email (UI-10): invited like anyone, no alert that would tell whether it has an
  // account; it is listed as an invitation, and withdrawing it leaves only the owner.
  const dialog = await openShareDialog(a, title);
  const members = dialog.getByRole("list", { name: "Members" });
  await expect(members.getByRole("listitem")).toHaveCount(1); // the owner
  const stranger = `nobody-${member.email}`;
  await addMember(dialog, stranger, "writer");
  await expect(
    dialog.getByRole("status").filter({ hasText: `Invited ${stranger} as writer.` }),
  ).toBeVisible();
  await expect(sayingAlert(dialog)).toHaveCount(0);
  await expect(members.getByRole("listitem")).toHaveCount(2);
  await dialog.getByRole("button", { name: `Remove ${stranger}`, exact: true }).click();
  await expect(dialog.getByRole("combobox", { name: `Role for ${stranger}` })).toHaveCount(0);
  await expect(members.getByRole("listitem")).toHaveCount(1);

  // B as a reader.
  await addMember(dialog, member.email, "reader");
  await expect(sayingAlert(dialog)).toHaveCount(0);
  await expect(members.getByRole("listitem")).toHaveCount(2);
  await screen(a, testInfo, "share-dialog-reader");
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(dialog).toBeHidden();

  await gotoList(b, title);
  await expect(canvasItem(b, title)).toContainText("reader");
  await canvasItem(b, title).getByRole("link", { name: title, exact: true }).click();
  await expect(b).toHaveURL(new RegExp(`/canvas/${canvasId}$`));
  await expect(blockList(b)).toBeAttached({ timeout: 20_000 });
  await expect(b.getByRole("status", { name: "Connection" })).toContainText("Live", { timeout: 20_000 });
  await expect(blockText(b, 1)).toHaveValue("hello");
  await expect(b.getByRole("button", { name: "Add block" })).toHaveCount(0);
  await expect(b.getByRole("button", { name: "Block options 1" })).toHaveCount(0);
  // Typing into a reader's block changes nothing: not the text, not the blocks.
  await expect(blockText(b, 1)).toHaveAttribute("readonly", "");
  await blockText(b, 1).click();
  await b.keyboard.press("End");
  await b.keyboard.type("xyz");
  await b.keyboard.press("Enter");
  await b.keyboard.press("Backspace");
  await expect(blockText(b, 1)).toHaveValue("hello");
  await expect(blockList(b).locator("[data-block-id]")).toHaveCount(1);
  await expect(b.getByRole("status", { name: "Connection" })).not.toContainText("unsent");

  // A makes B a writer; after a reload B can edit, and A sees B's text.
  const again = await openShareDialog(a, title);
  const roleOfB = again.getByRole("combobox", { name: `Role for ${member.email}`, exact: true });
  await expect(roleOfB).toHaveValue("reader");
  await roleOfB.selectOption("writer");
  await expect(again.getByRole("status").filter({ hasText: `${member.email} is now writer.` })).toBeVisible();
  await expect(roleOfB).toHaveValue("writer");
  await expect(roleOfB).toBeEnabled();

  await b.reload();
  await expect(b.getByRole("status", { name: "Connection" })).toContainText("Live", { timeout: 20_000 });
  await expect(b.getByRole("button", { name: "Add block" })).toBeVisible();
  await expect(blockText(b, 1)).not.toHaveAttribute("readonly");
  await typeInto(b, 1, " from Ben");
  await expectAllSent(b);
  await expect(blockText(b, 1)).toHaveValue("hello from Ben");

  await openEditor(a, canvasId);
  await expect(blockText(a, 1)).toHaveValue("hello from Ben", { timeout: 15_000 });

  // A removes B while B has the canvas open.
  await gotoList(a, title);
  const third = await openShareDialog(a, title);
  await third.getByRole("button", { name: `Remove ${member.email}`, exact: true }).click();
  await expect(third.getByRole("combobox", { name: `Role for ${member.email}` })).toHaveCount(0);
  await expect(third.getByRole("list", { name: "Members" }).getByRole("listitem")).toHaveCount(1);
  await third.getByRole("button", { name: "Close" }).click();
  await expect(third).toBeHidden();

  // B's open editor closes (UI.md "Closed": 4403 → access_removed) and stops offering edits.
  await expect(sayingAlert(b)).toContainText("Your access to this canvas was removed.", {
    timeout: 15_000,
  });
  await expect(b.getByRole("button", { name: "Add block" })).toHaveCount(0);
  await expect(blockText(b, 1)).toHaveAttribute("readonly", "");

  // B's list no longer has it, and its URL is not found for B.
  await b.goto("/");
  await expect(b.getByRole("heading", { name: "Your canvases" })).toBeVisible({ timeout: 20_000 });
  await expect(emptyState(b)).toBeVisible({ timeout: 15_000 });
  await expect(b.getByRole("link", { name: title, exact: true })).toHaveCount(0);
  await b.goto(`/canvas/${canvasId}`);
  await expect(b.getByRole("heading", { level: 1, name: "Canvas not found" })).toBeVisible({
    timeout: 20_000,
  });
  await expect(blockList(b)).toHaveCount(0);
  await expect(b.getByRole("link", { name: "Back to all canvases" })).toBeVisible();
});

test("UI-1: delete — confirm dialog (Cancel keeps it), gone for the owner and the member; the member's open editor shows it deleted", async ({
  users,
  consoleGuard,
}) => {
  // A1 for the deleted canvas answers 404 (A7: "afterwards 404 for everyone"); Chromium logs it.
  consoleGuard.allowConsole(/status of 404 .*\/api\/v1\/canvas\/[^/\s]+(\s|\)|$)/);
  // A fresh owner: A7 allows one delete per user per day.
  const owner = newUser("Dora");
  const member = newUser("Max");
  const title = titleFor("Doomed", owner.email);
  const { page: a } = await users.open("A");
  const { page: b } = await users.open("B");
  await signUp(b, member);
  const canvasId = await ownerWithCanvas(a, owner, title, { email: member.email, role: "writer" });

  await gotoList(b, title);
  await expect(canvasItem(b, title)).toContainText("writer");
  await openEditor(b, canvasId);
  await expect(b.getByRole("heading", { level: 1, name: title, exact: true })).toBeVisible();

  // Cancel keeps the canvas.
  const deleteButton = a.getByRole("button", { name: `Delete ${title}`, exact: true });
  await deleteButton.click();
  const confirm = a.getByRole("dialog", { name: `Delete ${title}?`, exact: true });
  await expect(confirm).toBeVisible();
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(confirm).toBeHidden();
  await expect(canvasItem(a, title)).toBeVisible();

  // Delete for real.
  await deleteButton.click();
  await expect(confirm).toBeVisible();
  await confirm.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(confirm).toBeHidden({ timeout: 15_000 });
  await expect(a.getByRole("link", { name: title, exact: true })).toHaveCount(0);
  await expect(emptyState(a)).toBeVisible();
  // Still gone after a reload (the server's list, not a local removal).
  await gotoList(a);
  await expect(emptyState(a)).toBeVisible({ timeout: 15_000 });
  await expect(a.getByRole("link", { name: title, exact: true })).toHaveCount(0);

  // B's open editor: closed as deleted (UI.md "Closed": 4404 → canvas_deleted), read-only.
  await expect(sayingAlert(b)).toContainText("This canvas was deleted", { timeout: 15_000 });
  await expect(b.getByRole("button", { name: "Add block" })).toHaveCount(0);

  // B's list after a reload no longer has it; reloading its URL says not found.
  await gotoList(b);
  await expect(emptyState(b)).toBeVisible({ timeout: 15_000 });
  await expect(b.getByRole("link", { name: title, exact: true })).toHaveCount(0);
  await b.goto(`/canvas/${canvasId}`);
  await expect(b.getByRole("heading", { level: 1, name: "Canvas not found" })).toBeVisible({
    timeout: 20_000,
  });
  await expect(blockList(b)).toHaveCount(0);
});
