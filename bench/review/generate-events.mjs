// Writes one session's events as activity-log JSON lines (the `tierstorage event add --stdin` format) to stdout.
// Deterministic: the same arguments give the same lines, so every run of review-bench.sh reviews the same phase.
// Usage: node generate-events.mjs <session-index> <event-count> <session-start-unix-ms>
import { Writable } from 'node:stream';

const [index, count, startMs] = process.argv.slice(2).map(Number);
if (!Number.isInteger(index) || !Number.isInteger(count) || !Number.isFinite(startMs)) {
  console.error('usage: node generate-events.mjs <session-index> <event-count> <session-start-unix-ms>');
  process.exit(2);
}

// mulberry32: small, fast and seedable; Math.random cannot be seeded.
let seed = (0x9e3779b9 ^ (index * 0x85ebca6b)) >>> 0;
function random() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
// Durations and token counts of real sessions are long-tailed: log-normal around a median.
function logNormal(median, sigma) {
  const u = 1 - random(), v = random();
  return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
}
function pick(weighted) {
  let r = random() * weighted.total;
  for (const [value, weight] of weighted.items) if ((r -= weight) < 0) return value;
  return weighted.items[weighted.items.length - 1][0];
}
const weights = items => ({ items, total: items.reduce((sum, [, w]) => sum + w, 0) });

const folders = ['Catalog', 'Workspace', 'Backup', 'Tiers', 'Review', 'Ingest', 'Policy', 'Packaging', 'Lifecycle', 'Cli'];
const names = ['Database', 'Operations', 'Writer', 'Reader', 'Options', 'Layout', 'Store', 'Client', 'Parser', 'Command',
  'Queue', 'Manifest', 'Planner', 'Column', 'Chart', 'Narrative', 'Locator', 'Recorder', 'Importer', 'Defaults'];
// Zipf-like: a few files take most of the edits, as in a real phase.
const files = weights(folders.flatMap((folder, f) => names.map((name, n) =>
  [`src/TierStorage.Engine/${folder}/${folder}${name}.cs`, 1 / (1 + f * names.length + n) ** 0.9])));
const agents = weights([['orchestrator', 10], ['coder', 40], ['reviewer', 15], ['tester', 15], ['planner', 8], ['debugger', 9], ['docs-writer', 3]]);
const models = weights([['claude-sonnet-4-5-20250929', 60], ['claude-haiku-4-5-20251001', 25], ['claude-opus-4-1-20250805', 15]]);
const types = weights([['tool_call', 46], ['llm_call', 32], ['file_operation', 15], ['agent_invocation', 4], ['error', 3]]);
const tools = {
  Read: [30, 45, 0.6, 0.99, true], Edit: [20, 90, 0.7, 0.95, true], Bash: [18, 2500, 1.3, 0.86, false],
  Grep: [12, 150, 0.8, 0.98, false], Glob: [6, 60, 0.6, 0.99, false], Write: [6, 70, 0.6, 0.98, true],
  TodoWrite: [3, 15, 0.4, 1, false], Task: [3, 45000, 1.0, 0.92, false], WebFetch: [2, 1800, 0.9, 0.9, false],
};
const toolNames = weights(Object.entries(tools).map(([name, [w]]) => [name, w]));
const errorTypes = weights([['CompileError', 30], ['TestFailure', 25], ['Timeout', 10], ['FileNotFound', 8], ['PermissionDenied', 4],
  ['EditConflict', 8], ['NullReference', 6], ['LintError', 5], ['RateLimited', 3], ['MergeConflict', 1]]);
const fileOps = weights([['read', 55], ['write', 30], ['create', 10], ['delete', 5]]);

const out = [];
let pending = 0;
const stdout = process.stdout;
async function flush() {
  const chunk = out.join('');
  out.length = 0;
  pending = 0;
  if (!stdout.write(chunk)) await new Promise(resolve => stdout.once('drain', resolve));
}

let ts = startMs;
let task = `task-${index}-0`, taskNumber = 0, taskLeft = 0;
for (let i = 0; i < count; i++) {
  ts += Math.max(1, Math.round(-Math.log(1 - random()) * 400));
  if (taskLeft-- <= 0) {
    task = `task-${String(index).padStart(2, '0')}-${taskNumber++}`;
    taskLeft = Math.round(logNormal(200, 0.7));
  }
  const type = pick(types);
  const e = { timestamp: new Date(ts).toISOString(), type, agent: pick(agents), task };
  if (type === 'tool_call') {
    const tool = pick(toolNames);
    const [, median, sigma, successRate, hasFile] = tools[tool];
    e.tool = tool;
    e.duration_ms = Math.round(logNormal(median, sigma));
    e.success = random() < successRate;
    if (hasFile || (tool === 'Grep' && random() < 0.3)) e.file = pick(files);
    e.data = { tool_use_id: `toolu_${index}_${i}` };
  } else if (type === 'llm_call') {
    const model = pick(models);
    const cacheWrite = random() < 0.3 ? Math.round(logNormal(2500, 1)) : 0;
    const cache1h = cacheWrite > 0 && random() < 0.2 ? Math.round(cacheWrite * random()) : 0;
    e.model = model;
    e.duration_ms = Math.round(logNormal(model.includes('haiku') ? 1500 : model.includes('opus') ? 9000 : 4500, 0.8));
    e.tokens = {
      input: Math.round(logNormal(1200, 1.1)),
      output: Math.round(logNormal(450, 0.9)),
      cache_read: random() < 0.75 ? Math.round(logNormal(45000, 0.8)) : 0,
      cache_write: cacheWrite,
    };
    e.success = true;
    e.data = { message_id: `msg_${index}_${i}`, request_id: `req_${index}_${i}` };
    if (cacheWrite > 0) Object.assign(e.data, { cache_write_5m_tokens: cacheWrite - cache1h, cache_write_1h_tokens: cache1h });
  } else if (type === 'file_operation') {
    e.file = pick(files);
    e.duration_ms = Math.round(logNormal(4, 0.9));
    e.success = random() < 0.995;
    e.data = { op: pick(fileOps), bytes: Math.round(logNormal(6000, 1)) };
  } else if (type === 'agent_invocation') {
    e.duration_ms = Math.round(logNormal(90000, 0.9));
    e.success = random() < 0.9;
  } else {
    e.error_type = pick(errorTypes);
    e.tool = random() < 0.6 ? 'Bash' : 'Edit';
    e.file = pick(files);
    e.success = false;
    e.data = { message: `${e.error_type} in ${e.file}` };
  }
  out.push(JSON.stringify(e), '\n');
  if (++pending === 2000) await flush();
}
await flush();
