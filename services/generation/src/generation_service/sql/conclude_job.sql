-- Concludes a generation job in one round trip: ends the job if this worker still owns it and,
-- only then, stores the turn (conversation, messages, content history) and stages the outcome
-- events. The usage events are staged whatever happens: the provider charged for the calls.
--
-- $1 request id, $2 worker, $3 succeeded, $4 user id, $5 conversation id, $6 a title for a
-- new conversation, $7 provider, $8 model, $9 system prompt, $10 whether a turn is stored,
-- $11 its messages (JSON rows), $12 the prompt and $13 the answer for the content history,
-- $14 the history's metadata, $15 for each event whether it is staged even if the job is
-- not ours; $16…$20 the events (event_id, topic, key, headers, payload), in publishing order.
WITH finished AS (
    UPDATE generation.generation_jobs
    SET status = CASE WHEN $3 THEN 'succeeded' ELSE 'failed' END, finished_at = now()
    WHERE request_id = $1 AND worker = $2 AND status = 'running'
    RETURNING request_id
),
conversation AS (
    INSERT INTO generation.conversations AS c (id, user_id, title, provider, model, system_prompt)
    SELECT $5, $4, $6, $7, $8, $9 FROM finished WHERE $10
    ON CONFLICT (id) DO UPDATE
        SET provider = excluded.provider, model = excluded.model, updated_at = now()
        WHERE c.user_id = $4
    RETURNING id
),
turn AS (
    INSERT INTO generation.messages (
        id, conversation_id, request_id, role, content, provider, model, input_tokens,
        output_tokens, cached_tokens, latency_ms, ttft_ms, metadata, created_at)
    SELECT m.id, conversation.id, $1, m.role, m.content, m.provider, m.model, m.input_tokens,
           m.output_tokens, m.cached_tokens, m.latency_ms, m.ttft_ms, m.metadata, m.created_at
    FROM conversation, jsonb_to_recordset($11::jsonb) AS m(
        id uuid, role text, content text, provider text, model text, input_tokens int,
        output_tokens int, cached_tokens int, latency_ms float8, ttft_ms float8,
        metadata jsonb, created_at timestamptz)
),
history AS (
    INSERT INTO generation.content_history (
        id, user_id, conversation_id, provider, model, prompt, generated_content, metadata)
    SELECT $1, $4, $5, $7, $8, $12, $13, $14::jsonb FROM finished WHERE $10
),
staged AS (
    INSERT INTO generation.outbox (event_id, topic, key, headers, payload)
    SELECT e.event_id, e.topic, e.key, e.headers, e.payload
    FROM unnest($16::uuid[], $17::text[], $18::bytea[], $19::jsonb[], $20::bytea[])
        WITH ORDINALITY AS e(event_id, topic, key, headers, payload, n)
    JOIN unnest($15::bool[]) WITH ORDINALITY AS o(always, n) USING (n)
    WHERE o.always OR EXISTS (SELECT FROM finished)
    ORDER BY n
)
SELECT EXISTS (SELECT FROM finished)
