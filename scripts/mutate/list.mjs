#!/usr/bin/env node
// `node scripts/mutate/list.mjs <module> [status...]`: the mutants of reports/mutation/<module>.json that no test
// killed (default: Survived, NoCoverage), one a line: status file:line mutator replacement.
import { readFileSync } from 'node:fs';

const [name, ...wanted] = process.argv.slice(2);
const statuses = wanted.length > 0 ? wanted : ['Survived', 'NoCoverage'];
const report = JSON.parse(readFileSync(new URL(`../../reports/mutation/${name}.json`, import.meta.url), 'utf8'));
for (const [file, { mutants }] of Object.entries(report.files)) {
  for (const m of mutants.filter((x) => statuses.includes(x.status)).sort((a, b) => a.location.start.line - b.location.start.line)) {
    const replacement = (m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 90);
    console.log(`${m.status} ${file}:${m.location.start.line} ${m.mutatorName} ${replacement}`);
  }
}
