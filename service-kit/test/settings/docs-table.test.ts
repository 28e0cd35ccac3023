import { integer, list, oneOf, section, settingsTable, text } from '../../src/settings';

describe('settingsTable', () => {
  it('lists every setting of the sections in order: variable, default, allowed, meaning', () => {
    const a = section('A', {
      port: integer({ name: 'PORT', default: 7000, min: 0, max: 65535, meaning: 'HTTP port' }),
      size: integer({ name: 'MAX_FILE_SIZE', formerNames: ['MAX_IMAGE_SIZE'], default: 256, defaultText: '256 (bytes)', min: 1, meaning: 'largest file' }),
    });
    const b = section('B', {
      region: text({ name: 'S3_REGION', fallbackNames: ['AWS_REGION'], default: 'us-east-1', meaning: 'region' }),
      mode: oneOf({ name: 'MODE', choices: ['x', 'y'], default: undefined, meaning: 'a | b' }),
      hosts: list({ name: 'HOSTS', default: [], meaning: 'hosts' }),
      prefixes: list({ name: 'PREFIXES', default: ['uploads/'], meaning: 'prefixes' }),
    });
    expect(settingsTable([a, b]).split('\n')).toEqual([
      '| variable | default | allowed | meaning |',
      '|---|---|---|---|',
      '| `PORT` | 7000 | 0..65535 | HTTP port |',
      '| `MAX_FILE_SIZE` | 256 (bytes) | ≥ 1 | largest file; `MAX_IMAGE_SIZE` is its former name, read when `MAX_FILE_SIZE` is unset |',
      '| `S3_REGION` | us-east-1 |  | region; `AWS_REGION` is read when `S3_REGION` is unset |',
      '| `MODE` | unset | `x`, `y` | a \\| b |',
      '| `HOSTS` | none | comma list | hosts |',
      '| `PREFIXES` | `uploads/` | comma list | prefixes |',
    ]);
  });

  it('refuses a variable listed twice', () => {
    const port = integer({ name: 'PORT', default: 1, min: 0, meaning: 'm' });
    expect(() => settingsTable([section('A', { port }), section('B', { port })])).toThrow('PORT is declared twice in these sections');
  });
});
