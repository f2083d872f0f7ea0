// The whole result, machine-readable (docs/conformance.md describes the fields).
import type { RunResult } from '../types';

/** Bumped when a field changes meaning or goes away. */
export const RESULT_FORMAT = 1;

export function formatJson(run: RunResult): string {
  return `${JSON.stringify({ format: RESULT_FORMAT, ...run }, null, 2)}\n`;
}
