-- The caller of a verified access token, by its user ($1). `scopes` is NULL: a login session
-- may do everything.
SELECT id AS user_id, is_active, is_admin, plan_tier, NULL::text[] AS scopes
FROM gateway.users WHERE id = $1
