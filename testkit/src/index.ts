/**
 * @artorizer/testkit: the artorizer.v1 contract suite and the helpers a processor's and the
 * router's tests share: a promise client over the generated one, test pictures, a local HTTP
 * server to serve references, test certificates. It starts no processor: a test file hands
 * the suite the target it starts (reference-processor/test/contract/ runs it against the
 * reference processor, or CONTRACT_PROCESSOR_ADDR).
 */
export * from './target';
export * from './client';
export * from './images';
export * from './http-fixture';
export * from './pki';
export * from './contract-suite';
export * from './buf-curl-suite';
