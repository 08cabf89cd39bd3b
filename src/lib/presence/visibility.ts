/** Where page visibility comes from (the document by default; injected in tests). */
export interface VisibilitySource {
  isVisible(): boolean;
  onChange(listener: () => void): () => void;
}

export const documentVisibility: VisibilitySource = {
  isVisible: () => typeof document === "undefined" || document.visibilityState !== "hidden",
  onChange(listener) {
    if (typeof document === "undefined") return () => {};
    document.addEventListener("visibilitychange", listener);
    return () => document.removeEventListener("visibilitychange", listener);
  },
};
