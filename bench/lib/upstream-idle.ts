/**
 * How long the bench's relays in front of the processor's HTTP API (nginx, the Node
 * pass-through) keep an idle upstream connection: less than the processor's own idle timeout
 * (Node's keepAliveTimeout, 5 s), so a relay never reuses a connection the processor is closing
 * at that moment; that fails the upload with "socket hang up" (it did in a burst of
 * `make bench`, whose rounds were about 5 s apart).
 */
export const UPSTREAM_IDLE_MS = 4_000;
