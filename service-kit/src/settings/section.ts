import { Env } from '../env-and-signals';
import { Setting } from './setting';

/** Settings that belong together (the store's, the queue's), keyed by the field each becomes. */
export type Settings = Record<string, Setting<unknown>>;

/** A titled group of settings: what a service reads, and what its docs table lists, in order. */
export interface Section<S extends Settings = Settings> {
  readonly title: string;
  readonly settings: S;
}

export type ValueOf<S> = S extends Setting<infer T> ? T : never;
export type Values<S extends Settings> = { -readonly [K in keyof S]: ValueOf<S[K]> };

export function section<S extends Settings>(title: string, settings: S): Section<S> {
  return { title, settings };
}

/** A start-up error naming every setting of a section that is wrong, one a line. */
export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'SettingsError';
  }
}

/** The name the value is read from: the setting's own, else the first former or fallback name that is set (empty is unset). */
export function sourceName(env: Env, setting: Setting<unknown>): string | undefined {
  return [setting.name, ...setting.formerNames, ...setting.fallbackNames].find((name) => (env[name] ?? '') !== '');
}

type Outcome<T> = { ok: true; value: T } | { ok: false; problem: string };

function read<T>(env: Env, setting: Setting<T>): Outcome<T> {
  const source = sourceName(env, setting);
  if (source === undefined) return { ok: true, value: setting.fallback };
  const raw = env[source] as string;
  const result = setting.schema.safeParse(raw);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problem: `${source} ${result.error.issues[0].message}, got "${raw}"` };
}

/** One setting's value; throws a SettingsError naming the variable, what it allows, and what it got. */
export function readSetting<T>(env: Env, setting: Setting<T>): T {
  const outcome = read(env, setting);
  if (!outcome.ok) throw new SettingsError([outcome.problem]);
  return outcome.value;
}

/** Every setting of a section; throws one SettingsError listing every wrong one. */
export function readSection<S extends Settings>(env: Env, { settings }: Section<S>): Values<S> {
  const values: Partial<Record<keyof S, unknown>> = {};
  const problems: string[] = [];
  for (const key of Object.keys(settings) as (keyof S)[]) {
    const outcome = read(env, settings[key]);
    if (outcome.ok) values[key] = outcome.value;
    else problems.push(outcome.problem);
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return values as Values<S>;
}
