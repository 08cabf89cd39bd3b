/**
 * Whether the device has a network at all: `navigator.onLine` and the window's `online` /
 * `offline` events in the browser, something scripted in tests. `false` is reliable (there is
 * no network); `true` only means an attempt is worth making.
 */
export interface NetworkStatus {
  online(): boolean;
  /** Calls `listener` whenever `online()` may have changed; returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
}

/** No network information (Node, tests that do not care): always worth trying. */
export const ALWAYS_ONLINE: NetworkStatus = { online: () => true, subscribe: () => () => {} };

/** The browser's view of the network (navigator.onLine, window online/offline). */
export function browserNetworkStatus(): NetworkStatus {
  if (typeof window === "undefined" || typeof navigator === "undefined") return ALWAYS_ONLINE;
  return {
    online: () => navigator.onLine !== false,
    subscribe(listener) {
      window.addEventListener("online", listener);
      window.addEventListener("offline", listener);
      return () => {
        window.removeEventListener("online", listener);
        window.removeEventListener("offline", listener);
      };
    },
  };
}
