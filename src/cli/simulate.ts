import { ROOM_EVENTS, isRoomEventType } from '../../machines/domain';
import { walkRoom, type RoomStep } from '../model/step';
import { WORKED_EXAMPLE } from '../model/workedExample';
import { closest, parseArgs } from './args';
import type { Command } from './command';

export const simulate: Command = {
  name: 'simulate',
  summary: "walk an event sequence through the machine: state, counters and report body per step",
  usage: [
    'loop-room-state simulate [--events a,b,c] [--json]',
    '',
    "  --events  comma-separated event types (default: the spec's worked example, section 5)",
    '  --json    print the steps as a JSON array instead of a table',
  ].join('\n'),
  async run(argv, io) {
    const { flags } = parseArgs(argv, { events: 'value', json: 'switch' });
    const events =
      typeof flags.events === 'string'
        ? flags.events.split(',').map((e) => e.trim()).filter((e) => e.length > 0)
        : [...WORKED_EXAMPLE.map((row) => row.event)];
    // Unknown names are still walked (the machine rejects them, and the table says so); a hint goes to stderr.
    for (const name of new Set(events.filter((e) => !isRoomEventType(e)))) {
      const hint = closest(name, ROOM_EVENTS);
      io.err(`simulate: unknown event '${name}'; ${hint ? `did you mean '${hint}'?` : `the events are ${ROOM_EVENTS.join(', ')}`}`);
    }
    const steps = walkRoom(events);
    if (flags.json) {
      io.out(JSON.stringify(steps, null, 2));
      return 0;
    }
    io.out(formatSteps(steps));
    return 0;
  },
};

export function formatSteps(steps: readonly RoomStep[]): string {
  const lines = ['#  event                        state      c  s  r  report'];
  steps.forEach((s, i) => {
    const outcome = s.report ? JSON.stringify(s.report) : `rejected (${s.anomaly?.reason}): no report`;
    lines.push(
      `${String(i + 1).padEnd(2)} ${s.event.padEnd(28)} ${s.state.padEnd(10)} ${s.counters.connections}  ${s.counters.sendStreams}  ${s.counters.recvStreams}  ${outcome}`,
    );
  });
  return lines.join('\n');
}
