/** Flag parsing for every subcommand: node's parseArgs (strict) plus typed, range-checked numbers. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../../shared/errors.js';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

export function parseFlags(command: string, argv: string[], options: FlagSpec): Record<string, string | boolean | undefined> {
  try {
    const { values, positionals } = parseArgs({ args: joinNegativeValues(argv, options), options, strict: true, allowPositionals: true });
    if (positionals.length) throw new UsageError(`${command}: unexpected argument "${positionals[0]}"`);
    return values as Record<string, string | boolean | undefined>;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    // parseArgs' messages name the flag; keep them, drop its stack
    throw new UsageError(`${command}: ${(e as Error).message}`);
  }
}

/**
 * `--face-box -28,40,200` as `--face-box=-28,40,200`: parseArgs reads a value that starts with "-" as a flag, yet
 * no flag name starts with a digit, so a negative number after a flag that takes a value is that value.
 */
function joinNegativeValues(argv: string[], options: FlagSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : null;
    if (name && options[name]?.type === 'string' && i + 1 < argv.length && /^-(\d|\.\d)/.test(argv[i + 1])) {
      out.push(`${argv[i]}=${argv[++i]}`);
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}

type FlagValues = Record<string, string | boolean | undefined>;
/** A number flag within [min, max]; `def` when absent. */
type RangedFlag = (command: string, values: FlagValues, name: string, def: number, min: number, max: number) => number;

export const intFlag: RangedFlag = (command, values, name, def, min, max) => rangedFlag(command, values, name, def, min, max, /^-?\d+$/, 'an integer');

/** A physical quantity: decimals allowed (a field of view of 57.4°, say). */
export const numberFlag: RangedFlag = (command, values, name, def, min, max) => rangedFlag(command, values, name, def, min, max, /^-?(\d+\.?\d*|\.\d+)$/, 'a number');

function rangedFlag(command: string, values: FlagValues, name: string, def: number, min: number, max: number, form: RegExp, what: string): number {
  const raw = values[name];
  if (raw === undefined) return def;
  const text = String(raw).trim();
  if (!form.test(text)) throw new UsageError(`${command}: --${name}: expected ${what}, got "${raw}"`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${command}: --${name}: must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function choiceFlag<T extends string>(
  command: string,
  values: Record<string, string | boolean | undefined>,
  name: string,
  def: T,
  choices: readonly T[],
): T {
  const raw = values[name];
  if (raw === undefined) return def;
  if (!choices.includes(raw as T)) throw new UsageError(`${command}: --${name}: expected one of ${choices.join(', ')}, got "${raw}"`);
  return raw as T;
}

/** A shared secret: --token, else the FACELIVE_TOKEN environment variable; at least 16 characters, printable. */
export function tokenFlag(command: string, values: Record<string, string | boolean | undefined>): string | undefined {
  const raw = typeof values.token === 'string' ? values.token : process.env.FACELIVE_TOKEN || undefined;
  if (raw === undefined) return undefined;
  if (!/^[\x21-\x7e]{16,256}$/.test(raw)) throw new UsageError(`${command}: the token (--token or FACELIVE_TOKEN) must be 16 to 256 printable characters without spaces`);
  return raw;
}

/**
 * Flags from the environment where the command line leaves them out (a container's configuration): FACELIVE_PORT
 * for --port and so on, checked like the flag itself; a bad value names its variable.
 */
export function withEnvironment(command: string, values: FlagValues, options: FlagSpec, env: NodeJS.ProcessEnv = process.env): { values: FlagValues; check: <T>(name: string, read: () => T) => T } {
  const fromEnv = new Set<string>();
  const merged: FlagValues = { ...values };
  for (const [name, spec] of Object.entries(options)) {
    const variable = envName(name);
    const raw = env[variable];
    if (merged[name] !== undefined || raw === undefined || raw === '') continue;
    if (spec.type === 'boolean') {
      if (!/^(1|0|true|false|yes|no)$/i.test(raw)) throw new UsageError(`${command}: ${variable}: expected 1/0, true/false or yes/no, got "${raw}"`);
      merged[name] = /^(1|true|yes)$/i.test(raw);
    } else merged[name] = raw;
    fromEnv.add(name);
  }
  const check = <T>(name: string, read: () => T): T => {
    try {
      return read();
    } catch (e) {
      if (e instanceof UsageError && fromEnv.has(name)) throw new UsageError(e.message.replace(`--${name}`, envName(name)));
      throw e;
    }
  };
  return { values: merged, check };
}

/** --max-sessions → FACELIVE_MAX_SESSIONS */
export function envName(flag: string): string {
  return `FACELIVE_${flag.toUpperCase().replace(/-/g, '_')}`;
}
