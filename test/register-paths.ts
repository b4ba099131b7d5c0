import { register } from 'tsconfig-paths';
import { compilerOptions } from '../tsconfig.base.json';

// Jest's moduleNameMapper covers test files, not global setup/teardown: map @pacslink/* here too.
register({ baseUrl: `${__dirname}/..`, paths: compilerOptions.paths });
