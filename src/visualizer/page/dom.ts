// Small DOM helpers shared by the page's modules.
export const $ = <T extends HTMLElement = HTMLElement>(sel: string) => {
  const found = document.querySelector<T>(sel);
  if (!found) throw new Error(`page is missing ${sel}`);
  return found;
};

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

export const announce = (text: string) => {
  // Clear first so the same words twice are still read out.
  const a = $('#announcer');
  a.textContent = '';
  requestAnimationFrame(() => (a.textContent = text));
};


/**
 * `text` with a line-break opportunity (<wbr>) at each boundary inside a word: after `.`, `-`, `/` and `_`, and where
 * a camelCase word's next part starts ("Session.|stream|Created", "wrong-|counters"). Narrow table cells then wrap
 * between words and parts of words, never inside one (they use `overflow-wrap: normal`).
 */
export function breakable(text: string): Array<Node | string> {
  const out: Array<Node | string> = [];
  for (const part of text.split(/(?<=[./_-])(?=\S)|(?<=[a-z])(?=[A-Z])/)) {
    if (out.length > 0) out.push(document.createElement('wbr'));
    out.push(part);
  }
  return out;
}

/**
 * Scroll `e` into view when its top is not in the upper three quarters of the window (on a phone the docked timeline
 * covers the bottom): what a click changed below or above the screen, brought to where the user looks.
 */
export function reveal(e: Element): void {
  const top = e.getBoundingClientRect().top;
  if (top < 0 || top > innerHeight * 0.75) e.scrollIntoView({ block: 'start' });
}
