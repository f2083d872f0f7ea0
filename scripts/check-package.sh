#!/usr/bin/env bash
# Packs the package and uses the tarball from a fresh temporary project, as a consumer would:
# CommonJS require, ESM import, TypeScript types both ways, and the CLI through npx.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Pack as a fresh clone would: the tracked and new files without dist/, so `prepack` must build it
# (installed node_modules linked, not copied).
clone="$work/clone"
mkdir "$clone"
cd "$root"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -xf - -C "$clone"
ln -s "$root/node_modules" "$clone/node_modules"
[ ! -e "$clone/dist" ] || { echo "the clone already has dist/"; exit 1; }
tarball=$(cd "$clone" && npm pack --silent --pack-destination "$work" | tail -n 1)
[ -f "$clone/dist/index.mjs" ] || { echo "npm pack did not build dist/ (prepack)"; exit 1; }
echo "packed $tarball ($(du -k "$work/$tarball" | cut -f1) KiB)"
tar -tzf "$work/$tarball" | sed 's/^package\///' | sort > "$work/files.txt"
for f in dist/index.mjs dist/index.cjs dist/cli.cjs dist/sqlite-worker.cjs dist/types/src/index.d.ts README.md; do
  grep -qx "$f" "$work/files.txt" || { echo "missing from tarball: $f"; exit 1; }
done
if grep -E '^(test|machines|src|node_modules)/' "$work/files.txt"; then echo "sources or tests leaked into the tarball"; exit 1; fi

mkdir "$work/consumer" && cd "$work/consumer"
npm init -y >/dev/null
# What the README says to install: the package and its peer xstate. The optional peers (ws, the server's
# libraries) must not come along.
npm install --silent --no-audit --no-fund "$work/$tarball" "xstate@$(node -p "require('$root/node_modules/xstate/package.json').version")" \
  "typescript@$(node -p "require('$root/node_modules/typescript/package.json').version")"
for optional in ws hawk better-sqlite3 prom-client pg react; do
  [ ! -e "node_modules/$optional" ] || { echo "optional peer $optional was installed with the package"; exit 1; }
done
[ "$(node -p "require('xstate/package.json').version")" = "$(node -p "require('$root/node_modules/xstate/package.json').version")" ] || { echo 'xstate is not the one installed'; exit 1; }
[ "$(find node_modules -name package.json -path '*/xstate/package.json' | wc -l)" = 1 ] || { echo 'more than one copy of xstate'; exit 1; }
echo 'install (package + xstate, no optional peers): ok'

node -e "
const { roomSessionMachine, ROOM_STATES, ROOM_EVENTS, walkRoom } = require('loop-room-state');
const { createActor } = require('xstate');
const a = createActor(roomSessionMachine).start();
a.send({ type: 'Session.connectionCreated' });
if (a.getSnapshot().value !== 'waiting' || ROOM_STATES.length !== 7 || ROOM_EVENTS.length !== 6) throw new Error('CommonJS import misbehaves');
if (walkRoom([{ type: 'Session.connectionCreated' }, 'Session.connectionCreated'])[1].report.state !== 'starting') throw new Error('walkRoom misbehaves');
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
import { roomSessionMachine, walkRoom, type RoomState, type RoomCounters, type RoomEventType } from 'loop-room-state';
import { createActor } from 'xstate';
const s: RoomState = createActor(roomSessionMachine).start().getSnapshot().value;
const c: RoomCounters = { connections: 0, sendStreams: 0, recvStreams: 0 };
const e: RoomEventType = 'Publisher.streamCreated';
// Event types alone are events; a misspelt one does not compile.
const steps = walkRoom(['Session.connectionCreated', { type: 'Publisher.streamCreated' }]);
// @ts-expect-error misspelt event type
walkRoom(['Session.conectionCreated']);
export { s, c, e, steps };
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

# Without ws: the Node inspector entry still loads, and connecting says which package to install.
for flavour in "const { createVisualizerInspector } = require('loop-room-state/inspect');" "import { createVisualizerInspector } from 'loop-room-state/inspect';"; do
  input=commonjs; [[ $flavour == import* ]] && input=module
  message=$(node --input-type=$input -e "$flavour
const messages = [];
const inspector = createVisualizerInspector({ url: 'ws://127.0.0.1:9', onError: (e) => messages.push(e.message) });
inspector.next({ type: '@xstate.snapshot', actorRef: {}, event: { type: 'xstate.init' }, snapshot: { value: 'init', status: 'active', context: { connections: 0, sendStreams: 0, recvStreams: 0 } } });
inspector.close().then(() => setTimeout(() => console.log(messages.join('|')), 50));")
  [[ $message == *"'ws' is not installed"*"npm install ws"* && $message != *"|"* ]] || { echo "Node inspector without ws ($input): unclear message: $message"; exit 1; }
done
echo "Node inspector without ws: one clear message (CommonJS and ESM): ok"
# visualize without ws serves the page alone and says what the live view needs, offering no ws:// address (bounded:
# it runs until stopped).
timeout 20 ./node_modules/.bin/loop-room-state visualize --port 0 > visualize.out 2>&1 &
visualize=$!
for _ in $(seq 100); do grep -q 'Visualizer: http' visualize.out && break; sleep 0.2; done
url=$(sed -n 's/^Visualizer: \(http[^ ]*\).*/\1/p' visualize.out)
page=$(node -e "fetch(process.argv[1]).then((r) => r.text()).then((t) => console.log(t.includes('<html') ? 'page' : 'no page'), () => console.log('no answer'))" "${url:-http://127.0.0.1:9/}")
kill "$visualize" 2>/dev/null; wait "$visualize" 2>/dev/null || true
[[ $page == page && $(cat visualize.out) == *"npm install ws"* && $(cat visualize.out) != *"ws://"* ]] || { echo "visualize without ws: $page; $(cat visualize.out)"; exit 1; }
echo "visualize without ws: the page served, the live view's package named: ok"

# The React entry (issue 20): react is an optional peer, so the entry is checked once the app installs it;
# both formats give useRoomSession, its types compile, and the entry's ESM shares the main entry's chunks.
grep -qx dist/react.mjs "$work/files.txt" && grep -qx dist/react.cjs "$work/files.txt" || { echo 'missing from tarball: dist/react.mjs or dist/react.cjs'; exit 1; }
npm install --silent --no-audit --no-fund "react@$(node -p "require('$root/node_modules/react/package.json').version")"
node -e "const { useRoomSession } = require('loop-room-state/react'); if (typeof useRoomSession !== 'function') throw new Error('react entry (CommonJS) misbehaves'); console.log('react entry (CommonJS): ok')"
node --input-type=module -e "import { useRoomSession } from 'loop-room-state/react'; import { fromRoomSession } from 'loop-room-state'; if (typeof useRoomSession !== 'function' || typeof fromRoomSession !== 'function') throw new Error('react entry (ESM) misbehaves'); console.log('react entry (ESM): ok')"
cat > react.mts <<'TS'
import { useRoomSession, type UseRoomSession, type RoomSessionStatus } from 'loop-room-state/react';
export function useCall(roomToken: string): RoomSessionStatus {
  const call: UseRoomSession = useRoomSession({ roomToken, serverUrl: 'https://loop.example.com/v1', join: { displayName: 'Web' } });
  call.send('Session.connectionCreated');
  // @ts-expect-error misspelt event type
  call.send('Session.conectionCreated');
  return call.status;
}
TS
npx tsc --noEmit --strict --module node16 --moduleResolution node16 --skipLibCheck react.mts
echo 'react entry types: ok'

# Every entry's types under TypeScript's older default resolution too (node10 reads no `exports`: typesVersions).
cat > node10.ts <<'TS'
import { createRoomSession } from 'loop-room-state';
import { useRoomSession } from 'loop-room-state/react';
import { createVisualizerInspector } from 'loop-room-state/inspect';
import { generateTestCases } from 'loop-room-state/testing';
export const entries = [createRoomSession, useRoomSession, createVisualizerInspector, generateTestCases];
TS
npx tsc --noEmit --strict --module commonjs --moduleResolution node10 --ignoreDeprecations 5.0 --skipLibCheck node10.ts
echo 'entry types under moduleResolution node10: ok'
