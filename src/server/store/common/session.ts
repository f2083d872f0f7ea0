// What a store keeps of a session beyond what units of work decide: its report count, when it entered its current
// state and the path of states it took (the traffic view's time in state and paths count from them). Pure; both
// stores apply units of work through it.
import { PATH_MAX_STATES } from '../../../traffic/wire';
import type { NewReport, NewSession, SessionDecision, SessionRecord } from '../contract';

type Changes = Extract<SessionDecision<unknown>, { kind: 'apply' }>['changes'];

/** A session as created: in its first state since its join. */
export const startedSession = (s: NewSession): SessionRecord => ({ ...s, stateSince: s.joinedAt, path: [s.snapshot.state] });

/** The session after a unit of work's `changes` and `report` (if any). */
export function appliedSession(session: SessionRecord, changes: Changes, report: NewReport | undefined): SessionRecord {
  const next: SessionRecord = { ...session, ...changes };
  if (report) next.reportCount = session.reportCount + 1;
  const state = next.snapshot.state;
  if (state !== session.snapshot.state) {
    // The contract's rule: without the report there is no time the session entered the state.
    if (!report) throw new Error(`session ${session.id}: a change of state comes with the report that says so`);
    next.stateSince = report.receivedAt;
    // One state past the cut is kept: it tells that the path went on.
    next.path = session.path.length > PATH_MAX_STATES ? session.path : [...session.path, state];
  }
  return next;
}
