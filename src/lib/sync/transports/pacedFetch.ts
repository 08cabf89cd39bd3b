import type { BudgetId, Pacer } from "../pacer";
import type { Fetch } from "./rest";

/** The REST route a request is for, as the server's rate-limit id (SPEC §5). */
function budgetOf(url: string): BudgetId | null {
  const path = url.split("?")[0] ?? url;
  if (path.endsWith("/snapshot")) return "H4";
  if (path.endsWith("/mutate")) return "H2";
  if (path.endsWith("/presence")) return "H3";
  return null;
}

/**
 * The REST transport's fetch, paced under the API's per-user route limits (H2 mutate, H3
 * presence, H4 snapshot) by the client's one pacer. Pacing here covers the transport's own
 * polling loop too, which calls its snapshot directly.
 */
export function pacedFetch(pacer: Pacer, inner: Fetch = (url, init) => globalThis.fetch(url, init)): Fetch {
  return async (url, init) => {
    const budget = budgetOf(url);
    if (budget) await pacer.wait(budget);
    return inner(url, init);
  };
}
