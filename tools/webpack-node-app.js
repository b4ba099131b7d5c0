// Bundles one app into dist/apps/<app>/main.js. Workspace libs are compiled in; node_modules stay
// external and are required at run time (the image ships production node_modules beside dist/).
// ts-loader only transpiles: `npm run typecheck` type-checks the whole workspace once.
const { join, resolve } = require('path');
const nodeExternals = require('webpack-node-externals');
const { TsconfigPathsPlugin } = require('tsconfig-paths-webpack-plugin');

const root = resolve(__dirname, '..');

module.exports = function nodeApp(app) {
  return {
    mode: 'production',
    target: 'node',
    context: join(root, 'apps', app),
    entry: './src/main.ts',
    output: { path: join(root, 'dist', 'apps', app), filename: 'main.js', clean: true },
    devtool: 'source-map',
    optimization: { minimize: false },
    externalsPresets: { node: true },
    externals: [nodeExternals({ modulesDir: join(root, 'node_modules') })],
    resolve: {
      extensions: ['.ts', '.js'],
      plugins: [new TsconfigPathsPlugin({ configFile: join(root, 'apps', app, 'tsconfig.app.json') })],
    },
    module: {
      rules: [
        {
          test: /\.ts$/,
          loader: 'ts-loader',
          exclude: /node_modules/,
          options: { transpileOnly: true, configFile: join(root, 'apps', app, 'tsconfig.app.json') },
        },
      ],
    },
    // Optional dependencies of TypeORM and NestJS that pacslink does not use.
    ignoreWarnings: [/Critical dependency/, /Can't resolve/],
  };
};
