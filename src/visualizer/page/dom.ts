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

