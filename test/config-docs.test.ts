import fs from 'node:fs';
import path from 'node:path';
import { TABLES, updateConfigDocs } from '../scripts/config-docs/tables';

const DOC = path.join(__dirname, '..', 'docs', 'configuration.md');

describe('docs/configuration.md', () => {
  it('is current: its tables are what make config-docs writes from the declarations', () => {
    const doc = fs.readFileSync(DOC, 'utf8');
    expect(updateConfigDocs(doc)).toBe(doc);
  });

  it('lists every declared variable once per service, and keeps the prose', () => {
    const doc = fs.readFileSync(DOC, 'utf8');
    for (const { sections } of TABLES) {
      for (const s of sections) for (const { name } of Object.values(s.settings)) expect(doc).toContain(`| \`${name}\` |`);
    }
    expect(doc).toContain('## How the defaults were chosen');
    expect(doc).toContain('`PROCESSOR_HTTP_TIMEOUT_MS`');
  });
});

describe('updateConfigDocs', () => {
  const markers = (name: string) => `<!-- config-docs:${name} begin -->\nstale\n<!-- config-docs:${name} end -->`;

  it('writes the tables between their markers and leaves the rest alone', () => {
    const written = updateConfigDocs(`# Intro\n\n${markers('router')}\n\nprose $& kept\n\n${markers('processor')}\n\n## After\n`);
    expect(written.startsWith('# Intro\n\n<!-- config-docs:router begin: generated from router/src/config/')).toBe(true);
    expect(written).not.toContain('stale');
    expect(written).toContain('\n\nprose $& kept\n\n<!-- config-docs:processor begin');
    expect(written.endsWith('<!-- config-docs:processor end -->\n\n## After\n')).toBe(true);
    expect(written).toContain('| `PROCESSOR_ADDR` |');
    expect(written).toContain('| `PROCESSOR_CONCURRENCY` |');
    expect(updateConfigDocs(written)).toBe(written);
  });

  it('refuses a document without the markers', () => {
    expect(() => updateConfigDocs(`# Intro\n\n${markers('router')}\n`)).toThrow(/no "<!-- config-docs:processor begin/);
  });
});
