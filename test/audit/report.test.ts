import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { escapeHtml, html } from '../../audit/report/safe-html';
import { linePlot, niceTicks, stackedBarPlot } from '../../audit/report/svg';
import { defaultReportFile, runReportCommand, writeCampaignReport } from '../../cli/report';
import { seedCampaign, standardIterations, uniqueCampaignId } from './seed';
import { tempDir } from '../helpers/temp-dir';

/** `feedloop report`: one self-contained HTML file per campaign. */
const INJECTED = 'off by one <script>alert("pwned")</script> & <img src=x onerror=alert(1)>';
const simulatedId = uniqueCampaignId('report-sim');
const realId = uniqueCampaignId('report-real');
let dir: string;
let simulatedHtml: string;
let realHtml: string;

beforeAll(async () => {
  dir = tempDir('report');
  await seedCampaign({ id: simulatedId, simulated: true, iterations: standardIterations(), feedbackText: INJECTED });
  await seedCampaign({ id: realId, simulated: false, iterations: standardIterations() });
  simulatedHtml = fs.readFileSync(await writeCampaignReport(inject('databaseUrl'), simulatedId, { out: path.join(dir, 'sim.html') }), 'utf8');
  realHtml = fs.readFileSync(await writeCampaignReport(inject('databaseUrl'), realId, { out: path.join(dir, 'real.html') }), 'utf8');
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('campaign report', () => {
  it('is self-contained: inline CSS and SVG, no script, no external resource', () => {
    for (const page of [simulatedHtml, realHtml]) {
      expect(page.startsWith('<!doctype html>')).toBe(true);
      expect(page).not.toMatch(/<script/i);
      expect(page).not.toMatch(/<link|@import|url\(/i);
      expect(page).not.toMatch(/<[^>]*\s(src|href)\s*=/i);
      expect(page).not.toContain('http');
      expect(page).toContain('<style>');
      expect(page.match(/<svg /g)?.length).toBe(4);
    }
  });

  it('escapes text from the store', () => {
    expect(simulatedHtml).not.toContain('<script>alert');
    expect(simulatedHtml).not.toContain('<img src=x');
    expect(simulatedHtml).toContain('off by one &lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;');
  });

  it('carries the SIMULATED banner only for simulated campaigns', () => {
    expect(simulatedHtml).toContain('<div class="banner-simulated" role="alert">SIMULATED models (models.policy, trainer)');
    expect(realHtml).not.toContain('banner-simulated"');
    expect(realHtml).not.toMatch(/SIMULATED/);
  });

  it('plots pass@k, outcome mix and yield, and shows the audit table and workflow ids', () => {
    expect(simulatedHtml).toContain('aria-label="pass@k on MBPP_Test per iteration"');
    expect(simulatedHtml).toContain('<title>it 1: pass@1 30.0%</title>');
    expect(simulatedHtml).toContain('<title>it 2: pass@10 100.0%</title>');
    expect(simulatedHtml).toContain('<title>it 1: runtime_error 2 of 10</title>');
    expect(simulatedHtml).toContain('<title>it 2: infra_error 1 of 10</title>');
    expect(simulatedHtml).toContain('<title>it 1: refinements kept 4</title>');
    expect(simulatedHtml).toContain('<title>it 1: feedback requested 7</title>');
    expect(simulatedHtml).toContain('<td class="num">7 / 6<br><small>dataset: 7 / 6</small></td>');
    for (const k of [1, 2]) {
      expect(simulatedHtml).toContain(`<code>${simulatedId}/iteration-${k}</code>`);
      expect(simulatedHtml).toContain(`<code>${simulatedId}/iteration-${k}/evaluation</code>`);
      expect(simulatedHtml).toContain(`<code>${simulatedId}/iteration-${k}/sft</code>`);
    }
    expect(realHtml).toContain('no weights were trained');
  });

  it('writes to the default file name and exits 1 for an unknown campaign', async () => {
    // Under the state directory's reports/, not the working directory (which may be the repository).
    expect(defaultReportFile('team/camp-1', '/srv/feedloop')).toBe('/srv/feedloop/reports/team__camp-1.report.html');
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) };
    const file = path.join(dir, 'nested', 'r.html');
    expect(await runReportCommand(realId, { databaseUrl: inject('databaseUrl'), out: file }, io)).toBe(0);
    expect(out).toEqual([`wrote ${file}`]);
    expect(fs.existsSync(file)).toBe(true);
    expect(await runReportCommand('no-such-campaign', { databaseUrl: inject('databaseUrl'), out: path.join(dir, 'x.html') }, io)).toBe(1);
    expect(err.join('\n')).toContain('unknown campaign "no-such-campaign"');
    expect(fs.existsSync(path.join(dir, 'x.html'))).toBe(false);
  });
});

describe('report building blocks', () => {
  it('html`` escapes interpolations unless they are already markup', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner}${['<', '>']}${null}${false}${0}</p>`.value).toBe('<p><b>&lt;i&gt;</b>&lt;&gt;0</p>');
  });

  it('picks round axis ticks that cover the data', () => {
    expect(niceTicks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });

  it('draws a gap for a missing value and says so when there is no data', () => {
    const line = linePlot({ title: 't', xLabels: ['a', 'b', 'c'], yMax: 1, series: [{ name: 's', color: '#000', values: [0.1, null, 0.3] }] }).value;
    expect(line).not.toContain('<polyline');
    expect(line.match(/<circle/g)).toHaveLength(2);
    expect(stackedBarPlot({ title: 'empty', xLabels: [], series: [] }).value).toContain('no data yet');
  });
});
