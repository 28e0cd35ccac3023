/*
 * grpc-js asks the DNS server a `dns://server/name` target names only with this set, read when
 * grpc-js loads: import this module before anything that loads grpc-js.
 */
process.env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER = 'true';
