// Used by Jest only (the build is tsc). Nest 12 packages are ESM-only: Babel compiles them, and our
// TypeScript with legacy decorators and their design-time metadata, to CommonJS for Jest.
// Babel rather than swc: swc's platform binaries are not all on the registry this project installs
// from, and `npm ci` refuses a lockfile without them.
module.exports = {
  presets: [['@babel/preset-typescript', { allowDeclareFields: true }]],
  plugins: [
    'babel-plugin-transform-typescript-metadata',
    ['@babel/plugin-proposal-decorators', { legacy: true }],
    ['@babel/plugin-transform-class-properties', { loose: true }],
    // Class fields are compiled (legacy decorators need it), so private members must be too, alike.
    ['@babel/plugin-transform-private-methods', { loose: true }],
    ['@babel/plugin-transform-private-property-in-object', { loose: true }],
    '@babel/plugin-transform-class-static-block',
    './test/support/babel-import-meta-url.js',
    '@babel/plugin-transform-dynamic-import',
    '@babel/plugin-transform-modules-commonjs',
  ],
};
