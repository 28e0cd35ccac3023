export * from './env-and-signals';
export * from './work-dir';
export * from './grpc-tls';
export * from './settings';
export * from './multipart/form-reader';
