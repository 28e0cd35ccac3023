export type { Address } from './address-policy';
export { AddressPolicy, literalAddress, parsePolicyList, stripTrailingDot } from './address-policy';
export { ForbiddenAddressError, guardedLookup } from './guarded-lookup';
