import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'puppeteer-core' with { 'resolution-mode': 'import' };
import { CSS } from '../../audit/report/shell';
import { linePlot } from '../../audit/report/svg';
import { launchBrowser } from '../helpers/browser';

/**
 * The report's layout in a real Chromium: where four rate lines run close together (RLCF's
 * compile, static-check, execution and pass rates), no data label overlaps another or a legend
 * entry, and a table wider than the page scrolls inside its own box while the page does not.
 */
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
});

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const plot = linePlot({
  title: 'rates per iteration',
  xLabels: ['0', '1', '2', '3'],
  yMax: 1,
  yFormat: pct,
  series: [
    { name: 'compile rate', color: '#1f77b4', values: [0.97, 0.98, 0.985, 0.99] },
    { name: 'static-check pass rate', color: '#ff7f0e', values: [0.96, 0.975, 0.98, 0.99] },
    { name: 'execution rate', color: '#2ca02c', values: [0.95, 0.97, 0.98, 0.985] },
    { name: 'pass@1', color: '#d62728', values: [0.94, 0.96, 0.975, 0.98] },
  ],
});
const wideTable = `<table><thead><tr>${Array.from({ length: 24 }, (_, i) => `<th>pass@k column ${i}</th>`).join('')}</tr></thead>
<tbody><tr>${Array.from({ length: 24 }, (_, i) => `<td class="num">${i}.0%</td>`).join('')}</tr></tbody></table>`;

describe('report layout in Chromium', () => {
  it('draws no data label over another label or a legend entry', async () => {
    const page = await browser.newPage();
    await page.setContent(`<!doctype html><style>${CSS}</style>${plot}`);
    const boxes = await page.$$eval('svg.plot text.tick', (texts) =>
      texts.map((t) => {
        const b = (t as unknown as { getBBox(): { x: number; y: number; width: number; height: number } }).getBBox();
        return { text: t.textContent ?? '', x: b.x, y: b.y, w: b.width, h: b.height, y0: Number(t.getAttribute('y')) };
      }),
    );
    await page.close();
    // legend entries (row at y 33) and data labels (everything inside the plot but the axes' ticks)
    const labels = boxes.filter((b) => b.y0 === 33 || (/^\d+\.\d%$/.test(b.text) && b.x > 56));
    expect(labels.length).toBeGreaterThan(4);
    const hits: string[] = [];
    labels.forEach((a, i) =>
      labels.slice(i + 1).forEach((b) => {
        if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) hits.push(`${a.text} / ${b.text}`);
      }),
    );
    expect(hits).toEqual([]);
  });

  it('scrolls a wide table inside its own box, not the page, and hides no column', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 800, height: 600 });
    await page.setContent(`<!doctype html><style>${CSS}</style><p>before</p>${wideTable}`);
    const table = await page.$eval('table', (t) => ({ scroll: t.scrollWidth, client: t.clientWidth, columns: t.querySelectorAll('th').length }));
    const m = { tableScroll: table.scroll, tableClient: table.client, columns: table.columns, page: (await page.evaluate('document.documentElement.scrollWidth')) as number, viewport: 800 };
    await page.close();
    expect(m.tableScroll).toBeGreaterThan(m.tableClient);
    expect(m.page).toBeLessThanOrEqual(m.viewport);
    expect(m.columns).toBe(24);
  });
});
