// Moved to src/lib/sync/transports/; kept while tests/concurrency still imports it here.
export { createRestTransport, type RestTransportOptions } from "./sync/transports/rest";
export {
  createWsTransport,
  type SocketCtor,
  type SocketLike,
  type WsTransportOptions,
} from "./sync/transports/socket";
