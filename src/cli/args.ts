/**
 * Minimal `--flag value` / `--flag=value` / `--switch` parsing. Unknown flags and stray arguments are an
 * error, not ignored: a typo must not silently change what a command does.
 */
export interface ParsedArgs {
  flags: Record<string, string | true>;
  /** Always empty unless the command asked for positional arguments. */
  positional: string[];
}

export class UsageError extends Error {}

export interface ParseOptions {
  /** Accept positional arguments (default false: any is a UsageError). */
  positional?: boolean;
}

export function parseArgs(argv: readonly string[], known: Record<string, 'value' | 'switch'>, options: ParseOptions = {}): ParsedArgs {
  const flags: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      if (!options.positional) throw new UsageError(`unexpected argument '${arg}'${arg.startsWith('-') ? ' (options start with --)' : ''}`);
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const kind = Object.prototype.hasOwnProperty.call(known, name) ? known[name] : undefined;
    if (!kind) {
      const hint = closest(name, Object.keys(known));
      throw new UsageError(`unknown option --${name}${hint ? `; did you mean --${hint}?` : ''}`);
    }
    if (kind === 'switch') {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
    } else if (eq !== -1) {
      flags[name] = arg.slice(eq + 1);
    } else {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      flags[name] = value;
      i++;
    }
  }
  return { flags, positional };
}

/** The candidate nearest to `word` (case-insensitive edit distance), when near enough to be a typo of it. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  // Near enough: at most a third of the longer word differs (case differences cost nothing).
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(Math.max(word.length, best.length) / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}
