-- The caller of an API key, by its hash ($1): its user (is_active included: the caller decides
-- what an inactive one gets) and the key's scopes, if the key is live — judged at the
-- statement's own time, as now() is when its transaction began, which can be long before the
-- check on a busy machine. The key's use is recorded at most once a minute, so a busy machine
-- client does not turn every request into a write.
WITH caller AS (
    SELECT u.id AS user_id, u.is_active, u.is_admin, u.plan_tier, k.scopes, k.id AS key_id,
           k.last_used_at IS NULL
               OR k.last_used_at < statement_timestamp() - interval '1 minute' AS stale_use
    FROM gateway.access_keys k JOIN gateway.users u ON u.id = k.user_id
    WHERE k.key_hash = $1 AND k.revoked_at IS NULL
      AND (k.expires_at IS NULL OR k.expires_at > statement_timestamp())
),
used AS (
    UPDATE gateway.access_keys SET last_used_at = statement_timestamp()
    WHERE id = (SELECT key_id FROM caller WHERE stale_use)
)
SELECT user_id, is_active, is_admin, plan_tier, scopes FROM caller
