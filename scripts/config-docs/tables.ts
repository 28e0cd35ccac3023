import { Section, settingsTable } from '@artorizer/service-kit';
import { PROCESSOR_SECTIONS } from '../../reference-processor/src/config/sections';
import { ROUTER_SECTIONS } from '../../router/src/config/sections';

/** The generated tables of docs/configuration.md: the marker's name, and the sections it lists. */
export const TABLES: readonly { name: string; source: string; sections: readonly Section[] }[] = [
  { name: 'router', source: 'router/src/config/', sections: ROUTER_SECTIONS },
  { name: 'processor', source: 'reference-processor/src/config/', sections: PROCESSOR_SECTIONS },
];

const begin = (name: string, source: string) => `<!-- config-docs:${name} begin: generated from ${source} by \`make config-docs\`; edit the declarations there, not this table -->`;
const end = (name: string) => `<!-- config-docs:${name} end -->`;

/**
 * The document with each table between its markers written anew from the declarations; the
 * prose around them is kept. Throws when a marker pair is missing.
 */
export function updateConfigDocs(markdown: string): string {
  let text = markdown;
  for (const { name, source, sections } of TABLES) {
    const pattern = new RegExp(`<!-- config-docs:${name} begin[^\\n]*-->\\n[\\s\\S]*?<!-- config-docs:${name} end -->`);
    if (!pattern.test(text)) throw new Error(`docs/configuration.md has no "<!-- config-docs:${name} begin ... -->" ... "${end(name)}" markers`);
    // a function, so that "$" in the table is not read as a replacement pattern
    text = text.replace(pattern, () => `${begin(name, source)}\n\n${settingsTable(sections)}\n\n${end(name)}`);
  }
  return text;
}
