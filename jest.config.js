/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    // @tus/server, @tus/s3-store and their srvx are ES modules only: compiled to CommonJS for jest's module registry
    '^.+\\.m?js$': ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true, module: 'commonjs', moduleResolution: 'node10', target: 'ES2022', esModuleInterop: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@tus|srvx)/)'],
  testMatch: ['<rootDir>/{cli,net-guard,proto,reference-processor,router,service-kit}/test/**/*.test.ts'],
  testTimeout: 30000,
};
