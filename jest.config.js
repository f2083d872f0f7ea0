/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true, target: 'ES2022', isolatedModules: true, strict: true, types: ['node', 'jest'], lib: ['ES2022', 'DOM'] } }],
  },
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.js'],
  // Generated test files import the package by name (as a user's would); here that name is the source.
  moduleNameMapper: { '^loop-room-state$': '<rootDir>/src/index.ts' },
};
