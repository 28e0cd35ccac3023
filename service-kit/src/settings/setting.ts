import { z } from 'zod';

/**
 * One environment variable, declared once: its name, the names still read in its place, what it
 * means, its default, and the zod schema that checks and converts a value that is set. The
 * configuration docs are generated from these declarations (`make config-docs`).
 */
export interface Setting<T> {
  readonly name: string;
  /** Names it had before, read (in this order) when `name` is unset; the docs say so. */
  readonly formerNames: readonly string[];
  /** Other names read when `name` and its former names are unset (e.g. the AWS SDK's `AWS_REGION`). */
  readonly fallbackNames: readonly string[];
  /** The docs' "meaning" column. */
  readonly meaning: string;
  /** The value when the variable is unset or empty. */
  readonly fallback: T;
  /** The docs' "default" column when the fallback alone does not say it (a derived default, a unit). */
  readonly defaultText?: string;
  /** The docs' "allowed" column: the range or choices the schema accepts. */
  readonly allowed: string;
  /** Checks and converts a set (non-empty) value; an issue's message follows the variable's name. */
  readonly schema: z.ZodType<T, z.ZodTypeDef, string>;
}

/** What every kind of setting is declared with. */
export interface SettingOptions<T> {
  name: string;
  meaning: string;
  default: T;
  defaultText?: string;
  formerNames?: readonly string[];
  fallbackNames?: readonly string[];
}

/** A setting of any kind: `schema` checks and converts a set value, `allowed` says what it accepts (the docs' column). */
export function setting<T>(options: SettingOptions<T>, allowed: string, schema: z.ZodType<T, z.ZodTypeDef, string>): Setting<T> {
  return {
    name: options.name,
    formerNames: options.formerNames ?? [],
    fallbackNames: options.fallbackNames ?? [],
    meaning: options.meaning,
    fallback: options.default,
    defaultText: options.defaultText,
    allowed,
    schema,
  };
}

/**
 * A whole number in `[min, max]` (`Number()` syntax, as the settings always took). `default:
 * undefined` makes it optional: the caller derives the value, and says how in `defaultText`.
 */
export function integer<D extends number | undefined>(options: SettingOptions<D> & { min: number; max?: number }): Setting<number | D> {
  const { min, max = Number.MAX_SAFE_INTEGER } = options;
  const bounded = max !== Number.MAX_SAFE_INTEGER;
  const message = bounded ? `must be an integer between ${min} and ${max}` : `must be an integer of at least ${min}`;
  const schema = z.string().pipe(
    z.coerce
      .number({ errorMap: () => ({ message }) })
      .int({ message })
      .min(min, { message })
      .max(max, { message }),
  );
  return setting<number | D>(options, bounded ? `${min}..${max}` : `≥ ${min}`, schema);
}

/** The longest delay Node's timers take (2^31 − 1 ms, about 24.8 days): beyond it, `setTimeout` fires at once. */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/**
 * A duration in milliseconds, which ends up in a timer or a call deadline: an integer in
 * `[min, max]`, `max` at most TIMER_MAX_MS (the default), so that a long setting is refused at
 * start-up instead of expiring at once.
 */
export function milliseconds<D extends number | undefined>(options: SettingOptions<D> & { min: number; max?: number }): Setting<number | D> {
  return integer({ ...options, max: Math.min(options.max ?? TIMER_MAX_MS, TIMER_MAX_MS) });
}

/** Free text (an address, a path, a URL), with an optional zod check of its own. */
export function text<D extends string | undefined>(options: SettingOptions<D> & { check?: z.ZodType<string, z.ZodTypeDef, string>; allowed?: string }): Setting<string | D> {
  return setting<string | D>(options, options.allowed ?? '', options.check ?? z.string());
}

/** "must be "a" or "b"", or "must be one of a, b, c". */
export function choiceMessage(choices: readonly string[]): string {
  return choices.length === 2 ? `must be "${choices[0]}" or "${choices[1]}"` : `must be one of ${choices.join(', ')}`;
}

/** One of a fixed list of words. */
export function oneOf<const C extends readonly [string, ...string[]], D extends C[number] | undefined>(options: SettingOptions<D> & { choices: C }): Setting<C[number] | D> {
  const message = choiceMessage(options.choices);
  const schema = z.enum(options.choices as unknown as [C[number], ...C[number][]], { errorMap: () => ({ message }) });
  return setting<C[number] | D>(options, options.choices.map((c) => `\`${c}\``).join(', '), schema);
}

/** `on` or `off`, as a boolean. */
export function onOff(options: SettingOptions<boolean>): Setting<boolean> {
  const message = choiceMessage(['on', 'off']);
  const schema = z.enum(['on', 'off'], { errorMap: () => ({ message }) }).transform((value) => value === 'on');
  return setting(options, '`on`, `off`', schema);
}

/** Splits a comma list, trimmed, empty entries dropped. */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * A comma list. A value with no entries (` , `) is refused with `emptyMessage` when given, and
 * means the default otherwise. `check` validates the entries as a whole.
 */
export function list(options: SettingOptions<string[]> & { emptyMessage?: string; check?: (items: string[]) => string | undefined }): Setting<string[]> {
  const schema = z
    .string()
    .transform(splitList)
    .superRefine((items, ctx) => {
      if (items.length === 0 && options.emptyMessage) ctx.addIssue({ code: z.ZodIssueCode.custom, message: options.emptyMessage });
      const problem = items.length > 0 ? options.check?.(items) : undefined;
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    })
    .transform((items) => (items.length > 0 ? items : options.default));
  return setting(options, 'comma list', schema);
}

/** A setting with another default or meaning for one service (the rest unchanged). */
export function adapt<T>(base: Setting<T>, changes: { default?: T; defaultText?: string; meaning?: string; formerNames?: readonly string[] }): Setting<T> {
  const fallbackChanged = 'default' in changes;
  return {
    ...base,
    fallback: fallbackChanged ? (changes.default as T) : base.fallback,
    defaultText: changes.defaultText ?? (fallbackChanged ? undefined : base.defaultText),
    meaning: changes.meaning ?? base.meaning,
    formerNames: changes.formerNames ?? base.formerNames,
  };
}
