import fs from 'node:fs';
import path from 'node:path';
import { updateConfigDocs } from './tables';

/** `make config-docs`: writes the settings tables of docs/configuration.md from the declarations. */
const file = path.resolve(__dirname, '../../docs/configuration.md');
const before = fs.readFileSync(file, 'utf8');
const after = updateConfigDocs(before);
if (after !== before) fs.writeFileSync(file, after);
console.log(after !== before ? `${path.relative(process.cwd(), file)} written` : `${path.relative(process.cwd(), file)} is current`);
