// The test page of test/react/browser.test.ts: one call component using useRoomSession under StrictMode
// (React's development build, so effects run twice on mount), rendered into data attributes the test reads.
import { createElement as h, StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { useRoomSession } from '../../src/react';

const params = new URLSearchParams(location.search);
const w = window as unknown as { send?: (type: string) => void; unmount?: () => void };

function Call() {
  const { status, state, counters, send, room, error } = useRoomSession({
    roomToken: params.get('room') ?? '',
    serverUrl: `${location.origin}/v1`,
    join: { displayName: 'Web' },
    leaveOnPageHide: params.has('leaveOnPageHide'),
  });
  w.send = (type) => send(type as never);
  return h('output', { id: 'call', 'data-status': status, 'data-state': state, 'data-counters': JSON.stringify(counters), 'data-room': room?.roomConnectionId ?? '', 'data-error': error?.message ?? '' });
}

function App() {
  const [mounted, setMounted] = useState(true);
  w.unmount = () => setMounted(false);
  return mounted ? h(Call) : h('p', { id: 'unmounted' }, 'unmounted');
}

createRoot(document.getElementById('root')!).render(h(StrictMode, null, h(App)));
