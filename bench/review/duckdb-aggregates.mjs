// The review's aggregates in DuckDB over the phase's events as exported by `tierstorage event list --phase N --json`
// (JSON lines, gzipped). Prints the same rows as aggregates.sql, one JSON array per figure, and the load and query
// times on stderr. Usage: node duckdb-aggregates.mjs <events.jsonl.gz>
import { DuckDBInstance } from '@duckdb/node-api';

const file = process.argv[2];
if (!file) {
  console.error('usage: node duckdb-aggregates.mjs <events.jsonl.gz>');
  process.exit(2);
}

const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const started = performance.now();
// Columns named, so that no sampling guesses a type; the export writes enum names (LlmCall), the catalog llm_call.
await connection.run(`
  CREATE TABLE phase_events AS
  SELECT lower(regexp_replace(type, '([a-z])([A-Z])', '\\1_\\2', 'g')) AS type, agent, tool, task, durationMs AS duration_ms,
         tokens.input AS input_tokens, tokens.output AS output_tokens, tokens.cacheRead AS cache_read_tokens,
         tokens.cacheWrite AS cache_write_tokens, model, success, errorType AS error_type, file
  FROM read_json('${file.replaceAll("'", "''")}', format = 'newline_delimited', compression = 'gzip', columns = {
    timestamp: 'VARCHAR', sessionId: 'VARCHAR', type: 'VARCHAR', agent: 'VARCHAR', tool: 'VARCHAR', task: 'VARCHAR',
    durationMs: 'BIGINT', tokens: 'STRUCT(input BIGINT, output BIGINT, cacheRead BIGINT, cacheWrite BIGINT, total BIGINT)',
    model: 'VARCHAR', success: 'BOOLEAN', errorType: 'VARCHAR', file: 'VARCHAR', data: 'JSON', eventId: 'BIGINT'})`);
const loaded = performance.now();

const tokenSum = 'COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0) + COALESCE(cache_read_tokens, 0) + COALESCE(cache_write_tokens, 0)';
const queries = [
  `SELECT 'events' AS figure, COUNT(*) AS count, COUNT(DISTINCT task) AS tasks,
          COUNT(*) FILTER (success) AS succeeded, COUNT(success) AS known FROM phase_events`,
  `WITH timed AS (
     SELECT type, duration_ms AS d, ROW_NUMBER() OVER (PARTITION BY type ORDER BY duration_ms) AS rn, COUNT(*) OVER (PARTITION BY type) AS n
     FROM phase_events WHERE duration_ms >= 0 AND type NOT IN ('session_start', 'session_end'))
   SELECT 'latency' AS figure, type AS operation, MAX(n) AS count, AVG(d) AS average_ms,
          MAX(d) FILTER (rn = (50 * n + 99) // 100) AS p50_ms,
          MAX(d) FILTER (rn = (95 * n + 99) // 100) AS p95_ms,
          MAX(d) FILTER (rn = (99 * n + 99) // 100) AS p99_ms
   FROM timed GROUP BY type ORDER BY type`,
  `SELECT 'tokens' AS figure, COALESCE(model, '(no model)') AS model, COUNT(*) AS calls,
          SUM(COALESCE(input_tokens, 0)) AS input_tokens, SUM(COALESCE(output_tokens, 0)) AS output_tokens,
          SUM(COALESCE(cache_write_tokens, 0)) AS cache_write_tokens, SUM(COALESCE(cache_read_tokens, 0)) AS cache_read_tokens
   FROM phase_events WHERE type = 'llm_call' OR ${tokenSum} > 0 GROUP BY 2 ORDER BY 2`,
  `SELECT 'tools' AS figure, tool, COUNT(*) AS count, AVG(duration_ms) FILTER (duration_ms >= 0) AS average_ms,
          COUNT(*) FILTER (success) / COUNT(success) AS success_rate
   FROM phase_events WHERE type = 'tool_call' AND tool IS NOT NULL GROUP BY tool ORDER BY tool`,
  `SELECT 'agents' AS figure, agent, COUNT(*) FILTER (type = 'agent_invocation') AS tasks,
          AVG(duration_ms) FILTER (type = 'agent_invocation' AND duration_ms >= 0) AS average_duration_ms,
          COUNT(*) FILTER (type = 'agent_invocation' AND success) / COUNT(success) FILTER (type = 'agent_invocation') AS success_rate,
          SUM(${tokenSum}) AS tokens
   FROM phase_events WHERE agent IS NOT NULL GROUP BY agent ORDER BY agent`,
  `SELECT 'errors' AS figure, COALESCE(error_type, tool || ' failed', 'unspecified') AS error_type, COUNT(*) AS count
   FROM phase_events WHERE type = 'error' OR success = false GROUP BY 2 ORDER BY 3 DESC, 2 LIMIT 10`,
  `WITH timed AS (
     SELECT type, tool, duration_ms AS d FROM phase_events WHERE duration_ms >= 0 AND type NOT IN ('session_start', 'session_end')),
   threshold AS (SELECT d AS t FROM timed ORDER BY d DESC LIMIT 1 OFFSET (SELECT (2 * COUNT(*) + 9) // 10 - 1 FROM timed))
   SELECT 'bottlenecks' AS figure, type AS operation, tool, COUNT(*) AS count, AVG(d) AS average_ms, (SELECT t FROM threshold) AS threshold_ms
   FROM timed WHERE d >= (SELECT t FROM threshold) GROUP BY type, tool ORDER BY COUNT(*) * AVG(d) DESC`,
];
for (const sql of queries) {
  const reader = await connection.runAndReadAll(sql);
  console.log(JSON.stringify(reader.getRowObjectsJson()));
}
const done = performance.now();
console.error(`duckdb: load ${((loaded - started) / 1000).toFixed(3)} s, aggregates ${((done - loaded) / 1000).toFixed(3)} s`);
connection.closeSync();
instance.closeSync();
