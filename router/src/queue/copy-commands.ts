import { RedisConnection } from '../redis';

/** What ioredis keeps of a command defined with `defineCommand` (its Script). */
interface ScriptDefinition {
  lua: string;
  numberOfKeys: number | null;
  readOnly?: boolean;
}

function isScriptDefinition(value: unknown): value is ScriptDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const { lua, numberOfKeys, readOnly } = value as Record<string, unknown>;
  return typeof lua === 'string' && (typeof numberOfKeys === 'number' || numberOfKeys === null) && (readOnly === undefined || typeof readOnly === 'boolean');
}

/**
 * Defines on `to` the Lua commands of `from` named `<base>:<version>`, for each base name, and
 * returns their full names. Throws when one is missing, or when ioredis no longer keeps a
 * script as `{ lua, numberOfKeys }`: better a clear error than a missing command in a MULTI.
 */
export function copyCommands(from: RedisConnection, to: RedisConnection, baseNames: readonly string[]): string[] {
  const defined: Record<string, unknown> = from.scriptsSet;
  const present: Record<string, unknown> = to.scriptsSet;
  const names = baseNames.map((base) => {
    const name = Object.keys(defined).find((candidate) => candidate.startsWith(`${base}:`));
    if (!name) throw new Error(`no Redis command ${base}:<version> is defined on the source connection`);
    return name;
  });
  for (const name of names) {
    if (name in present) continue;
    const script = defined[name];
    if (!isScriptDefinition(script)) throw new Error(`cannot copy the Redis command ${name}: its definition is not { lua, numberOfKeys }`);
    to.defineCommand(name, { lua: script.lua, numberOfKeys: script.numberOfKeys ?? undefined, readOnly: script.readOnly });
  }
  return names;
}
