/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true, target: 'ES2022', isolatedModules: true, strict: true, types: ['node', 'jest'], lib: ['ES2022', 'DOM'] } }],
  },
  testTimeout: 60000,
};
