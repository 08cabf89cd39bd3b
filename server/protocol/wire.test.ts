import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { describe, expect, it } from "vitest";
import { dataFrameHead, eventOf, plainDataFrame, trackedDataFrame, WIRE_ERRORS } from "./wire";

describe("wire protocol (RT-1, RT-3)", () => {
  it("RT-1: the socket's own error codes are tRPC's (what @trpc/client expects)", () => {
    for (const [name, { code }] of Object.entries(WIRE_ERRORS))
      expect(code).toBe(TRPC_ERROR_CODES_BY_KEY[name as keyof typeof TRPC_ERROR_CODES_BY_KEY]);
  });

  it("RT-3: data frames are tRPC's, tracked with the server_seq as the event id", () => {
    const head = dataFrameHead("7", true);
    const tracked = JSON.parse(trackedDataFrame(head, 42, '{"type":"op","server_seq":42}'));
    expect(tracked).toEqual({
      jsonrpc: "2.0",
      id: 7,
      result: { type: "data", id: "42", data: { id: "42", data: { type: "op", server_seq: 42 } } },
    });
    expect(eventOf(tracked.result.data)).toEqual({ type: "op", server_seq: 42 });
    const plain = JSON.parse(plainDataFrame(dataFrameHead('"s"', false), '{"type":"resync"}'));
    expect(plain).toEqual({ id: "s", result: { type: "data", data: { type: "resync" } } });
    expect(eventOf(plain.result.data)).toEqual({ type: "resync" });
  });
});
