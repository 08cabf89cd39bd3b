import { randomUUID } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { Client } from "pg";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import type { NotifyFixture } from "./notify.contract";
import { notifyContract } from "./notify.contract";
import { PgliteNotify } from "./pgliteNotify";
import type { PgNotifyOptions } from "./pgNotify";
import { PgNotify } from "./pgNotify";
import { silentLogger } from "./portLogger";

const DATABASE_URL = process.env.DATABASE_URL_DIRECT ?? process.env.DATABASE_URL;

// One in-memory PGlite for the file (booting one takes seconds); each test gets a fresh port.
let pglite: PGlite | undefined;
afterAll(async () => {
  await pglite?.close();
});

notifyContract("pglite", async (): Promise<NotifyFixture> => {
  pglite ??= new PGlite();
  const db = pglite;
  await db.waitReady;
  return {
    notify: new PgliteNotify(db, { logger: silentLogger }),
    send: async (channel, payload) => {
      await db.query("SELECT pg_notify($1, $2)", [channel, payload]);
    },
    dispose: async () => {},
  };
});

describe("pglite notify", () => {
  it("leaves the PGlite instance it was given open: the database port owns it", async () => {
    pglite ??= new PGlite();
    const notify = new PgliteNotify(pglite, { logger: silentLogger });
    await notify.listen("x", () => {});
    await notify.close();
    expect(pglite.closed).toBe(false);
    await expect(pglite.query("SELECT 1 AS one")).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });
});

if (!DATABASE_URL)
  console.info("skipping postgres notify contract and postgres notify tests: DATABASE_URL unset");

describe.skipIf(!DATABASE_URL)("postgres notify", () => {
  const url = DATABASE_URL ?? "";
  const opened: PgNotify[] = [];
  const clients: Client[] = [];
  const open = (opts: Partial<PgNotifyOptions> = {}) => {
    const n = new PgNotify({
      connectionString: url,
      applicationName: `potentia-notify-test-${randomUUID()}`,
      reconnectMinMs: 50,
      logger: silentLogger,
      ...opts,
    });
    opened.push(n);
    return n;
  };
  /** A separate session, as another API process or a trigger's transaction would be. */
  const sender = async () => {
    const c = new Client({ connectionString: url });
    await c.connect();
    clients.push(c);
    return c;
  };
  const notifyFrom = (c: Client) => async (channel: string, payload: string) => {
    await c.query("SELECT pg_notify($1, $2)", [channel, payload]);
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((n) => n.close()));
    await Promise.all(clients.splice(0).map((c) => c.end()));
  });

  notifyContract("postgres", async () => {
    const c = new Client({ connectionString: url });
    await c.connect();
    return { notify: open(), send: notifyFrom(c), dispose: () => c.end() };
  });

  it("WRK-2: holds one session for all channels and listeners", async () => {
    const app = `potentia-notify-test-${randomUUID()}`;
    const n = open({ applicationName: app });
    for (const ch of ["a", "b", "c"]) {
      await n.listen(ch, () => {});
      await n.listen(ch, () => {});
    }
    const admin = await sender();
    const { rows } = await admin.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1",
      [app],
    );
    expect(rows[0]?.n).toBe(1);
  });

  it("WRK-2: reconnects after its session is terminated and LISTENs again on every channel", async () => {
    const app = `potentia-notify-test-${randomUUID()}`;
    const n = open({ applicationName: app });
    const got: string[] = [];
    await n.listen("Rebalance Needed", (p) => got.push(`A:${p}`));
    await n.listen("second", (p) => got.push(`B:${p}`));
    const admin = await sender();
    const send = notifyFrom(admin);
    const { rows } = await admin.query<{ ok: boolean }>(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1",
      [app],
    );
    expect(rows).toEqual([{ ok: true }]);
    // Notifications sent while no session listens are lost; keep sending until one lands.
    let i = 0;
    await vi.waitFor(
      async () => {
        await send("Rebalance Needed", `${i++}`);
        expect(got.some((g) => g.startsWith("A:"))).toBe(true);
      },
      { timeout: 10_000, interval: 100 },
    );
    await send("second", "after");
    await vi.waitFor(() => expect(got).toContain("B:after"));
  });

  it("registers listeners while the database is unreachable, and closes promptly", async () => {
    const n = open({ connectionString: "postgres://postgres@127.0.0.1:1/postgres" });
    const started = performance.now();
    const stop = await n.listen("chan", () => {});
    await stop();
    await n.close();
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
