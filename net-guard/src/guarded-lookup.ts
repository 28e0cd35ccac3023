import dns from 'node:dns';
import { LookupFunction } from 'node:net';
import { AddressPolicy, stripTrailingDot } from './address-policy';

/** A connection refused by the address policy; its message names no address, for callers that must not tell. */
export class ForbiddenAddressError extends Error {
  override readonly name = 'ForbiddenAddressError';

  constructor(readonly detail: string) {
    super('connection to a forbidden address refused');
  }
}

/**
 * A `lookup` for net/http/https connections that resolves the host and refuses the
 * connection when any address it stands for is forbidden. Checked where the socket is
 * opened, on every hop, it is not fooled by a redirect or by DNS answering differently
 * from an earlier check (rebinding). Literal IP hosts skip `lookup`: check them with
 * `AddressPolicy.refusal` before connecting.
 */
export function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    const host = stripTrailingDot(hostname);
    const done = callback as (err: NodeJS.ErrnoException | null, address?: string | dns.LookupAddress[], family?: number) => void;
    if (policy.isMetadataHost(host)) return done(new ForbiddenAddressError(`${host} is a cloud metadata host`));
    dns.lookup(host, { family: options.family, hints: options.hints, all: true, verbatim: true }, (err, addresses) => {
      if (err) return done(err);
      if (!policy.allowsName(host)) {
        for (const { address } of addresses) {
          const refusal = policy.refusal(address);
          if (refusal) return done(new ForbiddenAddressError(`${host} resolves to ${refusal} address (${address})`));
        }
      }
      if (options.all) done(null, addresses);
      else done(null, addresses[0].address, addresses[0].family);
    });
  };
}
