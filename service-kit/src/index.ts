export * from './env-and-signals';
export * from './work-dir';
export * from './grpc-tls';
export * from './multipart/form-reader';
