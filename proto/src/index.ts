export * from '../gen/artorizer/v1/artorizer';
export * from './names';
export * from './spec-fields';
export * from './defaults';
export * from './grpc-http';
export * from './http-shapes';
export * from './spec-validate';
export * from './service-kit';
