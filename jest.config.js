/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testMatch: ['<rootDir>/{net-guard,proto,reference-processor,router}/test/**/*.test.ts'],
  testTimeout: 30000,
};
