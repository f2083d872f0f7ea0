import { writeFileSync } from 'node:fs';
import { coverageOf } from '../testgen/coverage';
import { generateTestCases } from '../testgen/generate';
import { renderJestFile } from '../testgen/jestFile';
import { formatCoverageReport } from '../testgen/reportText';
import type { GenerateOptions } from '../testgen/types';
import { UsageError, parseArgs } from './args';
import type { Command } from './command';

const USAGE = [
  'loop-room-state generate-tests [--coverage states|transitions] [--max-count N] [--isolate | --seed S [--walks K] [--length L]]',
  '                               [--format json|jest] [--out FILE] [--report [FILE]] [--import-from MODULE]',
  '',
  '  --coverage     what the tour covers: every transition candidate and rejection (default) or every state',
  '  --max-count    counter bound of the exploration, 0..10 (default 2; 3 reaches three-party rooms)',
  '  --isolate      one short case per coverage item (shortest prefix + the item), each step listing the',
  '                 items it covers: for black-box runners that stop a case at its first mismatch',
  '  --seed         seeded random walks for soak use instead of the tour (same seed, same walks)',
  '  --walks        random walks: how many (default 10)',
  '  --length       random walks: events per walk (default 40)',
  '  --format       json: test vectors (docs/test-vectors.md); jest: a runnable jest test file',
  '  --out          write to FILE instead of stdout',
  '  --report       coverage report: each item, covered by which case or why unreachable, and totals;',
  '                 to stderr, or to FILE (JSON when FILE ends in .json)',
  "  --import-from  jest format: the module the test requires (default 'loop-room-state')",
].join('\n');

export const generateTests: Command = {
  name: 'generate-tests',
  summary: 'generate test vectors from the model: a coverage tour of every transition and rejection, or seeded random walks',
  usage: USAGE,
  async run(argv, io) {
    // A bare `--report` (last, or before another option) means stderr.
    const args = argv.map((a, i) => (a === '--report' && (argv[i + 1] === undefined || argv[i + 1].startsWith('--')) ? '--report=-' : a));
    const { flags } = parseArgs(args, {
      coverage: 'value', 'max-count': 'value', seed: 'value', walks: 'value', length: 'value',
      format: 'value', out: 'value', report: 'value', 'import-from': 'value', isolate: 'switch',
    });
    const format = flags.format ?? 'json';
    if (format !== 'json' && format !== 'jest') throw new UsageError(`--format must be json or jest, got '${String(format)}'`);
    const coverage = flags.coverage ?? 'transitions';
    if (coverage !== 'states' && coverage !== 'transitions') throw new UsageError(`--coverage must be states or transitions, got '${String(coverage)}'`);
    const options: GenerateOptions = { coverage, maxCount: intFlag(flags, 'max-count', 2), ...(flags.isolate ? { isolate: true } : {}) };
    if (flags.seed !== undefined) {
      options.seed = intFlag(flags, 'seed', 0);
      options.walks = intFlag(flags, 'walks', 10);
      options.walkLength = intFlag(flags, 'length', 40);
    } else if (flags.walks !== undefined || flags.length !== undefined) {
      throw new UsageError('--walks and --length need --seed');
    }
    if (format !== 'jest' && flags['import-from'] !== undefined) throw new UsageError('--import-from needs --format jest');
    let cases;
    try {
      cases = generateTestCases(options);
    } catch (err) {
      if (err instanceof RangeError) throw new UsageError(asFlags(err.message));
      throw err;
    }
    const shown = ['coverage', 'max-count', 'isolate', 'seed', 'walks', 'length', 'format'].filter((k) => flags[k] !== undefined);
    const command = ['loop-room-state generate-tests', ...shown.map((k) => (flags[k] === true ? `--${k}` : `--${k} ${String(flags[k])}`))].join(' ');
    const text =
      format === 'jest'
        ? renderJestFile(cases, { command, ...(typeof flags['import-from'] === 'string' ? { importFrom: flags['import-from'] } : {}) })
        : `${JSON.stringify(cases, null, 2)}\n`;
    if (typeof flags.out === 'string') writeFile('--out', flags.out, text);
    else io.out(text);
    if (typeof flags.report === 'string') {
      const report = coverageOf(cases, { maxCount: options.maxCount });
      if (flags.report === '-') io.err(formatCoverageReport(report));
      else writeFile('--report', flags.report, flags.report.endsWith('.json') ? `${JSON.stringify(report, null, 2)}\n` : `${formatCoverageReport(report)}\n`);
    }
    return 0;
  },
};

// The library names its options (maxCount); the command line knows them as flags (--max-count).
const FLAG_OF: Record<string, string> = { maxCount: '--max-count', walkLength: '--length', walks: '--walks', seed: '--seed', coverage: '--coverage', isolate: '--isolate' };

export function asFlags(message: string): string {
  return message.replace(/\b(maxCount|walkLength|walks|seed|coverage|isolate)\b/g, (name) => FLAG_OF[name]);
}

function intFlag(flags: Record<string, string | true>, name: string, fallback: number): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw)) throw new UsageError(`--${name} must be an integer, got '${String(raw)}'`);
  return Number(raw);
}

function writeFile(option: string, path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (err) {
    throw new Error(`cannot write ${option} ${path}: ${(err as { message?: string }).message ?? String(err)}`);
  }
}
