import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { experimentJsonSchema } from './experiment.ts';

// Writes chaos/experiment.schema.json, the JSON Schema editors use to complete and
// check experiment files (`# yaml-language-server: $schema=../experiment.schema.json`).
// Run after changing the schema: npm run chaos:schema (a test fails while it is stale).

export const SCHEMA_FILE = fileURLToPath(new URL('../experiment.schema.json', import.meta.url));

export const schemaText = (): string => `${JSON.stringify(experimentJsonSchema(), null, 2)}\n`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SCHEMA_FILE, schemaText());
  console.log(`wrote ${SCHEMA_FILE}`);
}
