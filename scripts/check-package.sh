#!/usr/bin/env bash
# Packs the package and uses the tarball from a fresh temporary project, as a consumer would:
# CommonJS require, ESM import, TypeScript types both ways, and the CLI through npx.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$root"
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
echo "packed $tarball ($(du -k "$work/$tarball" | cut -f1) KiB)"
tar -tzf "$work/$tarball" | sed 's/^package\///' | sort > "$work/files.txt"
for f in dist/index.mjs dist/index.cjs dist/cli.cjs dist/types/src/index.d.ts README.md; do
  grep -qx "$f" "$work/files.txt" || { echo "missing from tarball: $f"; exit 1; }
done
if grep -E '^(test|machines|src|node_modules)/' "$work/files.txt"; then echo "sources or tests leaked into the tarball"; exit 1; fi

mkdir "$work/consumer" && cd "$work/consumer"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund "$work/$tarball" "typescript@$(node -p "require('$root/node_modules/typescript/package.json').version")"

node -e "
const { roomSessionMachine, ROOM_STATES, ROOM_EVENTS, walkRoom } = require('loop-room-state');
const { createActor } = require('xstate');
const a = createActor(roomSessionMachine).start();
a.send({ type: 'Session.connectionCreated' });
if (a.getSnapshot().value !== 'waiting' || ROOM_STATES.length !== 7 || ROOM_EVENTS.length !== 6) throw new Error('CommonJS import misbehaves');
if (walkRoom([{ type: 'Session.connectionCreated' }])[0].report.state !== 'waiting') throw new Error('walkRoom misbehaves');
console.log('CommonJS require: ok');
"
node --input-type=module -e "
import { roomSessionMachine, ROOM_STATES } from 'loop-room-state';
import { createActor } from 'xstate';
const a = createActor(roomSessionMachine).start();
a.send({ type: 'Session.connectionCreated' });
a.send({ type: 'Session.connectionCreated' });
if (a.getSnapshot().value !== 'starting' || ROOM_STATES[0] !== 'init') throw new Error('ESM import misbehaves');
console.log('ESM import: ok');
"

# Types, for an ESM and a CommonJS consumer.
cat > esm.mts <<'TS'
import { roomSessionMachine, type RoomState, type RoomCounters, type RoomEventType } from 'loop-room-state';
import { createActor } from 'xstate';
const s: RoomState = createActor(roomSessionMachine).start().getSnapshot().value;
const c: RoomCounters = { connections: 0, sendStreams: 0, recvStreams: 0 };
const e: RoomEventType = 'Publisher.streamCreated';
export { s, c, e };
TS
cat > cjs.cts <<'TS'
import lrs = require('loop-room-state');
const states: readonly lrs.RoomState[] = lrs.ROOM_STATES;
export = states;
TS
npx tsc --noEmit --strict --module node16 --moduleResolution node16 --skipLibCheck esm.mts cjs.cts
echo 'TypeScript types (ESM and CommonJS): ok'

npx --no-install loop-room-state --help | grep -q simulate
npx --no-install loop-room-state simulate | grep -q '"state":"sendrecv"'
echo 'CLI from the tarball: ok'

# The testing entry and generate-tests (issue 4): CommonJS, ESM, types, the schema export, the CLI.
node -e "const t = require('loop-room-state/testing'); if (t.coverageOf(t.generateTestCases()).totals.percent !== 100) throw new Error('testing entry misbehaves'); require.resolve('loop-room-state/test-vectors.schema.json'); console.log('testing entry (CommonJS): ok')"
node --input-type=module -e "import { generateTestCases } from 'loop-room-state/testing'; if (generateTestCases({ maxCount: 3 }).length < 1) throw new Error('testing entry misbehaves (ESM)'); console.log('testing entry (ESM): ok')"
cat > testing.mts <<'TS'
import { generateTestCases, coverageOf, type TestCase } from 'loop-room-state/testing';
const cases: TestCase[] = generateTestCases({ maxCount: 3, coverage: 'transitions' });
export const percent: number = coverageOf(cases).totals.percent;
TS
npx tsc --noEmit --strict --module node16 --moduleResolution node16 --skipLibCheck testing.mts
npx --no-install loop-room-state generate-tests --max-count 3 --report report.txt > vectors.json
node -e "const v = JSON.parse(require('fs').readFileSync('vectors.json', 'utf8')); if (!v.length || !v[0].steps.length) throw new Error('generate-tests printed no vectors')"
grep -q '(100% of reachable)' report.txt
echo 'testing entry types and generate-tests from the tarball: ok'

# The visualizer (issue 5): the single page, the inspector entry both ways, the command.
grep -qx dist/visualizer.html "$work/files.txt" || { echo 'missing from tarball: dist/visualizer.html'; exit 1; }
node -e "const { createVisualizerInspector } = require('loop-room-state/inspect'); if (typeof createVisualizerInspector !== 'function') throw new Error('inspect entry (CommonJS) misbehaves'); console.log('inspect entry (CommonJS): ok')"
node --input-type=module -e "import { createVisualizerInspector } from 'loop-room-state/inspect'; if (typeof createVisualizerInspector !== 'function') throw new Error('inspect entry (ESM) misbehaves'); console.log('inspect entry (ESM): ok')"
npx --no-install loop-room-state visualize --help | grep -q -- '--port'
echo 'visualizer from the tarball: ok'
