// Gzipped sizes of the built browser module and of the npm libraries it replaces,
// measured the same way: each bundled and minified by esbuild for the browser
// (ES module), then gzip -9. Run by scripts/build-web: `node sizes.mjs DIST_DIR`.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'package.json'));
const esbuild = require('esbuild');
const dist = process.argv[2];
const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;

function bundle(entryCode, resolveDir) {
  const result = esbuild.buildSync({
    stdin: { contents: entryCode, resolveDir, loader: 'js' },
    bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022',
    write: false, logLevel: 'silent',
  });
  return result.outputFiles[0].contents;
}

const version = (name) => require(`${name}/package.json`).version;
const ourJs = bundle(`export * from './postsource.js';`, dist);
const wasm = readFileSync(join(dist, 'postsource_web_core_bg.wasm'));
const rawJs = Buffer.concat([readFileSync(join(dist, 'postsource.js')), readFileSync(join(dist, 'postsource_web_core.js'))]);
const rows = [
  ['postsource (JS minified + wasm)', gz(ourJs) + gz(wasm), `JS ${gz(ourJs)} + wasm ${gz(wasm)}`],
  ['postsource (JS as shipped + wasm)', gz(rawJs) + gz(wasm), `JS ${gz(rawJs)} + wasm ${gz(wasm)}`],
  [`@microsoft/fetch-event-source ${version('@microsoft/fetch-event-source')}`,
    gz(bundle(`export * from '@microsoft/fetch-event-source';`, here)), 'JS'],
  [`eventsource ${version('eventsource')} (with eventsource-parser)`,
    gz(bundle(`export * from 'eventsource';`, here)), 'JS'],
];
console.log('gzip -9 sizes (esbuild --bundle --minify, browser ESM):');
for (const [name, total, detail] of rows) console.log(`  ${name.padEnd(48)} ${String(total).padStart(6)} B  (${detail})`);
writeFileSync(join(dist, 'sizes.json'), JSON.stringify(rows.map(([name, gzip, detail]) => ({ name, gzip, detail })), null, 1));
