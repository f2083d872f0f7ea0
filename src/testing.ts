// `loop-room-state/testing`: model-based test generation, kept out of the client's entry point.
export { generateTestCases } from './testgen/generate';
export { coverageOf, type CoverageReport, type CoverageOptions, type ItemCoverage, type ItemStatus, type CoveredBy } from './testgen/coverage';
export { coverageItems, type CoverageItem } from './testgen/items';
export { formatCoverageReport } from './testgen/reportText';
export { renderJestFile, type JestFileOptions } from './testgen/jestFile';
export { exploreGraph, EXPLORED_EVENTS, UNKNOWN_EVENT, DEFAULT_MAX_COUNT, type TestGraph, type GraphNode, type GraphEdge } from './testgen/explore';
export type { TestCase, TestStep, GenerateOptions, CoverageCriterion } from './testgen/types';
