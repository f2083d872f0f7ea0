import { DEFAULT_MAX_COUNT, checkMaxCount, exploreGraph } from './explore';
import { coversOfSteps, isolatedPaths } from './isolate';
import { coverageItems } from './items';
import { candidateTargets, coverageTour, randomWalks, stateTargets } from './select';
import { stateTrail, toTestCase } from './vectors';
import type { GenerateOptions, TestCase } from './types';

const pad = (n: number, total: number) => String(n).padStart(String(total).length, '0');

/**
 * Generate test cases from the model: a coverage-directed tour (every transition candidate and rejection
 * reachable within `maxCount`, or every state), or, with `seed`, seeded random walks for soak use.
 */
export function generateTestCases(options: GenerateOptions = {}): TestCase[] {
  const coverage = options.coverage ?? 'transitions';
  if (coverage !== 'transitions' && coverage !== 'states') throw new RangeError(`coverage must be 'states' or 'transitions', got ${String(coverage)}`);
  const maxCount = checkMaxCount(options.maxCount ?? DEFAULT_MAX_COUNT);
  const graph = exploreGraph(maxCount);
  if (options.seed !== undefined) {
    if (options.isolate) throw new RangeError('isolate and seed are two kinds of cases: give one of them');
    const seed = checkInteger('seed', options.seed, -(2 ** 31), 2 ** 32 - 1);
    const walks = checkInteger('walks', options.walks ?? 10, 1, 10_000);
    const length = checkInteger('walkLength', options.walkLength ?? 40, 1, 100_000);
    return randomWalks(graph, seed, walks, length).map((events, i) => {
      const c = toTestCase(`walk-${seed}-${pad(i + 1, walks)}`, '', events);
      c.description = `Random walk ${i + 1} of ${walks} (seed ${seed}, max count ${maxCount}): ${eventCount(c)} ${through(c)}`;
      return c;
    });
  }
  if (options.isolate) {
    if (coverage !== 'transitions') throw new RangeError("isolate works on coverage 'transitions' (one case per transition candidate or rejection)");
    const summaries = new Map(coverageItems().map((i) => [i.id, i.summary]));
    const isolated = isolatedPaths(graph);
    return isolated.map(({ item, events }, i) => {
      const c = toTestCase(`item-${pad(i + 1, isolated.length)}`, '', events);
      c.description = `Item ${item}: ${summaries.get(item) ?? item} (max count ${maxCount}): ${eventCount(c)}, the last one the item's`;
      coversOfSteps(c.steps).forEach((covers, k) => (c.steps[k].covers = covers));
      return c;
    });
  }
  const paths = coverage === 'states' ? coverageTour(graph, stateTargets(graph), ['init']) : coverageTour(graph, candidateTargets);
  return paths.map((events, i) => {
    const c = toTestCase(`${coverage}-${pad(i + 1, paths.length)}`, '', events);
    c.description = `${coverage === 'states' ? 'State' : 'Transition'} tour, part ${i + 1} of ${paths.length} (max count ${maxCount}): ${eventCount(c)} ${through(c)}`;
    return c;
  });
}

const through = (c: TestCase) => (c.steps.every((s) => s.state === 'init') ? 'in init' : `through ${stateTrail(c)}`);

function eventCount(c: TestCase): string {
  const rejected = c.steps.filter((s) => !s.accepted).length;
  return `${c.steps.length} event${c.steps.length === 1 ? '' : 's'}${rejected > 0 ? ` (${rejected} rejected)` : ''}`;
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  return value;
}
