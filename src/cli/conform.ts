import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError, parseArgs } from './args';
import type { Command } from './command';
import type { ReportPaths } from '../conform/reports/files';

const USAGE = [
  'loop-room-state conform (--adapter "<shell command>" | --self) [options]',
  '',
  '  --adapter        the command that starts your adapter (driver protocol 1 on its stdin/stdout; docs/conformance.md)',
  "  --self           run this package's own client through its own adapter",
  '  --only           model | wire: only those cases',
  '  --cases          ID,ID: only these cases (--list prints the ids)',
  '  --max-count      counter bound of the model cases, 0..10 (default 3: three-party rooms)',
  '  --seed S --walks K --length L   also K seeded random walks of L events; a failing walk is shrunk',
  '  --timeout-ms     per adapter answer (default 5000; the hello at least 10000)',
  '  --fresh-process  start the adapter anew for every case',
  '  --jobs           adapter processes side by side (default 4; one session each)',
  '  --quiet-ms       a step is judged after no request for this long (default 300)',
  '  --junit FILE     JUnit XML; --json FILE the whole result; --html FILE one self-contained page',
  '  --visualizer URL the visualizer page failing cases link to (default: the one built with this package)',
  '  --list           print the case ids and what each checks, and exit',
  '',
  'Prints a line per failing case as it ends, then the skipped ones and a summary (stdout). Exit code: 0 all',
  'passed (skipped ones included), 1 a case failed, 2 the run could not be done (adapter did not start, broke',
  'the protocol, bad options, a report could not be written), 130/143 interrupted by SIGINT/SIGTERM.',
].join('\n');

export const conform: Command = {
  name: 'conform',
  summary: 'test another client implementation end to end: drive it through an adapter, play the room server, judge the wire',
  usage: USAGE,
  async run(argv, io) {
    const { flags } = parseArgs(argv, {
      adapter: 'value', self: 'switch', only: 'value', cases: 'value', 'max-count': 'value', seed: 'value', walks: 'value', length: 'value',
      'timeout-ms': 'value', 'fresh-process': 'switch', jobs: 'value', 'quiet-ms': 'value', junit: 'value', json: 'value', html: 'value', visualizer: 'value', list: 'switch',
    });
    const int = (name: string, fallback: number, min: number, max: number): number => {
      const raw = flags[name];
      if (raw === undefined) return fallback;
      if (typeof raw !== 'string' || !/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${String(raw)}'`);
      return Number(raw);
    };
    if (flags.only !== undefined && flags.only !== 'model' && flags.only !== 'wire') throw new UsageError(`--only must be model or wire, got '${String(flags.only)}'`);
    const maxCount = int('max-count', 3, 0, 10);
    let walks;
    if (flags.seed !== undefined) walks = { seed: int('seed', 0, -(2 ** 31), 2 ** 32 - 1), walks: int('walks', 10, 1, 1000), length: int('length', 40, 1, 1000) };
    else if (flags.walks !== undefined || flags.length !== undefined) throw new UsageError('--walks and --length need --seed');
    const cases = typeof flags.cases === 'string' ? flags.cases.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
    const only = flags.only as 'model' | 'wire' | undefined;
    const { runConformance, selectCases, ConformUsageError } = await import('../conform/runner');
    const { DriverError, killAdapterGroups } = await import('../conform/driver');

    if (flags.list) {
      const all = selectCases({ only, maxCount, ...(walks ? { walks } : {}) }, { name: '', auth: ['basic', 'hawk'], observes: [] });
      for (const c of all) io.out(`${c.id}  ${c.description}`);
      return 0;
    }
    if ((typeof flags.adapter === 'string') === (flags.self === true)) throw new UsageError('give --adapter "<command>" or --self (one of them)');
    if (typeof flags.adapter === 'string' && flags.adapter.trim() === '') throw new UsageError('--adapter needs a command, got an empty one');
    const reports: ReportPaths = {};
    for (const option of ['junit', 'json', 'html'] as const) if (typeof flags[option] === 'string') reports[option] = flags[option] as string;
    const { unwritableReports, writeReports } = await import('../conform/reports/files');
    const unwritable = unwritableReports(reports);
    if (unwritable.length > 0) throw new UsageError(unwritable.join('; '));
    const { selfAdapterLink } = await import('../conform/selfAdapter');
    const { formatEnd, caseLine } = await import('../conform/reports/text');
    // Adapters run in process groups of their own, out of reach of the terminal's Ctrl-C: kill them here.
    const onSignal = (signal: NodeJS.Signals) => {
      killAdapterGroups();
      io.err(`loop-room-state conform: interrupted by ${signal}; the adapters were killed, no report written`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    let result;
    try {
      result = await runConformance({
        adapter: flags.self ? { describe: 'loop-room-state conform --self', link: selfAdapterLink } : (flags.adapter as string),
        ...(only ? { only } : {}),
        ...(cases ? { cases } : {}),
        maxCount,
        ...(walks ? { walks } : {}),
        timeoutMs: int('timeout-ms', 5000, 100, 600_000),
        freshProcess: flags['fresh-process'] === true,
        jobs: int('jobs', 4, 1, 32),
        quietMs: int('quiet-ms', 300, 10, 60_000),
        // Each failure once, as its case ends (stdout, the report); stderr is for the kit's own errors.
        onCase: (r) => {
          if (r.status === 'failed') io.out(caseLine(r));
        },
      });
    } catch (err) {
      if (!(err instanceof DriverError || err instanceof ConformUsageError)) throw err;
      io.err(`loop-room-state conform: ${err.message}`);
      if (err instanceof DriverError && err.partial) {
        for (const why of writeReports(reports, err.partial, htmlOptions(flags.visualizer))) io.err(`loop-room-state conform: ${why}`);
      }
      return 2;
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
    io.out(formatEnd(result));
    const failed = result.cases.filter((r) => r.status === 'failed').map((r) => r.id);
    if (failed.length > 0) io.out(`Rerun the failing cases: ${rerunCommand(flags, failed)}`);
    const failedWrites = writeReports(reports, result, htmlOptions(flags.visualizer));
    for (const why of failedWrites) io.err(`loop-room-state conform: ${why}`);
    if (failedWrites.length > 0) return 2;
    return result.summary.failed > 0 ? 1 : 0;
  },
};

/** Flags that choose cases or write reports: a rerun names its cases and writes nothing. */
const NOT_RERUN = new Set(['cases', 'only', 'junit', 'json', 'html', 'list']);

/** This run's command line for `cases` alone (a walk's id needs the same --seed, --walks and --length). */
export function rerunCommand(flags: Record<string, string | true>, cases: readonly string[]): string {
  const quote = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  const args = Object.entries(flags)
    .filter(([name]) => !NOT_RERUN.has(name))
    .map(([name, value]) => (value === true ? `--${name}` : `--${name} ${quote(value)}`));
  return ['loop-room-state conform', ...args, `--cases ${quote(cases.join(','))}`].join(' ');
}

const htmlOptions = (visualizer: string | true | undefined) => {
  const visualizerUrl = typeof visualizer === 'string' ? visualizer : defaultVisualizer();
  return visualizerUrl === undefined ? {} : { visualizerUrl };
};

/** The visualizer built next to the CLI (dist/visualizer.html), as a file URL. */
function defaultVisualizer(): string | undefined {
  const path = join(__dirname, 'visualizer.html');
  return existsSync(path) ? pathToFileURL(path).href : undefined;
}
