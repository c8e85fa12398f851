-- Admission of requests, each with the work it brings (if any), in one statement: who is
-- calling, whether the credential carries the scope, whether the month's budget allows it, the
-- request's count against its rate limit, and, for a request admitted within its limit, its
-- status rows and the events that start them.
--
-- One element per request: $1 API key hash, $2 token user (one of the two), $3 scope,
-- $4 whether the budget is checked, $5 endpoint family (NULL: not rate limited), $6 the user
-- its work was made for (NULL: no work). $7 the budget period, $8 now, $9 the limits per plan
-- tier and family (jsonb). The work: $10…$13 status rows (request position, id, kind, detail),
-- $14…$19 events (request position, event_id, topic, key, headers, payload), in publishing
-- order. This is the one statement that writes a request's status row when it is accepted
-- (the status projection, `requests.repository`, moves it along afterwards).
--
-- The rate limit is a sliding-window estimate (Cloudflare's): this minute's count plus the
-- previous minute's, weighted by how much of it still overlaps the last 60 seconds, which
-- avoids admitting twice the limit across a window boundary. A user's requests of one family
-- in the statement are counted together; each one's count is the window's new total less that
-- user's requests after it. A refused request's count is taken back afterwards (uncount.sql).
--
-- Each request's rows are looked up by key (LATERAL … LIMIT 1): planned for the batch as a
-- whole, PostgreSQL would hash-join whole tables. Two statements (two workers, two gateways)
-- may count the same users at once: each locks its users' counters in one order (user, then
-- family), or each could hold a counter the other waits for until PostgreSQL's deadlock check
-- fails one of them. A key's last use (recorded at most once a minute) is written only if no
-- other statement is writing it: that one records the same use.
WITH request AS (
    SELECT *
    FROM unnest($1::text[], $2::uuid[], $3::text[], $4::bool[], $5::text[], $6::uuid[])
        WITH ORDINALITY AS i(key_hash, token_user, scope, check_budget, family, work_user, n)
),
clock AS (
    SELECT date_trunc('minute', $8::timestamptz) AS window_start,
           extract(epoch FROM $8::timestamptz - date_trunc('minute', $8::timestamptz))::float8
               / 60 AS elapsed
),
caller AS (
    SELECT i.n, i.family, i.work_user, u.id AS user_id, u.is_active, u.is_admin, u.plan_tier,
           k.scopes, k.id AS key_id, b.state AS budget_state,
           k.last_used_at IS NULL
               OR k.last_used_at < statement_timestamp() - interval '1 minute' AS stale_use,
           u.is_active
           AND (k.scopes IS NULL OR cardinality(k.scopes) = 0 OR i.scope = ANY(k.scopes))
           AND NOT (i.check_budget AND b.state IS NOT DISTINCT FROM 'hard_exceeded')
               AS admissible
    FROM request i
    LEFT JOIN LATERAL (
        -- A live key, judged at the statement's own time (now() is when its transaction began).
        SELECT * FROM gateway.access_keys k
        WHERE k.key_hash = i.key_hash AND k.revoked_at IS NULL
          AND (k.expires_at IS NULL OR k.expires_at > statement_timestamp())
        LIMIT 1
    ) k ON true
    JOIN LATERAL (
        SELECT * FROM gateway.users u WHERE u.id = coalesce(k.user_id, i.token_user) LIMIT 1
    ) u ON true
    LEFT JOIN LATERAL (
        SELECT b.state FROM gateway.budget_projection b
        WHERE b.user_id = u.id AND b.period = $7 LIMIT 1
    ) b ON true
),
used AS (
    UPDATE gateway.access_keys SET last_used_at = statement_timestamp()
    WHERE id IN (
        SELECT id FROM gateway.access_keys
        WHERE id IN (SELECT key_id FROM caller WHERE stale_use)
        FOR UPDATE SKIP LOCKED
    )
),
counted AS (
    INSERT INTO gateway.rate_limit_windows AS w (user_id, family, window_start, count)
    SELECT user_id, family, (SELECT window_start FROM clock), count(*)
    FROM caller WHERE admissible AND family IS NOT NULL
    GROUP BY user_id, family ORDER BY user_id, family
    ON CONFLICT (user_id, family, window_start) DO UPDATE SET count = w.count + excluded.count
    RETURNING w.user_id, w.family, w.count
),
tallied AS (
    SELECT c.*,
           ($9::jsonb -> c.plan_tier ->> c.family)::int AS rate_limit,
           CASE WHEN c.admissible AND c.family IS NOT NULL
               THEN k.count + 1 - count(*) FILTER (WHERE c.admissible)
                   OVER (PARTITION BY c.user_id, c.family ORDER BY c.n DESC)
           END AS current_count,
           coalesce((
               SELECT p.count FROM gateway.rate_limit_windows p, clock
               WHERE p.user_id = c.user_id AND p.family = c.family
                 AND p.window_start = clock.window_start - interval '1 minute'
           ), 0) AS previous_count
    FROM caller c LEFT JOIN counted k ON k.user_id = c.user_id AND k.family = c.family
),
estimated AS (
    SELECT t.*, clock.elapsed,
           t.current_count + t.previous_count * (1 - clock.elapsed) AS estimate,
           greatest(1, ceil(60 * (1 - clock.elapsed)))::int AS reset_s
    FROM tallied t, clock
),
decided AS (
    SELECT e.*,
           CASE WHEN e.family IS NULL THEN e.admissible
                ELSE e.current_count IS NOT NULL AND e.estimate <= e.rate_limit
           END AS allowed
    FROM estimated e
),
accepted AS (
    SELECT n, user_id FROM decided WHERE allowed AND user_id = work_user
),
recorded AS (
    INSERT INTO gateway.requests (id, user_id, kind, status, detail)
    SELECT r.id, a.user_id, r.kind, 'accepted', r.detail
    FROM unnest($10::bigint[], $11::uuid[], $12::text[], $13::jsonb[]) AS r(n, id, kind, detail)
    JOIN accepted a ON a.n = r.n
),
staged AS (
    INSERT INTO gateway.outbox (event_id, topic, key, headers, payload)
    SELECT e.event_id, e.topic, e.key, e.headers, e.payload
    FROM unnest($14::bigint[], $15::uuid[], $16::text[], $17::bytea[], $18::jsonb[], $19::bytea[])
        WITH ORDINALITY AS e(n, event_id, topic, key, headers, payload, position)
    WHERE e.n IN (SELECT n FROM accepted)
    ORDER BY e.position
)
SELECT d.n, d.user_id, d.is_active, d.is_admin, d.plan_tier, d.scopes, d.budget_state,
       d.current_count IS NOT NULL AS counted, d.current_count, d.allowed, d.rate_limit, d.reset_s,
       greatest(0, floor(d.rate_limit - d.estimate))::int AS remaining,
       CASE
           WHEN d.allowed OR d.current_count IS NULL THEN 0
           WHEN d.previous_count = 0 THEN d.reset_s
           -- Until the previous minute's weight has decayed enough to admit one more.
           ELSE greatest(1, least(d.reset_s, ceil(60 * greatest(0.0,
               (d.current_count + d.previous_count - d.rate_limit)::float8 / d.previous_count
               - d.elapsed))))::int
       END AS retry_after_s,
       d.n IN (SELECT n FROM accepted) AS accepted
FROM decided d
