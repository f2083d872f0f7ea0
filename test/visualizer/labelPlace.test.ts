// Each edge label reads as its own line's: nearer it than any other line, at the sizes the chart opens at, in every
// scenario state that highlights labels; and waiting -> init's line has room between the labels beside it.
import type { Page } from 'playwright-core';
import { closeLabels, diagramReady, labelsNearerOtherLines, lineRoom, linesThroughLabels, usePageFixture } from '../support/visualizerPage';

const fx = usePageFixture();

async function open(size: { width: number; height: number }, fragment = ''): Promise<Page> {
  const page = await (await fx.browser.newContext({ viewport: size })).newPage();
  await page.goto(`${fx.server.url}${fragment}`);
  await diagramReady(page);
  await page.waitForSelector('#diagram[data-labels="ready"]');
  return page;
}

it.each([
  [1280, 800, ''],
  [1920, 1080, ''],
  [1280, 800, '#events=Session.connectionCreated,Publisher.streamCreated,Session.connectionCreated,Session.streamCreated,Session.streamDestroyed'],
])('at %ix%i%s every edge label is nearer its own line than any other, 4 px apart, no line through one', async (width, height, fragment) => {
  const page = await open({ width, height }, fragment);
  try {
    const near = await labelsNearerOtherLines(page);
    process.stdout.write(`labels: own line nearest by at least ${near.least} px at ${width}x${height}${fragment ? ' (5 steps)' : ''}\n`);
    expect(near.nearer).toEqual([]);
    expect((await closeLabels(page, 4)).close).toEqual([]);
    expect(await linesThroughLabels(page)).toEqual([]);
  } finally {
    await page.context().close();
  }
});

it("waiting -> init's curve has room: 6 px or more from any other label at 1280x800", async () => {
  const page = await open({ width: 1280, height: 800 });
  try {
    const room = await lineRoom(page, 'edge-waiting-Session_connectionDestroyed-0');
    process.stdout.write(`waiting -> init: nearest labels ${JSON.stringify(room)}\n`);
    expect(room[0].d).toBeGreaterThanOrEqual(6);
  } finally {
    await page.context().close();
  }
});

const FIVE_STEPS = '#events=Session.connectionCreated,Publisher.streamCreated,Session.connectionCreated,Session.streamCreated,Session.streamDestroyed';

it('the current state is bold in a box sized for it, and an available label has room inside its green-edged box', async () => {
  for (const [fragment, state] of [
    ['', 'init'],
    ['#events=Session.connectionCreated,Publisher.streamCreated,Session.connectionCreated,Session.streamCreated', 'sendrecv'],
    [FIVE_STEPS, 'sending'],
  ]) {
    const page = await open({ width: 1280, height: 800 }, fragment);
    try {
      const room = await page.$eval(`#diagram [data-state="${state}"][data-active="true"]`, (g) => {
        const box = (g.querySelector('path, polygon') as SVGGraphicsElement).getBoundingClientRect();
        const texts = Array.from(g.querySelectorAll('text'));
        return {
          bold: texts.every((t) => getComputedStyle(t).fontWeight === '700'),
          room: Math.min(...texts.map((t) => t.getBoundingClientRect()).flatMap((r) => [r.left - box.left, box.right - r.right])),
        };
      });
      expect({ state, bold: room.bold, room: room.room >= 4 }).toEqual({ state, bold: true, room: true });
      const labels = await page.$$eval('#diagram [data-available="true"]', (gs) =>
        gs.map((g) => {
          const back = (g.querySelector('rect.label-backing') as SVGRectElement).getBoundingClientRect();
          const rs = Array.from(g.querySelectorAll(':scope > text'), (t) => t.getBoundingClientRect());
          return { id: g.id, room: Math.min(...rs.flatMap((r) => [r.left - back.left, back.right - r.right, r.top - back.top, back.bottom - r.bottom])) };
        }),
      );
      expect(labels.length).toBeGreaterThan(0);
      for (const l of labels) expect({ id: l.id, room: l.room >= 1.5 }).toEqual({ id: l.id, room: true });
    } finally {
      await page.context().close();
    }
  }
});

it('an exported chart measures its text as the page does, and every text is inside the file', async () => {
  const page = await open({ width: 1440, height: 900 }, FIVE_STEPS);
  try {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-svg"]')]);
    const file = (await download.path()) as string;
    const svg = (await import('node:fs')).readFileSync(file, 'utf8');
    expect(svg.match(/<text[^>]*style="[^"]*text-rendering:\s*geometricprecision/gi)?.length).toBeGreaterThan(20);
    const view = await page.context().newPage();
    await view.setContent(svg);
    const outside = await view.$$eval('svg text', (ts) => {
      const root = document.querySelector('svg') as SVGSVGElement;
      const box = root.getBoundingClientRect();
      return ts.map((t) => [t.textContent, t.getBoundingClientRect()] as const).filter(([, r]) => r.left < box.left || r.right > box.right || r.top < box.top || r.bottom > box.bottom).map(([t]) => t);
    });
    expect(outside).toEqual([]);
  } finally {
    await page.context().close();
  }
});
