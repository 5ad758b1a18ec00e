#!/usr/bin/env node
/*
 * Checks recorded exchanges of the LibreChat API simulator against LibreChat's own contract: the
 * zod schemas and TypeScript types of the npm package `librechat-data-provider`, at the version
 * pinned in the package.json beside this file.
 *
 *   node check.cjs --modules DIR [--json] [FILE]      (JSON lines from FILE, or stdin)
 *
 * DIR holds node_modules with the pinned packages (`npm ci` of this folder's package.json and
 * package-lock.json; librechat_sim.contract.ensure() does it once into a cache). Each input line
 * is {"route": "POST /api/auth/login", "request": ..., "response": ...}: a JSON body, a GET's query
 * or an upload's form fields as the request; for the SSE stream, the response is one event's data.
 * Each part is checked by one or more of:
 *   zod   the package's runtime zod schemas (tMessageSchema, tConversationSchema), as they are
 *         (they strip unknown fields; none is strict);
 *   type  the package's TypeScript types, by the TypeScript compiler: the exchange becomes a
 *         literal assigned to the type (missing fields, wrong types and wrong enum values fail).
 *         JSON carries string enums as plain strings, so each type goes through Wire<T>, which
 *         replaces every string enum by its values and, like zod, lets fields the type does not
 *         name through. Nothing else is relaxed but the WAIVER in PRELUDE, which says why;
 *   own   what the package does not describe (the chat start answer, the SSE envelopes around
 *         the package's messages and deltas, the upload's form fields, /health): OUR contract,
 *         written in PRELUDE from LibreChat's server code and labelled as ours.
 * Fields the checked type does not describe are reported as notes ("not in the package"), never
 * as failures. Prints one line per exchange and a summary line (with --json, one JSON object per
 * exchange, then a summary object with the package version and the LibreChat release it carries);
 * exits 1 when any exchange does not conform, 2 on unreadable input, 3 when the checker itself
 * cannot run (packages missing, its own types broken).
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

function parseArgs(argv) {
  const args = { modules: null, json: false, file: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--modules') args.modules = argv[++i];
    else if (argv[i] === '--json') args.json = true;
    else args.file = argv[i];
  }
  if (!args.modules) {
    process.stderr.write('usage: check.cjs --modules DIR [--json] [FILE]\n');
    process.exit(2);
  }
  return args;
}

/* The checker's own failures exit 3, apart from a verdict (1) and bad input (2). */
function die(err) {
  const message = err && err.message ? err.message.split('\n')[0] : String(err);
  process.stderr.write(`check.cjs: ${message}\n${err && err.stack ? err.stack : ''}\n`);
  process.exit(3);
}
process.on('uncaughtException', die);

const args = parseArgs(process.argv.slice(2));
const modulesDir = path.resolve(args.modules);
const requireFrom = createRequire(path.join(modulesDir, 'package.json'));
const dp = requireFrom('librechat-data-provider');
const ts = requireFrom('typescript');
const dpVersion = JSON.parse(
  fs.readFileSync(
    path.join(modulesDir, 'node_modules', 'librechat-data-provider', 'package.json'),
    'utf8',
  ),
).version;

/*
 * The types every check names. Where LibreChat itself sends what its published type does not
 * allow, the check follows the server and says so here (WAIVER). Paths are in the repository
 * danny-avila/LibreChat.
 */
const PRELUDE = `
import type * as t from 'librechat-data-provider';
type Closed<T> =
  T extends string ? \`\${T}\` :
  T extends number | boolean | bigint | symbol | null | undefined | Date ? T :
  T extends (...args: never[]) => unknown ? T :
  T extends readonly (infer E)[] ? Closed<E>[] :
  { [K in keyof T]: Closed<T[K]> };
/* Like zod's default (strip), a field the type does not name is not an error: it is a note. */
type Wire<T> =
  T extends string ? \`\${T}\` :
  T extends number | boolean | bigint | symbol | null | undefined | Date ? T :
  T extends (...args: never[]) => unknown ? T :
  T extends readonly (infer E)[] ? Wire<E>[] :
  { [K in keyof T]: Wire<T[K]> } & { [extra: string]: unknown };
declare function describe<T>(value: T): void;
/* WAIVER: LibreChat creates local users with \`avatar: null\` (registerUser in
   api/server/services/AuthService.js) and returns the user document as is, while TUser says
   \`avatar: string\`. */
type User = Omit<t.TUser, 'avatar'> & { avatar: string | null };
/* A successful login without two-factor: TLoginResponse with token and user present. */
type LoginSuccess = Omit<t.TLoginResponse, 'token' | 'user'> & { token: string; user: User };
type RefreshResponse = Omit<t.TRefreshTokenResponse, 'user'> & { user: User };
/* OURS: what LibreChat's ResumableAgentController answers (api/server/controllers/agents/
   request.js); the package has no type for it. */
type OwnChatStart = { streamId: string; conversationId: string; status: string };
/* OURS: the SSE envelopes of the resumable stream; their payloads are the package's. */
type OwnCreated = { created: true; message: t.TMessage; streamId: string };
type OwnDelta = { event: 'on_message_delta'; data: t.Agents.MessageDeltaEvent };
type OwnFinal = {
  final: true;
  conversation: t.TConversation;
  title?: string | null;
  requestMessage: t.TMessage;
  responseMessage: t.TMessage;
};
/* OURS: the multipart fields of an upload (the package builds FormData without a type). */
type OwnUploadForm = { file_id: string; endpoint: string };
`;

/* One check: the part of the exchange it looks at, and how. */
const zod = (schema, select) => ({ kind: 'zod', schema, select });
const type = (expr, select) => ({ kind: 'type', expr, select, own: false });
const own = (expr, select) => ({ kind: 'type', expr, select, own: true });
const each = (key) => (v) => (Array.isArray(v?.[key]) ? v[key].map((x, i) => [`${key}[${i}]`, x]) : []);
const items = (v) => (Array.isArray(v) ? v.map((x, i) => [`[${i}]`, x]) : []);
const field = (key) => (v) => (v && typeof v === 'object' && key in v ? [[key, v[key]]] : []);
const whole = (v) => [['', v]];

const TYPES_DIR = 'node_modules/librechat-data-provider/dist/types';
const STREAM = 'GET /api/agents/chat/stream/:streamId';

/* route -> { request: [checks], response: [checks] } */
const ROUTES = {
  'POST /api/auth/login': {
    request: [type('t.TLoginUser', whole)],
    response: [type('LoginSuccess', whole)],
  },
  'POST /api/auth/refresh': {
    request: [],
    response: [type('RefreshResponse', whole)],
  },
  'GET /api/convos': {
    request: [type('t.ConversationListParams', whole)],
    response: [
      type('t.ConversationListResponse', whole),
      zod('tConversationSchema', each('conversations')),
    ],
  },
  'GET /api/messages/:conversationId': {
    request: [],
    response: [type('t.TMessage[]', whole), zod('tMessageSchema', items)],
  },
  'GET /api/messages': {
    request: [type('t.MessagesListParams', whole)],
    response: [type('t.MessagesListResponse', whole), zod('tMessageSchema', each('messages'))],
  },
  'POST /api/agents/chat/:endpoint': {
    request: [type('t.TPayload', whole)],
    response: [own('OwnChatStart', whole)],
  },
  [`${STREAM} created`]: {
    request: [],
    response: [own('OwnCreated', whole), zod('tMessageSchema', field('message'))],
  },
  [`${STREAM} on_message_delta`]: {
    request: [],
    response: [own('OwnDelta', whole), type('t.Agents.MessageDeltaEvent', field('data'))],
  },
  [`${STREAM} final`]: {
    request: [],
    response: [
      own('OwnFinal', whole),
      zod('tConversationSchema', field('conversation')),
      zod('tMessageSchema', field('requestMessage')),
      zod('tMessageSchema', field('responseMessage')),
    ],
  },
  'POST /api/files': {
    request: [own('OwnUploadForm', whole)],
    response: [type('t.TFileUpload', whole)],
  },
  'GET /health': {
    request: [],
    response: [own('"OK"', whole)],
  },
};

/* The SSE route is checked per event kind. */
function routeKey(exchange) {
  if (exchange.route !== STREAM) return exchange.route;
  const data = exchange.response || {};
  if (data.created === true) return `${STREAM} created`;
  if (data.final === true) return `${STREAM} final`;
  if (typeof data.event === 'string') return `${STREAM} ${data.event}`;
  return `${STREAM} (unknown event)`;
}

/* JSON as a TypeScript expression, with the source span of every value and its path. */
function literal(value, base, spans, prefix) {
  const start = base.length;
  let text;
  if (Array.isArray(value)) {
    text = '[';
    value.forEach((item, i) => {
      if (i) text += ', ';
      text += literal(item, base + text, spans, `${prefix}[${i}]`);
    });
    text += ']';
  } else if (value !== null && typeof value === 'object') {
    text = '{';
    Object.entries(value).forEach(([key, item], i) => {
      if (i) text += ', ';
      const keyStart = base.length + text.length;
      const where = prefix ? `${prefix}.${key}` : key;
      text += `${JSON.stringify(key)}: `;
      text += literal(item, base + text, spans, where);
      spans.push({ start: keyStart, end: base.length + text.length, path: where });
    });
    text += '}';
  } else {
    text = JSON.stringify(value === undefined ? null : value);
  }
  spans.push({ start, end: start + text.length, path: prefix });
  return text;
}

function innermost(spans, pos) {
  let best = null;
  for (const span of spans) {
    if (span.start <= pos && pos < span.end && (!best || span.end - span.start < best.end - best.start)) {
      best = span;
    }
  }
  return best;
}

/* The fields of an object literal that its contextual type does not describe. */
function undescribed(checker, node, spans, found) {
  if (ts.isObjectLiteralExpression(node)) {
    const contextual = checker.getContextualType(node);
    for (const prop of node.properties) {
      if (!ts.isPropertyAssignment(prop)) continue;
      const name = prop.name.text;
      if (contextual && !describes(checker, contextual, name)) {
        const span = innermost(spans, prop.initializer.getStart());
        found.push(span ? span.path : name);
        continue;
      }
      undescribed(checker, prop.initializer, spans, found);
    }
  } else if (ts.isArrayLiteralExpression(node)) {
    node.elements.forEach((el) => undescribed(checker, el, spans, found));
  }
}

function describes(checker, type, name) {
  const members = type.isUnion() ? type.types : [type];
  return members.some((member) => {
    const apparent = checker.getApparentType(member);
    if (apparent.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return true;
    if (!(apparent.flags & ts.TypeFlags.Object) && !apparent.isIntersection()) return false;
    return Boolean(
      checker.getPropertyOfType(apparent, name) ||
        checker.getIndexInfoOfType(apparent, ts.IndexKind.String),
    );
  });
}

const brief = (text) => (text.length > 120 ? `${text.slice(0, 120)}…` : text);

/* The deepest line of a diagnostic's chain, said briefly (the full types can be pages long). */
function flatten(message) {
  let leaf = message;
  while (typeof leaf === 'object' && leaf.next && leaf.next.length) leaf = leaf.next[0];
  const text = (typeof leaf === 'string' ? leaf : leaf.messageText).replace(/\s+/g, ' ');
  let m = text.match(/^Property '([^']+)' is missing in type .* but required in type/);
  if (m) return `required field '${m[1]}' is missing`;
  m = text.match(/is missing the following properties from type .*: ([\w$, ]+?)(?:, and \d+ more)?\.?$/);
  if (m) return `required fields missing: ${m[1]}`;
  m = text.match(/^Type '(.+?)' is not assignable to type '(.+)'\.?$/);
  if (m) return `${brief(m[1])} is not assignable to ${brief(m[2])}`;
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/* Run every type check of every exchange in one TypeScript program. */
function typeCheck(jobs) {
  const file = path.join(modulesDir, '__contract_exchanges__.ts');
  let source = PRELUDE;
  for (const job of jobs) {
    const spans = [];
    const head = `const c${job.id}: Wire<${job.expr}> = (`;
    job.spans = spans;
    job.verdict = [source.length];
    source += `${head}${literal(job.value, source + head, spans, job.prefix)});\n`;
    job.verdict.push(source.length);
    const describeHead = `describe<Closed<${job.expr}>>(`;
    job.notesSpans = [];
    job.notesStart = (source + describeHead).length;
    job.described = [source.length];
    source += `${describeHead}${literal(job.value, source + describeHead, job.notesSpans, job.prefix)});\n`;
    job.described.push(source.length);
  }
  const options = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    types: [],
    /* The published declarations import 'src/schemas' and '../src/config' (paths of the
       package's own source tree, not rewritten by its build): point them at dist/types. */
    baseUrl: modulesDir,
    paths: { 'src/*': [`${TYPES_DIR}/*`] },
  };
  const host = ts.createCompilerHost(options);
  const redirect = (name) =>
    name.replace(/([\\/]librechat-data-provider[\\/]dist[\\/])src(?=[\\/]|$)/, '$1types');
  for (const method of ['fileExists', 'readFile', 'directoryExists']) {
    const original = host[method].bind(host);
    host[method] = (name, ...rest) => original(redirect(name), ...rest);
  }
  /* ...and load each declaration file once, under its real name. */
  host.resolveModuleNames = (names, containingFile, _reused, _redirected, opts) =>
    names.map((name) => {
      const found = ts.resolveModuleName(name, containingFile, opts, host).resolvedModule;
      return found && { ...found, resolvedFileName: redirect(found.resolvedFileName) };
    });
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) =>
    path.resolve(name) === file
      ? ts.createSourceFile(name, source, lang, true)
      : getSourceFile(redirect(name), lang, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const sf = program.getSourceFile(file);
  const checker = program.getTypeChecker();
  const diagnostics = program.getSemanticDiagnostics(sf).concat(program.getSyntacticDiagnostics(sf));
  const preludeEnd = PRELUDE.length;
  for (const d of diagnostics) {
    if (d.start === undefined || d.start < preludeEnd) {
      throw new Error(`the checker's own types do not compile: ${flatten(d.messageText)}`);
    }
    const within = ([from, to]) => from <= d.start && d.start < to;
    if (jobs.some((j) => within(j.described))) continue; // notes only: never the verdict
    const job = jobs.find((j) => within(j.verdict));
    if (!job) throw new Error(`a diagnostic outside every check: ${flatten(d.messageText)}`);
    const span = innermost(job.spans, d.start);
    const where = span && span.path ? span.path : job.prefix || '(body)';
    job.problems.push(`${where}: ${flatten(d.messageText)}`);
  }
  /* notes: walk the describe() calls */
  ts.forEachChild(sf, function visit(node) {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'describe') {
      const arg = node.arguments[0];
      const job = jobs.find((j) => j.notesStart === arg.getStart(sf));
      if (job) {
        const found = [];
        undescribed(checker, arg, job.notesSpans, found);
        job.notes.push(...found.map((where) => where.replace(/\[\d+\]/g, '[]') + job.noteSuffix));
      }
      return;
    }
    ts.forEachChild(node, visit);
  });
}

function zodCheck(schemaName, value, prefix) {
  const schema = dp[schemaName];
  if (!schema) throw new Error(`librechat-data-provider ${dpVersion} exports no ${schemaName}`);
  const result = schema.safeParse(value);
  if (result.success) return [];
  return result.error.issues.map((issue) => {
    const where = [prefix, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : p))]
      .filter((p) => p !== '')
      .join('.')
      .replace(/\.\[/g, '[');
    return `${where || '(body)'}: ${issue.message} (zod ${schemaName})`;
  });
}

function readInput() {
  const text = fs.readFileSync(args.file ? args.file : 0, 'utf8');
  return text
    .split('\n')
    .map((line, i) => [line.trim(), i + 1])
    .filter(([line]) => line)
    .map(([line, n]) => {
      try {
        return JSON.parse(line);
      } catch (err) {
        process.stderr.write(`line ${n}: not JSON: ${err.message}\n`);
        process.exit(2);
      }
    });
}

function main() {
  const exchanges = readInput();
  const results = [];
  const jobs = [];
  for (const exchange of exchanges) {
    const key = routeKey(exchange);
    const result = { route: key, ok: true, problems: [], notes: [], checks: [] };
    results.push(result);
    const spec = ROUTES[key];
    if (!spec) {
      result.problems.push(`no contract for ${key}`);
      continue;
    }
    if (spec.request.length === 0 && exchange.request != null) {
      result.problems.push('request: this route takes no body, one was recorded');
    }
    for (const part of ['request', 'response']) {
      const value = exchange[part];
      for (const check of spec[part]) {
        const picked = check.select(value);
        if (check.kind === 'zod') {
          result.checks.push(`${part}: zod ${check.schema}`);
          for (const [prefix, v] of picked) {
            result.problems.push(...zodCheck(check.schema, v, `${part}${prefix ? '.' + prefix : ''}`));
          }
        } else {
          result.checks.push(`${part}: ${check.own ? 'own' : 'type'} ${check.expr}`);
          for (const [prefix, v] of picked) {
            jobs.push({
              id: jobs.length,
              expr: check.expr,
              value: v === undefined ? null : v,
              prefix: `${part}${prefix ? '.' + prefix : ''}`,
              own: check.own,
              problems: result.problems,
              notes: result.notes,
              noteSuffix: check.own ? ' (nor in our own contract)' : '',
            });
          }
        }
      }
    }
  }
  if (jobs.length) typeCheck(jobs);
  let failed = 0;
  for (const result of results) {
    result.ok = result.problems.length === 0;
    result.notes = [...new Set(result.notes)];
    if (!result.ok) failed++;
    if (args.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      process.stdout.write(`${result.ok ? 'PASS' : 'FAIL'} ${result.route}\n`);
      for (const p of result.problems) process.stdout.write(`  problem: ${p}\n`);
      for (const n of result.notes) process.stdout.write(`  not in the package: ${n}\n`);
    }
  }
  const passed = results.length - failed;
  const release = dp.Constants.VERSION;
  const summary = `librechat-data-provider ${dpVersion} (LibreChat ${release}): ${passed} passed, ${failed} failed`;
  process.stdout.write(
    args.json
      ? `${JSON.stringify({ summary, package: dpVersion, release, passed, failed })}\n`
      : `${summary}\n`,
  );
  process.exit(failed ? 1 : 0);
}

main();
