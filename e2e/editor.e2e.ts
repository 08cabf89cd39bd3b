import { randomUUID } from "node:crypto";
import type { APIRequestContext, Locator, Page } from "@playwright/test";
import {
  addBlock,
  blockItem,
  blockList,
  connection,
  expectAllSent,
  expectConverged,
  isSubsequence,
  newUser,
  openEditor,
  readBlocks,
  signIn,
  typeInto,
  type User,
} from "./support/app";
import { expect, screen, test, type UserPages } from "./support/fixtures";

/**
 * UI-2 (the block editor: types, markdown shortcuts, keyboard, block menu, drag and drop, a
 * virtualised 5,000-block canvas) and UI-5 (undo/redo through the sync path) in Chromium, with
 * a second user (a writer) watching every change arrive, per docs/UI.md.
 */

// The tests are independent (own users and canvases): let both workers share them.
test.describe.configure({ mode: "parallel" });

// ---------------------------------------------------------------- helpers

/** Registers a user over REST (faster than the sign-up form, which auth.e2e.ts covers); returns its access token. */
async function register(request: APIRequestContext, user: User): Promise<string> {
  const res = await request.post("/api/v1/auth/register", {
    data: { email: user.email, password: user.password, name: user.name },
  });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).access_token as string;
}

/** A5 (owner) + members (owner adds `writers`); returns the canvas id. */
async function canvasFor(
  request: APIRequestContext,
  ownerToken: string,
  title: string,
  writers: User[],
): Promise<string> {
  const res = await request.post("/api/v1/canvas", {
    headers: { authorization: `Bearer ${ownerToken}` },
    data: { title },
  });
  expect(res.status(), await res.text()).toBe(201);
  const canvasId = (await res.json()).canvas_id as string;
  for (const w of writers) {
    const added = await request.post(`/api/v1/canvas/${canvasId}/members`, {
      headers: { authorization: `Bearer ${ownerToken}` },
      data: { email: w.email, role: "writer" },
    });
    expect(added.status(), await added.text()).toBe(201);
  }
  return canvasId;
}

/** Signs in through the form and waits for the canvas list. */
async function signInUi(page: Page, user: User): Promise<void> {
  await signIn(page, user);
  await expect(page.getByRole("heading", { name: "Your canvases" })).toBeVisible({ timeout: 20_000 });
}

/**
 * A's canvas shared with B as a writer (set up over REST: the list and share dialog have their
 * own specs), both signed in through the form, the editor open on both pages.
 */
async function sharedCanvas(users: UserPages, request: APIRequestContext, prefix: string) {
  const alice = newUser("Alice");
  const bob = newUser("Bob");
  const [aliceToken] = await Promise.all([register(request, alice), register(request, bob)]);
  const canvasId = await canvasFor(request, aliceToken, `${prefix} ${alice.email.slice(6, 14)}`, [bob]);
  const { page: a } = await users.open("A");
  const { page: b } = await users.open("B");
  await Promise.all([
    signInUi(a, alice).then(() => openEditor(a, canvasId)),
    signInUi(b, bob).then(() => openEditor(b, canvasId)),
  ]);
  return { a, b, canvasId, alice, bob };
}

function rows(page: Page): Locator {
  return blockList(page).locator("[data-block-id]");
}

/** The n-th block's text box, named after its type as docs/UI.md says ("Heading block 1"). */
function box(page: Page, type: string, n: number): Locator {
  return blockList(page).getByRole("textbox", { name: `${type} block ${n}`, exact: true });
}

/** The focused element's block: its 1-based position and its text. */
async function focusedBlock(page: Page): Promise<{ n: number; text: string } | null> {
  return page.evaluate(() => {
    const el = document.activeElement;
    const row = el?.closest<HTMLElement>("[data-block-id]");
    if (!el || !row) return null;
    return { n: Number(row.dataset.index) + 1, text: el instanceof HTMLTextAreaElement ? el.value : "" };
  });
}

/** Adds a block from the toolbar and waits until the new (focused) block is there. */
async function addFocusedBlock(page: Page): Promise<number> {
  const n = await addBlock(page);
  await expect.poll(async () => (await focusedBlock(page))?.n).toBe(n);
  return n;
}

interface ServerBlock {
  block_id: string;
  type: string;
  content: string;
  props: Record<string, unknown>;
  parent_id: string | null;
  y_order: string;
}

/** The canvas as the server has it (A1, with the page's own access token), in document order. */
async function serverBlocks(page: Page, canvasId: string): Promise<ServerBlock[]> {
  const blocks = await page.evaluate(async (id) => {
    const session = await (await fetch("/api/auth/session")).json();
    const res = await fetch(`/api/v1/canvas/${id}`, {
      headers: { authorization: `Bearer ${session.accessToken}` },
    });
    if (!res.ok) throw new Error(`A1 answered ${res.status}`);
    return (await res.json()).blocks as ServerBlock[];
  }, canvasId);
  return blocks.sort((x, y) => (x.y_order < y.y_order ? -1 : x.y_order > y.y_order ? 1 : 0));
}

/** How far the n-th block's text is indented relative to the first block's (px). */
async function indentOf(page: Page, n: number): Promise<number> {
  const first = await rows(page).nth(0).locator("textarea").boundingBox();
  const nth = await rows(page)
    .nth(n - 1)
    .locator("textarea")
    .boundingBox();
  if (!first || !nth) throw new Error("block not rendered");
  return Math.round(nth.x - first.x);
}

async function texts(page: Page): Promise<string[]> {
  return (await readBlocks(page)).map((x) => x.text);
}

// ---------------------------------------------------------------- UI-2: types

test("UI-2: markdown shortcuts make heading, todo, quote, code and divider blocks; the writer sees them; they persist", async ({
  users,
  request,
}, testInfo) => {
  const { a, b, canvasId } = await sharedCanvas(users, request, "Types");

  await addFocusedBlock(a);
  await a.keyboard.type("# Title", { delay: 30 });
  await expect(rows(a).nth(0)).toHaveAttribute("data-block-type", "heading");
  await expect(box(a, "Heading", 1)).toHaveValue("Title");

  await addFocusedBlock(a);
  await a.keyboard.type("[] Buy milk", { delay: 30 });
  await expect(rows(a).nth(1)).toHaveAttribute("data-block-type", "todo");
  await expect(box(a, "Todo", 2)).toHaveValue("Buy milk");
  const done = blockItem(a, 2).getByRole("checkbox", { name: "Done" });
  await expect(done).not.toBeChecked();
  await done.click();
  await expect(done).toBeChecked();

  await addFocusedBlock(a);
  await a.keyboard.type("> Quoted", { delay: 30 });
  await expect(rows(a).nth(2)).toHaveAttribute("data-block-type", "quote");
  await expect(box(a, "Quote", 3)).toHaveValue("Quoted");

  await addFocusedBlock(a);
  await a.keyboard.type("```const x = 1;", { delay: 30 });
  await expect(rows(a).nth(3)).toHaveAttribute("data-block-type", "code");
  await expect(box(a, "Code", 4)).toHaveValue("const x = 1;");

  // `---` becomes a divider and a new text block follows it (focused).
  await addFocusedBlock(a);
  await a.keyboard.type("---", { delay: 30 });
  await expect(rows(a).nth(4)).toHaveAttribute("data-block-type", "divider");
  await expect(blockList(a).getByRole("group", { name: "Divider block 5" })).toBeVisible();
  await expect(rows(a)).toHaveCount(6);
  await expect.poll(async () => (await focusedBlock(a))?.n).toBe(6);
  await a.keyboard.type("after", { delay: 30 });

  const expected = [
    { type: "heading", text: "Title" },
    { type: "todo", text: "Buy milk" },
    { type: "quote", text: "Quoted" },
    { type: "code", text: "const x = 1;" },
    { type: "divider", text: "" },
    { type: "text", text: "after" },
  ];
  await expect.poll(() => readBlocks(a)).toEqual(expected);
  await expectAllSent(a);
  expect(await expectConverged(a, b)).toEqual(expected);
  await expect(blockItem(b, 2).getByRole("checkbox", { name: "Done" })).toBeChecked();
  await expect(blockList(b).getByRole("group", { name: "Divider block 5" })).toBeVisible();
  await screen(b, testInfo, "editor-block-types");

  // Persisted: the server has the same blocks, and a reload of A shows them again.
  const stored = await serverBlocks(a, canvasId);
  expect(stored.map((x) => ({ type: x.type, text: x.content }))).toEqual(expected);
  expect(stored[1]?.props.checked).toBe(true);
  await a.reload();
  await expect(blockList(a)).toBeAttached({ timeout: 20_000 });
  await expect(connection(a)).toContainText("Live", { timeout: 20_000 });
  await expect.poll(() => readBlocks(a)).toEqual(expected);
  await expect(blockItem(a, 2).getByRole("checkbox", { name: "Done" })).toBeChecked();
});

// ---------------------------------------------------------------- UI-2: keyboard

test("UI-2: keyboard — Enter splits, Backspace deletes an empty block, arrows move focus, Alt+Shift+arrows reorder, Tab/Shift+Tab nest", async ({
  users,
  request,
}) => {
  const { a, b, canvasId } = await sharedCanvas(users, request, "Keys");

  // Enter splits at the caret.
  await addFocusedBlock(a);
  await a.keyboard.type("HelloWorld", { delay: 30 });
  for (let i = 0; i < 5; i++) await a.keyboard.press("ArrowLeft");
  await a.keyboard.press("Enter");
  await expect.poll(() => texts(a)).toEqual(["Hello", "World"]);
  await expect.poll(() => focusedBlock(a)).toEqual({ n: 2, text: "World" });
  // The caret is at the start of the new block: typing lands before "World".
  await a.keyboard.type("X", { delay: 30 });
  await expect(box(a, "Text", 2)).toHaveValue("XWorld");
  await a.keyboard.press("Backspace");
  await expect(box(a, "Text", 2)).toHaveValue("World");

  // Backspace at the start of an empty block deletes it and focuses the previous block.
  await addFocusedBlock(a);
  await expect(rows(a)).toHaveCount(3);
  await a.keyboard.press("Backspace");
  await expect(rows(a)).toHaveCount(2);
  await expect.poll(() => focusedBlock(a)).toEqual({ n: 2, text: "World" });

  // ArrowUp / ArrowDown move focus between blocks.
  await a.keyboard.press("ArrowUp");
  await expect.poll(() => focusedBlock(a)).toEqual({ n: 1, text: "Hello" });
  await a.keyboard.press("ArrowDown");
  await expect.poll(() => focusedBlock(a)).toEqual({ n: 2, text: "World" });

  await expectAllSent(a);
  expect((await expectConverged(a, b)).map((x) => x.text)).toEqual(["Hello", "World"]);

  // Alt+Shift+ArrowUp / ArrowDown reorder (focus stays on the moved block).
  await addFocusedBlock(a);
  await a.keyboard.type("Third", { delay: 30 });
  await a.keyboard.press("Alt+Shift+ArrowUp");
  await expect.poll(() => texts(a)).toEqual(["Hello", "Third", "World"]);
  await expect.poll(() => focusedBlock(a)).toEqual({ n: 2, text: "Third" });
  await expectAllSent(a);
  expect((await expectConverged(a, b)).map((x) => x.text)).toEqual(["Hello", "Third", "World"]);
  await a.keyboard.press("Alt+Shift+ArrowUp");
  await expect.poll(() => texts(a)).toEqual(["Third", "Hello", "World"]);
  await a.keyboard.press("Alt+Shift+ArrowDown");
  await a.keyboard.press("Alt+Shift+ArrowDown");
  await expect.poll(() => texts(a)).toEqual(["Hello", "World", "Third"]);
  await expect.poll(() => focusedBlock(a)).toEqual({ n: 3, text: "Third" });
  await expectAllSent(a);
  expect((await expectConverged(a, b)).map((x) => x.text)).toEqual(["Hello", "World", "Third"]);

  // Tab indents "World" under "Hello": rendered indented on both pages, parent_id on the server.
  await a.keyboard.press("ArrowUp");
  await expect.poll(() => focusedBlock(a)).toEqual({ n: 2, text: "World" });
  await a.keyboard.press("Tab");
  await expect.poll(() => indentOf(a, 2)).toBeGreaterThanOrEqual(20);
  expect(await indentOf(a, 3), "Third stays at the top level").toBe(0);
  await expect.poll(() => focusedBlock(a)).toEqual({ n: 2, text: "World" });
  await expectAllSent(a);
  await expect.poll(() => indentOf(b, 2), { timeout: 15_000 }).toBe(await indentOf(a, 2));
  expect(await indentOf(b, 3)).toBe(0);
  let stored = await serverBlocks(a, canvasId);
  expect(stored.map((x) => x.content)).toEqual(["Hello", "World", "Third"]);
  expect(stored[1]?.parent_id).toBe(stored[0]?.block_id);
  expect(stored[0]?.parent_id).toBeNull();
  expect(stored[2]?.parent_id).toBeNull();

  // Shift+Tab outdents it again (right after its former parent).
  await a.keyboard.press("Shift+Tab");
  await expect.poll(() => indentOf(a, 2)).toBe(0);
  await expectAllSent(a);
  await expect.poll(() => indentOf(b, 2), { timeout: 15_000 }).toBe(0);
  stored = await serverBlocks(a, canvasId);
  expect(stored.map((x) => [x.content, x.parent_id])).toEqual([
    ["Hello", null],
    ["World", null],
    ["Third", null],
  ]);
  expect((await expectConverged(a, b)).map((x) => x.text)).toEqual(["Hello", "World", "Third"]);
});

// ---------------------------------------------------------------- UI-2: menu, drag and drop

test("UI-2: block menu (Move down, Turn into Heading, Delete) and drag-and-drop reorder reach the other writer", async ({
  users,
  request,
}) => {
  const { a, b } = await sharedCanvas(users, request, "Menu");

  await addFocusedBlock(a);
  await a.keyboard.type("One", { delay: 30 });
  await a.keyboard.press("Enter");
  await a.keyboard.type("Two", { delay: 30 });
  await a.keyboard.press("Enter");
  await a.keyboard.type("Three", { delay: 30 });
  await expect.poll(() => texts(a)).toEqual(["One", "Two", "Three"]);
  await expectAllSent(a);
  await expectConverged(a, b);

  const menuItem = async (n: number, item: string) => {
    await a.getByRole("button", { name: `Block options ${n}`, exact: true }).click();
    const menu = a.getByRole("menu");
    await expect(menu).toBeVisible();
    await menu.getByRole("menuitem", { name: item, exact: true }).click();
    await expect(menu).toBeHidden();
  };

  await menuItem(1, "Move down");
  await expect.poll(() => texts(a)).toEqual(["Two", "One", "Three"]);
  await expectAllSent(a);
  expect((await expectConverged(a, b)).map((x) => x.text)).toEqual(["Two", "One", "Three"]);

  await menuItem(3, "Heading");
  await expect(rows(a).nth(2)).toHaveAttribute("data-block-type", "heading");
  await expectAllSent(a);
  await expect(box(b, "Heading", 3)).toHaveValue("Three", { timeout: 15_000 });
  expect(await expectConverged(a, b)).toEqual([
    { type: "text", text: "Two" },
    { type: "text", text: "One" },
    { type: "heading", text: "Three" },
  ]);

  await menuItem(1, "Delete");
  await expect.poll(() => texts(a)).toEqual(["One", "Three"]);
  await expectAllSent(a);
  expect((await expectConverged(a, b)).map((x) => x.text)).toEqual(["One", "Three"]);

  // Drag and drop: block 1's handle onto the lower half of the last block → it goes after it.
  await addFocusedBlock(a);
  await a.keyboard.type("Four", { delay: 30 });
  await expectAllSent(a);
  await expectConverged(a, b);
  const target = blockItem(a, 3);
  const size = await target.boundingBox();
  if (!size) throw new Error("block 3 not rendered");
  await a
    .getByRole("button", { name: "Drag block 1" })
    .dragTo(target, { targetPosition: { x: size.width / 2, y: size.height - 4 } });
  await expect.poll(() => texts(a)).toEqual(["Three", "Four", "One"]);
  await expectAllSent(a);
  expect((await expectConverged(a, b)).map((x) => x.text)).toEqual(["Three", "Four", "One"]);

  // And onto the upper half of a block → before it.
  const first = blockItem(a, 1);
  await a.getByRole("button", { name: "Drag block 3" }).dragTo(first, { targetPosition: { x: 40, y: 3 } });
  await expect.poll(() => texts(a)).toEqual(["One", "Three", "Four"]);
  await expectAllSent(a);
  expect(await expectConverged(a, b)).toEqual([
    { type: "text", text: "One" },
    { type: "heading", text: "Three" },
    { type: "text", text: "Four" },
  ]);
});

test("UI-2: when the other writer deletes the block being typed in, focus moves to the previous block (else the next) and typing goes on there", async ({
  users,
  request,
}) => {
  const { a, b } = await sharedCanvas(users, request, "Focus");
  await addFocusedBlock(a);
  await a.keyboard.type("One", { delay: 30 });
  await a.keyboard.press("Enter");
  await a.keyboard.type("Two", { delay: 30 });
  await a.keyboard.press("Enter");
  await a.keyboard.type("Three", { delay: 30 });
  await expectAllSent(a);
  await expectConverged(a, b);
  const deleteAt = async (n: number) => {
    await a.getByRole("button", { name: `Block options ${n}`, exact: true }).click();
    await a.getByRole("menu").getByRole("menuitem", { name: "Delete", exact: true }).click();
    await expectAllSent(a);
  };

  // Bob is typing in block 2 when Alice deletes it: his caret goes to the end of block 1.
  await typeInto(b, 2, "!");
  await expectAllSent(b);
  await expectConverged(a, b);
  await expect.poll(() => focusedBlock(b)).toEqual({ n: 2, text: "Two!" });
  await deleteAt(2);
  await expect.poll(() => texts(b)).toEqual(["One", "Three"]);
  await expect.poll(() => focusedBlock(b)).toEqual({ n: 1, text: "One" });
  await b.keyboard.type(" more", { delay: 30 });
  await expect.poll(() => texts(b)).toEqual(["One more", "Three"]);
  await expectAllSent(b);
  await expectConverged(a, b);

  // The first block has no previous one: the caret goes to the start of the next.
  await box(b, "Text", 1).click();
  await expect.poll(() => focusedBlock(b)).toEqual({ n: 1, text: "One more" });
  await deleteAt(1);
  await expect.poll(() => texts(b)).toEqual(["Three"]);
  await expect.poll(() => focusedBlock(b)).toEqual({ n: 1, text: "Three" });
  await b.keyboard.type("Now ", { delay: 30 });
  await expect.poll(() => texts(b)).toEqual(["Now Three"]);
  await expectAllSent(b);
  expect((await expectConverged(a, b)).map((x) => x.text)).toEqual(["Now Three"]);
});

// ---------------------------------------------------------------- UI-5: undo / redo

test("UI-5: undo/redo of own typing and deletes goes through sync (the writer sees it) and never removes the writer's text", async ({
  users,
  request,
}, testInfo) => {
  const { a, b } = await sharedCanvas(users, request, "Undo");

  await addFocusedBlock(a);
  await expect(rows(b)).toHaveCount(1, { timeout: 15_000 });
  await a.keyboard.type("hello", { delay: 40 });
  await expectAllSent(a);
  await expect(box(b, "Text", 1)).toHaveValue("hello", { timeout: 15_000 });

  // Ctrl+Z undoes the typing (one step), on A and, through the server, on B; Ctrl+Shift+Z redoes it.
  await expect(box(a, "Text", 1)).toBeFocused();
  await a.keyboard.press("Control+z");
  await expect(box(a, "Text", 1)).toHaveValue("");
  await expect(box(b, "Text", 1)).toHaveValue("", { timeout: 15_000 });
  await expect(rows(a)).toHaveCount(1);
  await a.keyboard.press("Control+Shift+z");
  await expect(box(a, "Text", 1)).toHaveValue("hello");
  await expect(box(b, "Text", 1)).toHaveValue("hello", { timeout: 15_000 });
  await expectAllSent(a);

  // Undo of a delete brings the block back with its text, on both pages.
  await addFocusedBlock(a);
  await a.keyboard.type("keep me", { delay: 30 });
  await expectAllSent(a);
  await expect(box(b, "Text", 2)).toHaveValue("keep me", { timeout: 15_000 });
  await a.getByRole("button", { name: "Block options 2", exact: true }).click();
  await a.getByRole("menu").getByRole("menuitem", { name: "Delete", exact: true }).click();
  await expect(rows(a)).toHaveCount(1);
  await expect(rows(b)).toHaveCount(1, { timeout: 15_000 });
  await expect.poll(() => focusedBlock(a)).toEqual({ n: 1, text: "hello" });
  await a.keyboard.press("Control+z");
  await expect.poll(() => texts(a)).toEqual(["hello", "keep me"]);
  await expectAllSent(a);
  expect((await expectConverged(a, b)).map((x) => x.text)).toEqual(["hello", "keep me"]);

  // The toolbar buttons do the same: Redo deletes it again, Undo brings it back.
  const undo = a.getByRole("button", { name: "Undo", exact: true });
  const redo = a.getByRole("button", { name: "Redo", exact: true });
  await expect(redo).toBeEnabled();
  await redo.click();
  await expect.poll(() => texts(a)).toEqual(["hello"]);
  await expect(rows(b)).toHaveCount(1, { timeout: 15_000 });
  await expect(redo).toBeDisabled();
  await undo.click();
  await expect.poll(() => texts(a)).toEqual(["hello", "keep me"]);
  await expectAllSent(a);
  expect((await expectConverged(a, b)).map((x) => x.text)).toEqual(["hello", "keep me"]);
  await expect(redo).toBeEnabled();

  // A and B type into the same block at once; A's undo takes back only A's "aaa".
  await addFocusedBlock(a);
  await expect(rows(b)).toHaveCount(3, { timeout: 15_000 });
  await Promise.all([typeInto(a, 3, "aaa", 60), typeInto(b, 3, "bbb", 60)]);
  await expectAllSent(a);
  await expectAllSent(b);
  const both = (await expectConverged(a, b))[2]?.text ?? "";
  expect([...both].sort().join("")).toBe("aaabbb");
  expect(isSubsequence("aaa", both) && isSubsequence("bbb", both)).toBe(true);
  await expect(box(a, "Text", 3)).toBeFocused();
  await a.keyboard.press("Control+z");
  await expect(box(a, "Text", 3)).toHaveValue("bbb");
  await expectAllSent(a);
  await expect(box(b, "Text", 3)).toHaveValue("bbb", { timeout: 15_000 });
  expect((await expectConverged(a, b)).map((x) => x.text)).toEqual(["hello", "keep me", "bbb"]);
  await screen(a, testInfo, "editor-after-undo");
});

/** The focused block (1-based) and the caret in its text. */
async function caret(page: Page): Promise<{ n: number; start: number; end: number } | null> {
  return page.evaluate(() => {
    const el = document.activeElement;
    const row = el?.closest<HTMLElement>("[data-block-id]");
    if (!(el instanceof HTMLTextAreaElement) || !row) return null;
    return { n: Number(row.dataset.index) + 1, start: el.selectionStart, end: el.selectionEnd };
  });
}

test("UI-5: Enter in the middle of text and Backspace at the start are one undo step each; the caret returns and focus stays in the text", async ({
  page,
  request,
}) => {
  const owner = newUser("Una");
  const token = await register(request, owner);
  const canvasId = await canvasFor(request, token, `Split ${owner.email.slice(4, 12)}`, []);
  await signInUi(page, owner);
  await openEditor(page, canvasId);
  await addFocusedBlock(page);
  await page.keyboard.type("Hello world", { delay: 30 });
  await expectAllSent(page);

  // Caret before "world", Enter: the block splits.
  for (let i = 0; i < 5; i++) await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("Enter");
  await expect.poll(() => texts(page)).toEqual(["Hello ", "world"]);
  await expect.poll(() => caret(page)).toEqual({ n: 2, start: 0, end: 0 });

  // One Ctrl+Z: the text is whole again in the first block, the new block gone, the caret back.
  await page.keyboard.press("Control+z");
  await expect.poll(() => texts(page)).toEqual(["Hello world"]);
  await expect.poll(() => caret(page)).toEqual({ n: 1, start: 6, end: 6 });
  // Redo splits again with the caret in the new block; focus stayed, so the keys keep working.
  await page.keyboard.press("Control+Shift+z");
  await expect.poll(() => texts(page)).toEqual(["Hello ", "world"]);
  await expect.poll(() => caret(page)).toEqual({ n: 2, start: 0, end: 0 });
  await page.keyboard.press("Control+z");
  await expect.poll(() => texts(page)).toEqual(["Hello world"]);
  await expect.poll(() => caret(page)).toEqual({ n: 1, start: 6, end: 6 });

  // Merge: split again, then Backspace at the start of "world" joins it back.
  await page.keyboard.press("Enter");
  await expect.poll(() => texts(page)).toEqual(["Hello ", "world"]);
  await expectAllSent(page);
  await page.keyboard.press("Backspace");
  await expect.poll(() => texts(page)).toEqual(["Hello world"]);
  await expect.poll(() => caret(page)).toEqual({ n: 1, start: 6, end: 6 });
  // One Ctrl+Z undoes the whole merge (never "world" in both blocks), the caret back in "world".
  await page.keyboard.press("Control+z");
  await expect.poll(() => texts(page)).toEqual(["Hello ", "world"]);
  await expect.poll(() => caret(page)).toEqual({ n: 2, start: 0, end: 0 });
  // The next Ctrl+Z undoes the split, the one after that the typing: every step from the keyboard.
  await page.keyboard.press("Control+z");
  await expect.poll(() => texts(page)).toEqual(["Hello world"]);
  await expect.poll(() => caret(page)).toEqual({ n: 1, start: 6, end: 6 });
  await page.keyboard.press("Control+z");
  await expect.poll(() => texts(page)).toEqual([""]);
  await expect.poll(async () => (await caret(page))?.n).toBe(1);
  await expectAllSent(page);
  expect((await serverBlocks(page, canvasId)).map((x) => x.content)).toEqual([""]);
});

// ---------------------------------------------------------------- UI-2: 5,000 blocks

const SEED_BLOCKS = 5_000;
const OPS_PER_REQUEST = 50; // MUT: 1..50 ops per request
const SEEDERS = 2; // MUT-7: 100 mutate requests per minute per user; each seeder sends 50

/** One H2 request of creates (appended at the end of the document, in order). */
async function mutateCreates(request: APIRequestContext, token: string, canvasId: string, from: number) {
  const ops = Array.from({ length: OPS_PER_REQUEST }, (_, i) => ({
    client_op_id: randomUUID(),
    action: "create",
    block_id: randomUUID(),
    type: "text",
    content: `Seed ${from + i}`,
  }));
  for (let attempt = 0; ; attempt++) {
    const res = await request.post(`/api/v1/canvas/${canvasId}/mutate`, {
      headers: { authorization: `Bearer ${token}` },
      data: { ops },
      timeout: 30_000,
    });
    // H2 allows 10 requests/s per user: a 429 is retried (same ops, same ids: MUT-3 makes it safe).
    if (res.status() === 429 && attempt < 5) {
      await new Promise((r) => setTimeout(r, 250 * (attempt + 1)));
      continue;
    }
    expect(res.status(), await res.text()).toBe(200);
    const { results } = (await res.json()) as { results: { status: string }[] };
    expect(results.filter((r) => r.status !== "success")).toEqual([]);
    return;
  }
}

test("UI-2: a 5,000-block canvas is virtualised (few rows in the DOM), takes typing and scrolls to its last block", async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(120_000);
  const owner = newUser("Olga");
  const seederUsers = Array.from({ length: SEEDERS }, (_, i) => newUser(`Seeder${i}`));
  const [ownerToken, ...seeders] = await Promise.all([
    register(request, owner),
    ...seederUsers.map((u) => register(request, u)),
  ]);
  // The seeders are writers, each with its own MUT-7 budget; the owner's stays untouched for typing.
  const canvasId = await canvasFor(
    request,
    ownerToken as string,
    `Big ${owner.email.slice(5, 13)}`,
    seederUsers,
  );

  // Request 0 first and request 99 last, so "Seed 1" and "Seed 5000" are the first and last
  // blocks; the 98 in between run on all seeders at once (their interleaving does not matter).
  const requests = SEED_BLOCKS / OPS_PER_REQUEST;
  const seed = async () => {
    const started = Date.now();
    await mutateCreates(request, seeders[0] as string, canvasId, 1);
    await Promise.all(
      seeders.map(async (token, s) => {
        for (let r = 1 + s; r < requests - 1; r += SEEDERS) {
          await mutateCreates(request, token, canvasId, r * OPS_PER_REQUEST + 1);
        }
      }),
    );
    await mutateCreates(request, seeders[1] as string, canvasId, (requests - 1) * OPS_PER_REQUEST + 1);
    const seededMs = Date.now() - started;
    testInfo.annotations.push({ type: "seeding", description: `${SEED_BLOCKS} blocks in ${seededMs} ms` });
    console.log(`[editor.e2e] seeded ${SEED_BLOCKS} blocks via ${requests} H2 requests in ${seededMs} ms`);
  };
  // The owner signs in meanwhile.
  await Promise.all([seed(), signInUi(page, owner)]);

  const opened = Date.now();
  await openEditor(page, canvasId);
  await expect(box(page, "Text", 1)).toHaveValue("Seed 1", { timeout: 20_000 });
  testInfo.annotations.push({ type: "open", description: `first row after ${Date.now() - opened} ms` });
  const rendered = await rows(page).count();
  expect(rendered, "rows in the DOM").toBeGreaterThan(0);
  expect(rendered, "rows in the DOM (virtualised)").toBeLessThan(200);

  // Typing into the first block.
  await typeInto(page, 1, " typed", 40);
  await expect(box(page, "Text", 1)).toHaveValue("Seed 1 typed");
  await expectAllSent(page);

  // To the bottom of the window: the last block is rendered, still only a window of rows.
  await page.keyboard.press("Escape"); // leaves the text box (focus on Block options 1)
  await expect(page.getByRole("button", { name: "Block options 1", exact: true })).toBeFocused();
  await expect(async () => {
    // End scrolls the window to the bottom; again while rows measured on the way change the height.
    await page.keyboard.press("End");
    await expect(box(page, "Text", SEED_BLOCKS)).toHaveValue(`Seed ${SEED_BLOCKS}`, { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(box(page, "Text", SEED_BLOCKS)).toBeInViewport();
  expect(await rows(page).count(), "rows in the DOM at the bottom").toBeLessThan(200);
});
