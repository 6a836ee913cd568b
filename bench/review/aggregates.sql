-- The figures of Invoke-PhaseReview for phase 1, as plain SQL over the catalog, for scale and as an independent check.
-- Same definitions as PhaseReviewer: timed operations are events with duration_ms >= 0 other than session_start/end;
-- percentiles are nearest rank (sorted[ceil(p/100 * n) - 1]); tokens count on events with tokens or of type llm_call.
-- Output: one JSON array per query (sqlite3 -json), read back by compare.mjs.
CREATE TEMP TABLE phase_events AS
SELECT e.* FROM events e JOIN sessions s ON s.session_id = e.session_id WHERE s.phase = 1;

SELECT 'events' AS figure, COUNT(*) AS count, COUNT(DISTINCT task) AS tasks,
       SUM(success = 1) AS succeeded, SUM(success IS NOT NULL) AS known
FROM phase_events;

-- latency per operation type
WITH timed AS (
  SELECT type, duration_ms AS d,
         ROW_NUMBER() OVER (PARTITION BY type ORDER BY duration_ms) AS rn,
         COUNT(*) OVER (PARTITION BY type) AS n
  FROM phase_events
  WHERE duration_ms >= 0 AND type NOT IN ('session_start', 'session_end'))
SELECT 'latency' AS figure, type AS operation, MAX(n) AS count, AVG(d) AS average_ms,
       MAX(CASE WHEN rn = (50 * n + 99) / 100 THEN d END) AS p50_ms,
       MAX(CASE WHEN rn = (95 * n + 99) / 100 THEN d END) AS p95_ms,
       MAX(CASE WHEN rn = (99 * n + 99) / 100 THEN d END) AS p99_ms
FROM timed GROUP BY type ORDER BY type;

-- tokens per model
SELECT 'tokens' AS figure, COALESCE(model, '(no model)') AS model, COUNT(*) AS calls,
       SUM(COALESCE(input_tokens, 0)) AS input_tokens, SUM(COALESCE(output_tokens, 0)) AS output_tokens,
       SUM(COALESCE(cache_write_tokens, 0)) AS cache_write_tokens, SUM(COALESCE(cache_read_tokens, 0)) AS cache_read_tokens
FROM phase_events
WHERE type = 'llm_call'
   OR COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0) + COALESCE(cache_read_tokens, 0) + COALESCE(cache_write_tokens, 0) > 0
GROUP BY 2 ORDER BY 2;

-- tool usage effectiveness
SELECT 'tools' AS figure, tool, COUNT(*) AS count, AVG(CASE WHEN duration_ms >= 0 THEN duration_ms END) AS average_ms,
       1.0 * SUM(success = 1) / NULLIF(SUM(success IS NOT NULL), 0) AS success_rate
FROM phase_events WHERE type = 'tool_call' AND tool IS NOT NULL
GROUP BY tool ORDER BY tool;

-- agent performance: invocations, their average duration and success, tokens of all the agent's events
SELECT 'agents' AS figure, agent, SUM(type = 'agent_invocation') AS tasks,
       AVG(CASE WHEN type = 'agent_invocation' AND duration_ms >= 0 THEN duration_ms END) AS average_duration_ms,
       1.0 * SUM(type = 'agent_invocation' AND success = 1) / NULLIF(SUM(type = 'agent_invocation' AND success IS NOT NULL), 0) AS success_rate,
       SUM(COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0) + COALESCE(cache_read_tokens, 0) + COALESCE(cache_write_tokens, 0)) AS tokens
FROM phase_events WHERE agent IS NOT NULL
GROUP BY agent ORDER BY agent;

-- top 10 errors
SELECT 'errors' AS figure, COALESCE(error_type, tool || ' failed', 'unspecified') AS error_type, COUNT(*) AS count
FROM phase_events WHERE type = 'error' OR success = 0
GROUP BY 2 ORDER BY 3 DESC, 2 LIMIT 10;

-- bottlenecks: operations at or above the k-th largest duration, k = ceil(0.2 n)
WITH timed AS (
  SELECT type, tool, duration_ms AS d FROM phase_events
  WHERE duration_ms >= 0 AND type NOT IN ('session_start', 'session_end')),
threshold AS (
  SELECT d AS t FROM timed ORDER BY d DESC
  LIMIT 1 OFFSET (SELECT (2 * COUNT(*) + 9) / 10 - 1 FROM timed))
SELECT 'bottlenecks' AS figure, type AS operation, tool, COUNT(*) AS count, AVG(d) AS average_ms, (SELECT t FROM threshold) AS threshold_ms
FROM timed WHERE d >= (SELECT t FROM threshold)
GROUP BY type, tool ORDER BY COUNT(*) * AVG(d) DESC;
