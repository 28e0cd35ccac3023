export * from './setting';
export * from './section';
export * from './docs-table';
export * from './shared/service';
export * from './shared/store';
export * from './shared/grpc-tls';
