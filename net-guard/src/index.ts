export type { Address } from './address-policy';
export { AddressPolicy, canonicalHost, literalAddress, parsePolicyList, stripTrailingDot } from './address-policy';
export { ForbiddenAddressError, guardedLookup } from './guarded-lookup';
