import { Section } from './section';
import { Setting } from './setting';

const code = (name: string) => `\`${name}\``;

function names(list: readonly string[]): string {
  const quoted = list.map(code);
  return quoted.length <= 1 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
}

/** The docs' "default" column: the declared text, else the fallback value as written in the environment. */
export function defaultCell(setting: Setting<unknown>): string {
  if (setting.defaultText !== undefined) return setting.defaultText;
  const value = setting.fallback;
  if (value === undefined) return 'unset';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map((item) => code(String(item))).join(', ');
  return String(value);
}

/** The docs' "meaning" column: the declared meaning, then the other names read for it. */
export function meaningCell(setting: Setting<unknown>): string {
  const parts = [setting.meaning];
  const { formerNames, fallbackNames } = setting;
  if (formerNames.length > 0) {
    parts.push(`${names(formerNames)} ${formerNames.length > 1 ? 'are its former names' : 'is its former name'}, read when ${code(setting.name)} is unset`);
  }
  if (fallbackNames.length > 0) parts.push(`${names(fallbackNames)} is read when ${code(setting.name)} is unset`);
  return parts.join('; ');
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A markdown table of every setting of these sections, in order: variable, default, allowed, meaning. */
export function settingsTable(sections: readonly Section[]): string {
  const rows = sections.flatMap((s) => Object.values(s.settings));
  const seen = new Set<string>();
  for (const { name } of rows) {
    if (seen.has(name)) throw new Error(`${name} is declared twice in these sections`);
    seen.add(name);
  }
  return ['| variable | default | allowed | meaning |', '|---|---|---|---|', ...rows.map((s) => `| ${code(s.name)} | ${cell(defaultCell(s))} | ${cell(s.allowed)} | ${cell(meaningCell(s))} |`)].join(
    '\n',
  );
}
