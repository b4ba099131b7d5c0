import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { K8sObject } from './objects';

/**
 * The schema violations of these objects ("Kind/name: problem"), an object of a kind no installed
 * model knows included. Through validate-models.mjs in a node of its own: the model packages are
 * ES modules only.
 */
export function schemaViolations(objects: K8sObject[]): string[] {
  const output = execFileSync(process.execPath, [join(__dirname, 'validate-models.mjs')], {
    input: JSON.stringify(objects),
    encoding: 'utf8',
    maxBuffer: 16 * 1024 ** 2,
  });
  return JSON.parse(output) as string[];
}
