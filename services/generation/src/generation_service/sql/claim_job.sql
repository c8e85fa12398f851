-- Claims a generation job and reads what answering it needs, in one round trip.
--
-- A new request inserts its job row. A redelivered one finds the row: finished (a duplicate);
-- running with a fresh heartbeat under another worker (busy: that instance is answering it);
-- running with a stale heartbeat, or under this very worker but not being answered here (taken
-- over: the instance died, or an attempt of ours failed and the request came back). A claim
-- that raced another instance's insert of the same request sees no row at all: busy, so the
-- caller tries again.
--
-- $1 request id, $2 event id, $3 user id, $4 worker, $5 how old a heartbeat is stale,
-- $6 conversation id, $7 the providers of the request's chain.
WITH inserted AS (
    INSERT INTO generation.generation_jobs (request_id, event_id, user_id, status, worker)
    VALUES ($1, $2, $3, 'running', $4)
    ON CONFLICT (request_id) DO NOTHING
    RETURNING request_id
),
found AS (
    SELECT status, worker, heartbeat_at < statement_timestamp() - $5::interval AS stale
    FROM generation.generation_jobs
    WHERE request_id = $1 AND NOT EXISTS (SELECT FROM inserted)
    FOR UPDATE
),
taken_over AS (
    UPDATE generation.generation_jobs AS job
    SET worker = $4, heartbeat_at = statement_timestamp(), attempts = job.attempts + 1
    FROM found
    WHERE job.request_id = $1 AND found.status = 'running' AND (found.stale OR found.worker = $4)
    RETURNING job.request_id
)
SELECT
    CASE
        WHEN EXISTS (SELECT FROM inserted) THEN 'new'
        WHEN EXISTS (SELECT FROM taken_over) THEN 'taken_over'
        WHEN (SELECT status FROM found) <> 'running' THEN 'finished'
        ELSE 'busy'
    END AS claim,
    (SELECT user_id FROM generation.conversations WHERE id = $6) AS owner,
    -- As JSON text: one value to decode instead of a row per message.
    (
        SELECT coalesce(
            json_agg(json_build_object('role', m.role, 'content', m.content)
                     ORDER BY m.created_at, m.id),
            '[]')
        FROM generation.messages AS m
        JOIN generation.conversations AS c ON c.id = m.conversation_id
        WHERE m.conversation_id = $6 AND c.user_id = $3
    )::text AS history,
    (
        SELECT coalesce(
            json_object_agg(provider,
                            json_build_object('ciphertext', ciphertext, 'base_url', base_url)),
            '{}')
        FROM generation.provider_credentials
        WHERE user_id = $3 AND provider = ANY($7::text[])
    )::text AS credentials
