import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/** The JSON or YAML value of a file an option names (`-`: stdin); errors name the option and file. */
export function readFileValue<T = unknown>(option: string, file: string): T {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new Error(`${option}: cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return parseYaml(text) as T;
  } catch (err) {
    throw new Error(`${option}: ${file} is not JSON or YAML: ${(err as Error).message}`);
  }
}
