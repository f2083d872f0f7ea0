import type { RoomState } from '../../machines/domain';

/** One step of a test vector: the event sent, then the expected settled state and counters after it. */
export interface TestStep {
  event: string;
  /** True when the event is accepted (one status report); false when rejected (no report, nothing changes). */
  accepted: boolean;
  state: RoomState;
  connections: number;
  sendStreams: number;
  recvStreams: number;
  /** Isolated cases only: the coverage items this step fires (its event's candidate, then any settling). */
  covers?: string[];
}

/** One test case: a sequence of events from `init` with zero counters. */
export interface TestCase {
  id: string;
  description: string;
  steps: TestStep[];
}

/** What a generated tour covers: every state, or every transition candidate and rejection. */
export type CoverageCriterion = 'states' | 'transitions';

/** What generateTestCases() takes: a coverage tour (the default) or seeded random walks. */
export interface GenerateOptions {
  /** What the tour covers: every transition candidate and rejection (default), or every state. */
  coverage?: CoverageCriterion;
  /** Counter bound of the exploration: a counter never goes above it (default 2). */
  maxCount?: number;
  /** When set, seeded random walks (for soak use) instead of the coverage tour; same seed, same walks. */
  seed?: number;
  /** Random walks: how many (default 10). */
  walks?: number;
  /** Random walks: events per walk (default 40). */
  walkLength?: number;
  /** One short case per coverage item (shortest prefix + the item's event), each step naming what it covers. */
  isolate?: boolean;
}
