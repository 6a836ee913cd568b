// Checks that the review and the plain-SQL runs agree on every figure they both compute.
// Usage: node compare.mjs <review.json> <label>=<rows file>...   (rows: JSON arrays, from aggregates.sql or duckdb-aggregates.mjs)
// Exit 0 when all agree, 1 with each difference printed otherwise.
import { readFileSync } from 'node:fs';

const [reviewFile, ...others] = process.argv.slice(2);
const review = JSON.parse(readFileSync(reviewFile, 'utf8'));

// Exact for counts and percentiles; averages and rates are compared to 1e-9 relative (SQL and C# sum in different orders).
const same = (a, b) => (a === null || a === undefined || b === null || b === undefined)
  ? (a ?? null) === (b ?? null)
  : Math.abs(Number(a) - Number(b)) <= 1e-9 * Math.max(1, Math.abs(Number(a)));

let differences = 0, checked = 0;
for (const other of others) {
  const [label, file] = other.split('=');
  // Both print one JSON array per query (sqlite3 -json spreads it over lines): join them into one array.
  const rows = JSON.parse(`[${readFileSync(file, 'utf8').trim().replace(/^\[|\]$/g, '').replace(/\]\s*\[/g, ',')}]`);
  const of = figure => rows.filter(r => r.figure === figure);
  const check = (what, expected, actual) => {
    checked++;
    if (same(expected, actual)) return;
    differences++;
    console.log(`${label}: ${what}: review ${expected}, ${label} ${actual}`);
  };
  const byKey = (list, key) => new Map(list.map(r => [key(r), r]));

  const [events] = of('events');
  check('events', review.eventCount, events.count);
  check('tasks', review.taskCount, events.tasks);
  check('success rate', review.successRate, Number(events.succeeded) / Number(events.known));

  const latency = byKey(of('latency'), r => r.operation);
  check('latency operations', review.latency.length, latency.size);
  for (const row of review.latency) {
    const sql = latency.get(row.operation) ?? {};
    for (const [mine, theirs] of [['eventCount', 'count'], ['averageMs', 'average_ms'], ['p50Ms', 'p50_ms'], ['p95Ms', 'p95_ms'], ['p99Ms', 'p99_ms']])
      check(`latency ${row.operation} ${mine}`, row[mine], sql[theirs]);
  }

  const tokens = byKey(of('tokens'), r => r.model);
  check('token models', review.tokens.length, tokens.size);
  for (const row of review.tokens) {
    const sql = tokens.get(row.model) ?? {};
    for (const [mine, theirs] of [['calls', 'calls'], ['inputTokens', 'input_tokens'], ['outputTokens', 'output_tokens'],
      ['cacheWriteTokens', 'cache_write_tokens'], ['cacheReadTokens', 'cache_read_tokens']])
      check(`tokens ${row.model} ${mine}`, row[mine], sql[theirs]);
  }

  const tools = byKey(of('tools'), r => r.tool);
  check('tools', review.tools.length, tools.size);
  for (const row of review.tools) {
    const sql = tools.get(row.tool) ?? {};
    check(`tool ${row.tool} count`, row.calls, sql.count);
    check(`tool ${row.tool} average`, row.averageDurationMs, sql.average_ms);
    check(`tool ${row.tool} success rate`, row.successRate, sql.success_rate);
  }

  const agents = byKey(of('agents'), r => r.agent);
  check('agents', review.agents.length, agents.size);
  for (const row of review.agents) {
    const sql = agents.get(row.agent) ?? {};
    check(`agent ${row.agent} tasks`, row.tasks, sql.tasks);
    check(`agent ${row.agent} average`, row.averageDurationMs, sql.average_duration_ms);
    check(`agent ${row.agent} success rate`, row.successRate, sql.success_rate);
    check(`agent ${row.agent} tokens`, row.tokens, sql.tokens);
  }

  const errors = of('errors');
  check('top errors', review.errors.length, errors.length);
  review.errors.forEach((row, i) => {
    check(`error #${i + 1}`, 0, row.errorType === errors[i]?.error_type ? 0 : 1);
    check(`error ${row.errorType} count`, row.occurrences, errors[i]?.count);
  });

  const bottlenecks = byKey(of('bottlenecks'), r => `${r.operation}/${r.tool ?? ''}`);
  check('bottleneck threshold', review.bottleneckThresholdMs, of('bottlenecks')[0]?.threshold_ms);
  check('bottleneck groups', review.bottlenecks.length, bottlenecks.size);
  for (const row of review.bottlenecks) {
    const sql = bottlenecks.get(`${row.operation}/${row.tool ?? ''}`) ?? {};
    check(`bottleneck ${row.operation}/${row.tool ?? ''} count`, row.eventCount, sql.count);
    check(`bottleneck ${row.operation}/${row.tool ?? ''} average`, row.averageMs, sql.average_ms);
  }
}
console.log(differences === 0
  ? `agree: ${checked} figures of the review match ${others.map(o => o.split('=')[0]).join(' and ')}`
  : `DIFFER: ${differences} of ${checked} figures`);
process.exit(differences === 0 ? 0 : 1);
