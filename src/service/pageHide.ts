// Leaving when the page goes away: `pagehide` fires when a tab closes or navigates (also into the
// back/forward cache: the room is left then too, as a closed tab would).

export function watchPageHide(leave: () => void): { unsubscribe(): void } {
  const page = globalThis as { addEventListener?: (type: string, fn: () => void) => void; removeEventListener?: (type: string, fn: () => void) => void };
  if (typeof page.addEventListener !== 'function') throw new TypeError('leaveOnPageHide: needs a browser page (window.addEventListener)');
  page.addEventListener('pagehide', leave);
  return { unsubscribe: () => page.removeEventListener?.('pagehide', leave) };
}
