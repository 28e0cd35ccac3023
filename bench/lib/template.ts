import fs from 'node:fs';

/**
 * Named blocks of text with `{{name}}` placeholders, read from one file. A line `@@ block-name`
 * starts a block, which runs to the line before the next `@@` line (or the end of the file);
 * its lines are kept as they are, blank ones included. Text before the first `@@` line is a
 * comment for whoever edits the file. Filling a block checks both ways: every placeholder gets
 * a value and every value given is used.
 */
export class Template {
  private readonly blocks = new Map<string, string>();

  constructor(
    text: string,
    private readonly source: string,
  ) {
    let name: string | undefined;
    let lines: string[] = [];
    const close = () => {
      if (name === undefined) return;
      if (this.blocks.has(name)) throw new Error(`${source}: block "${name}" twice`);
      this.blocks.set(name, lines.join('\n'));
    };
    for (const line of text.split('\n')) {
      const start = /^@@ ([a-z0-9-]+)$/.exec(line);
      if (!start) {
        lines.push(line);
        continue;
      }
      close();
      name = start[1];
      lines = [];
    }
    if (name !== undefined && lines.at(-1) === '') lines.pop(); // the file's final newline
    close();
  }

  static read(file: string): Template {
    return new Template(fs.readFileSync(file, 'utf8'), file);
  }

  /** Block `name` with its placeholders replaced by `values`. */
  fill(name: string, values: Readonly<Record<string, string | number>> = {}): string {
    const text = this.blocks.get(name);
    if (text === undefined) throw new Error(`${this.source}: no block "${name}"`);
    const used = new Set<string>();
    const out = text.replace(/\{\{([A-Za-z0-9]+)\}\}/g, (_, key: string) => {
      const value = values[key];
      if (value === undefined) throw new Error(`${this.source}, block "${name}": no value for {{${key}}}`);
      used.add(key);
      return String(value);
    });
    const unused = Object.keys(values).filter((key) => !used.has(key));
    if (unused.length) throw new Error(`${this.source}, block "${name}": values not used: ${unused.join(', ')}`);
    return out;
  }
}
