// Traffic compare: two windows' figures side by side. Which two windows a preset means, and what changed on each
// line between them (up, down, new, gone), in numbers and words. Pure: tested in Node, the page only paints it.

/** A chosen stretch of time, as the server reads it (`?since=ISO&until=ISO`, whole minutes). */
export interface TimeRange {
  since: string;
  until: string;
}

/**
 * The window the server counted when asked for `asked` (its answer's `since` and `until`), and whether an end was
 * counted to its hour: the server keeps each minute's counts a week by default, older ones only by the hour.
 */
export function countedRange(asked: TimeRange, answer: { since: string | null; until: string | null }): TimeRange & { byHour: boolean } {
  const MINUTE = 60_000;
  const since = answer.since ?? asked.since;
  const until = answer.until ?? asked.until;
  const byHour = Date.parse(since) < Math.floor(Date.parse(asked.since) / MINUTE) * MINUTE || Date.parse(until) > Math.ceil(Date.parse(asked.until) / MINUTE) * MINUTE;
  return { since, until, byHour };
}

/** What is compared: a preset ending now, or two chosen ranges. */
export type Comparison = { preset: 'hour' | 'day' } | { preset: 'ranges'; before: TimeRange; after: TimeRange };
export type ComparePreset = Comparison['preset'];

export const COMPARE_LABEL: Record<ComparePreset, string> = {
  hour: 'this hour vs the same hour yesterday',
  day: 'today vs yesterday (up to the same time)',
  ranges: 'two chosen ranges',
};

/** The range is well formed: two ISO times, the first before the second. */
export function validRange(r: TimeRange): boolean {
  const a = Date.parse(r.since);
  const b = Date.parse(r.until);
  return Number.isFinite(a) && Number.isFinite(b) && a < b;
}

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** One calendar day earlier, same wall-clock time (local; a day around a DST change is 23 or 25 hours). */
function dayBefore(ms: number): number {
  const d = new Date(ms);
  d.setDate(d.getDate() - 1);
  return d.getTime();
}

/**
 * The two ranges a comparison reads at `now` (epoch ms). `hour`: the last 60 minutes and the same 60 minutes a day
 * earlier. `day`: today from local midnight up to now, and yesterday from its midnight up to the same time (a part
 * of a day against the same part, never against a whole one).
 */
export function compareRanges(c: Comparison, now: number): { before: TimeRange; after: TimeRange } {
  if (c.preset === 'ranges') return { before: c.before, after: c.after };
  if (c.preset === 'hour') return { before: { since: iso(dayBefore(now - HOUR)), until: iso(dayBefore(now)) }, after: { since: iso(now - HOUR), until: iso(now) } };
  const midnight = new Date(now);
  midnight.setHours(0, 0, 0, 0);
  return { before: { since: iso(dayBefore(midnight.getTime())), until: iso(dayBefore(now)) }, after: { since: iso(midnight.getTime()), until: iso(now) } };
}

export type Change = 'up' | 'down' | 'new' | 'gone' | 'same' | 'unused';

export interface LineChange {
  before: number;
  after: number;
  change: Change;
  /** (after - before) / before; null when there was none before. */
  ratio: number | null;
}

export function lineChange(before: number, after: number): LineChange {
  const change: Change = before === 0 ? (after === 0 ? 'unused' : 'new') : after === 0 ? 'gone' : after > before ? 'up' : after < before ? 'down' : 'same';
  return { before, after, change, ratio: before > 0 ? (after - before) / before : null };
}

/** Every line's change: ids from either side (a line missing on one side counted 0 there). */
export function compareCounts(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Map<string, LineChange> {
  const ids = new Set([...before.keys(), ...after.keys()]);
  return new Map([...ids].map((id) => [id, lineChange(before.get(id) ?? 0, after.get(id) ?? 0)]));
}

/** The sign a change carries on the chart beside its colour and pattern (so it is not told by colour alone). */
export const CHANGE_SIGN: Record<Change, string> = { up: '▲', down: '▼', new: '✚', gone: '✕', same: '=', unused: '' };

export const CHANGE_WORDS: Record<Change, string> = {
  up: 'more than before',
  down: 'fewer than before',
  new: 'new: none before',
  gone: 'gone: none now',
  same: 'unchanged',
  unused: 'unused in both',
};

/** "+150 %", "−40 %", "0 %"; "new" when there was none before. */
export function percentText(c: LineChange): string {
  if (c.ratio === null) return c.after > 0 ? 'new' : '–';
  const p = Math.round(c.ratio * 100);
  return `${p > 0 ? '+' : p < 0 ? '−' : ''}${Math.abs(p)} %`;
}

/** The label on the chart: the sign, then before → after ("▲ 4→7"); nothing for a line unused in both. */
export const changeLabel = (c: LineChange) => (c.change === 'unused' ? '' : `${CHANGE_SIGN[c.change]} ${c.before}→${c.after}`);

/** In words, for names and tables: "4 → 7 (+75 %, more than before)". */
export const changeText = (c: LineChange) => `${c.before} → ${c.after} (${c.change === 'new' || c.change === 'unused' ? CHANGE_WORDS[c.change] : `${percentText(c)}, ${CHANGE_WORDS[c.change]}`})`;
