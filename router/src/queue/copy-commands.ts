import { Redis } from 'ioredis';

/** What ioredis keeps of a command defined with `defineCommand` (its Script). */
interface ScriptDefinition {
  lua: string;
  numberOfKeys: number | null;
}

function isScriptDefinition(value: unknown): value is ScriptDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const { lua, numberOfKeys } = value as Record<string, unknown>;
  return typeof lua === 'string' && (typeof numberOfKeys === 'number' || numberOfKeys === null);
}

/**
 * Defines on `to` the Lua commands defined on `from` whose names match, and returns their
 * names. Throws when none matches, or when ioredis no longer keeps a script as
 * `{ lua, numberOfKeys }`: better a clear error at the first submit than a missing command.
 */
export function copyCommands(from: Redis, to: Redis, match: RegExp): string[] {
  const defined: Record<string, unknown> = from.scriptsSet;
  const present: Record<string, unknown> = to.scriptsSet;
  const names = Object.keys(defined).filter((name) => match.test(name));
  if (names.length === 0) throw new Error(`no Redis command matching ${String(match)} is defined on the source connection`);
  for (const name of names) {
    if (name in present) continue;
    const script = defined[name];
    if (!isScriptDefinition(script)) throw new Error(`cannot copy the Redis command ${name}: its definition is not { lua, numberOfKeys }`);
    to.defineCommand(name, { lua: script.lua, numberOfKeys: script.numberOfKeys ?? undefined });
  }
  return names;
}
