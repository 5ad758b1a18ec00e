#!/usr/bin/env node
/*
 * Checks a librechat.yaml (given as JSON) against LibreChat's own configuration schema: the zod
 * `configSchema` of the npm package `librechat-data-provider`, pinned in the package.json beside
 * this file (the version the deployed LibreChat release ships).
 *
 *   node check_config.cjs --modules DIR [FILE]        (JSON from FILE, or stdin)
 *
 * The schema strips keys it does not know (it is not strict), so a misspelt key would pass
 * unnoticed: every key of the input that is missing from the parsed result is reported as
 * unknown, and fails the check like a zod issue. Prints one JSON object: {ok, issues, unknown,
 * package, release, configVersion}; exits 0 when valid, 1 when not, 2 on unreadable input, 3
 * when the checker cannot run.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

function die(code, message) {
  process.stderr.write(`check_config.cjs: ${message}\n`);
  process.exit(code);
}
process.on('uncaughtException', (err) => die(3, err && err.stack ? err.stack : String(err)));

const argv = process.argv.slice(2);
let modules = null;
let file = null;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--modules') modules = argv[++i];
  else file = argv[i];
}
if (!modules) die(2, 'usage: check_config.cjs --modules DIR [FILE]');

const requireFrom = createRequire(path.join(path.resolve(modules), 'package.json'));
const dp = requireFrom('librechat-data-provider');
const dpVersion = JSON.parse(
  fs.readFileSync(
    path.join(path.resolve(modules), 'node_modules', 'librechat-data-provider', 'package.json'),
    'utf8',
  ),
).version;

let config;
try {
  config = JSON.parse(fs.readFileSync(file || 0, 'utf8'));
} catch (err) {
  die(2, `the input is not JSON: ${err.message}`);
}

/* Keys of `input` (at any depth) that `parsed` does not carry: what the schema did not know. */
function unknownKeys(input, parsed, where) {
  const found = [];
  if (Array.isArray(input)) {
    input.forEach((item, i) => {
      const other = Array.isArray(parsed) ? parsed[i] : undefined;
      found.push(...unknownKeys(item, other, `${where}[${i}]`));
    });
  } else if (input && typeof input === 'object') {
    for (const key of Object.keys(input)) {
      const at = where ? `${where}.${key}` : key;
      if (!parsed || typeof parsed !== 'object' || !(key in parsed)) found.push(at);
      else found.push(...unknownKeys(input[key], parsed[key], at));
    }
  }
  return found;
}

const result = dp.configSchema.safeParse(config);
const issues = result.success
  ? []
  : result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
const unknown = result.success ? unknownKeys(config, result.data, '') : [];
const verdict = {
  ok: issues.length === 0 && unknown.length === 0,
  issues,
  unknown,
  package: dpVersion,
  release: dp.Constants.VERSION,
  configVersion: dp.Constants.CONFIG_VERSION,
};
process.stdout.write(JSON.stringify(verdict) + '\n');
process.exit(verdict.ok ? 0 : 1);
