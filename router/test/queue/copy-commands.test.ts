import { Redis } from 'ioredis';
import { copyCommands } from '../../src/queue/copy-commands';

/* Defining a command is local to the client: no Redis server is needed here. */
describe('copyCommands', () => {
  let from: Redis;
  let to: Redis;

  beforeEach(() => {
    from = new Redis({ lazyConnect: true });
    to = new Redis({ lazyConnect: true });
    from.defineCommand('addThing:1.2.3', { lua: 'return KEYS[1]', numberOfKeys: 1 });
    from.defineCommand('other:1.2.3', { lua: 'return 1', numberOfKeys: 0 });
  });

  afterEach(() => {
    from.disconnect();
    to.disconnect();
  });

  it('defines only the named commands, with their script and key count', () => {
    expect(copyCommands(from, to, ['addThing'])).toEqual(['addThing:1.2.3']);
    expect(Object.keys(to.scriptsSet)).toEqual(['addThing:1.2.3']);
    expect(to.scriptsSet).toEqual({ 'addThing:1.2.3': expect.objectContaining({ lua: 'return KEYS[1]', numberOfKeys: 1 }) });
  });

  it('throws when a named command is not defined on the source', () => {
    expect(() => copyCommands(from, to, ['addThing', 'addOther'])).toThrow(/addOther:<version>/);
  });
});
