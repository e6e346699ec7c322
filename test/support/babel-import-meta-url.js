// Jest runs everything as CommonJS, where `import.meta` does not exist. Nest's ESM code only reads
// `import.meta.url` (for createRequire); turn it into the file URL from __filename. Written here because
// the published plugin rewrites it with a `require` call, which those very modules shadow.
module.exports = ({ types: t }) => ({
  visitor: {
    MetaProperty(path) {
      const parent = path.parentPath;
      if (path.node.meta.name === 'import' && parent.isMemberExpression() && !parent.node.computed && parent.node.property.name === 'url') {
        parent.replaceWith(t.binaryExpression('+', t.stringLiteral('file://'), t.identifier('__filename')));
      }
    },
  },
});
