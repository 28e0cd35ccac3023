import { z } from 'zod';
import { SettingsError, TIMER_MAX_MS, adapt, integer, list, milliseconds, onOff, oneOf, readSection, readSetting, section, setting, sourceName, text } from '../../src/settings';

const PORT = integer({ name: 'PORT', default: 7000, min: 0, max: 65535, meaning: 'HTTP port' });
const GRACE = integer({ name: 'GRACE_MS', default: 100, min: 0, meaning: 'grace' });

describe('integer settings', () => {
  it('read a set value, and the default when unset or empty', () => {
    expect(readSetting({ PORT: '80' }, PORT)).toBe(80);
    expect(readSetting({}, PORT)).toBe(7000);
    expect(readSetting({ PORT: '' }, PORT)).toBe(7000);
    expect(readSetting({ PORT: '0' }, PORT)).toBe(0);
  });

  it.each(['x', '1.5', '-1', '65536', 'Infinity'])('refuse PORT=%s, naming the variable, the range and the value', (raw) => {
    expect(() => readSetting({ PORT: raw }, PORT)).toThrow(new SettingsError([`PORT must be an integer between 0 and 65535, got "${raw}"`]));
  });

  it('say "at least" when there is no upper bound', () => {
    expect(() => readSetting({ GRACE_MS: '-5' }, GRACE)).toThrow('GRACE_MS must be an integer of at least 0, got "-5"');
  });

  it('may leave the default to the caller: unset reads as undefined', () => {
    const derived = integer({ name: 'DERIVED', default: undefined, defaultText: 'twice X', min: 1, meaning: 'm' });
    expect(readSetting({}, derived)).toBeUndefined();
    expect(readSetting({ DERIVED: '3' }, derived)).toBe(3);
  });
});

describe('millisecond settings', () => {
  it("refuse a duration longer than Node's timers take (it would expire at once), and keep a smaller bound", () => {
    const timeout = milliseconds({ name: 'TIMEOUT_MS', default: 1000, min: 1, meaning: 'm' });
    expect(readSetting({ TIMEOUT_MS: String(TIMER_MAX_MS) }, timeout)).toBe(2 ** 31 - 1);
    expect(() => readSetting({ TIMEOUT_MS: String(TIMER_MAX_MS + 1) }, timeout)).toThrow(`TIMEOUT_MS must be an integer between 1 and ${TIMER_MAX_MS}, got "${TIMER_MAX_MS + 1}"`);
    const drain = milliseconds({ name: 'DRAIN_MS', default: 0, min: 0, max: 600_000, meaning: 'm' });
    expect(() => readSetting({ DRAIN_MS: '600001' }, drain)).toThrow('DRAIN_MS must be an integer between 0 and 600000, got "600001"');
  });
});

describe('other kinds', () => {
  it('oneOf: one word of a list, the message listing them', () => {
    const mode = oneOf({ name: 'MODE', choices: ['a', 'b', 'c'], default: 'a', meaning: 'm' });
    expect(readSetting({ MODE: 'b' }, mode)).toBe('b');
    expect(() => readSetting({ MODE: 'd' }, mode)).toThrow('MODE must be one of a, b, c, got "d"');
  });

  it('onOff: a boolean from on or off', () => {
    const tls = onOff({ name: 'TLS', default: false, meaning: 'm' });
    expect(readSetting({ TLS: 'on' }, tls)).toBe(true);
    expect(readSetting({}, tls)).toBe(false);
    expect(() => readSetting({ TLS: 'yes' }, tls)).toThrow('TLS must be "on" or "off", got "yes"');
  });

  it('list: trimmed entries, empty ones dropped; no entries is the default, or an error when it must name one', () => {
    const items = list({ name: 'ITEMS', default: ['d'], meaning: 'm' });
    expect(readSetting({ ITEMS: ' a, ,b ' }, items)).toEqual(['a', 'b']);
    expect(readSetting({ ITEMS: ' , ' }, items)).toEqual(['d']);
    const required = list({ name: 'ADDRS', default: ['x:1'], emptyMessage: 'must name at least one host:port', meaning: 'm' });
    expect(() => readSetting({ ADDRS: ',' }, required)).toThrow('ADDRS must name at least one host:port, got ","');
    const checked = list({ name: 'CHECKED', default: [], meaning: 'm', check: (entries) => (entries.includes('bad') ? 'has a bad entry' : undefined) });
    expect(() => readSetting({ CHECKED: 'ok,bad' }, checked)).toThrow('CHECKED has a bad entry, got "ok,bad"');
  });

  it('text with a zod check, and a setting of any type from a zod schema', () => {
    const prefix = text({ name: 'PREFIX', default: 'p', meaning: 'm', check: z.string().refine((v) => !v.includes('{'), 'must not contain "{"') });
    expect(() => readSetting({ PREFIX: 'a{' }, prefix)).toThrow('PREFIX must not contain "{", got "a{"');
    const hops = setting<number | string | false>(
      { name: 'HOPS', default: false, meaning: 'm' },
      'hops',
      z.string().transform((v) => (/^\d+$/.test(v) ? Number(v) : v)),
    );
    expect(readSetting({ HOPS: '2' }, hops)).toBe(2);
    expect(readSetting({ HOPS: 'loopback' }, hops)).toBe('loopback');
    expect(readSetting({}, hops)).toBe(false);
  });
});

describe('former and fallback names', () => {
  const dir = text({ name: 'WORK_DIR', formerNames: ['SPOOL_DIR'], fallbackNames: ['TMP_ROOT'], default: undefined, meaning: 'm' });

  it('read the first name that is set, the current one first', () => {
    expect(readSetting({ SPOOL_DIR: '/old' }, dir)).toBe('/old');
    expect(readSetting({ WORK_DIR: '/new', SPOOL_DIR: '/old' }, dir)).toBe('/new');
    expect(readSetting({ WORK_DIR: '', SPOOL_DIR: '/old' }, dir)).toBe('/old');
    expect(readSetting({ TMP_ROOT: '/t' }, dir)).toBe('/t');
    expect(sourceName({ SPOOL_DIR: '/old' }, dir)).toBe('SPOOL_DIR');
    expect(sourceName({}, dir)).toBeUndefined();
  });

  it('name the variable the bad value came from', () => {
    const size = integer({ name: 'MAX_FILE_SIZE', formerNames: ['MAX_IMAGE_SIZE'], default: 10, min: 1, meaning: 'm' });
    expect(() => readSetting({ MAX_IMAGE_SIZE: '0' }, size)).toThrow('MAX_IMAGE_SIZE must be an integer of at least 1, got "0"');
  });
});

describe('sections', () => {
  const server = section('Server', { port: PORT, graceMs: GRACE });

  it('read every setting into a field', () => {
    expect(readSection({ PORT: '1', GRACE_MS: '2' }, server)).toEqual({ port: 1, graceMs: 2 });
    expect(readSection({}, server)).toEqual({ port: 7000, graceMs: 100 });
  });

  it('report every wrong setting at once, one a line', () => {
    expect(() => readSection({ PORT: 'x', GRACE_MS: '-1' }, server)).toThrow('PORT must be an integer between 0 and 65535, got "x"\nGRACE_MS must be an integer of at least 0, got "-1"');
  });

  it('adapt: another default or meaning for one service, the same name and checks', () => {
    const processorGrace = adapt(GRACE, { default: 5, meaning: 'for running jobs' });
    expect(readSetting({}, processorGrace)).toBe(5);
    expect(processorGrace).toMatchObject({ name: 'GRACE_MS', meaning: 'for running jobs', allowed: '≥ 0' });
    expect(() => readSetting({ GRACE_MS: '-1' }, processorGrace)).toThrow(/GRACE_MS must be an integer of at least 0/);
  });
});
