// `npm run test:package`: the packed package installed into a fresh host app (test/package/). Not part of
// `npm test`: it installs from the registry and needs PostgreSQL (DATABASE_URL).
const base = require('./jest.config.js');
const common = base.projects[0];
module.exports = {
  testEnvironment: 'node',
  transform: common.transform,
  transformIgnorePatterns: common.transformIgnorePatterns,
  moduleFileExtensions: common.moduleFileExtensions,
  testMatch: ['<rootDir>/test/package/**/*.package-spec.ts'],
  testTimeout: 360_000,
};
