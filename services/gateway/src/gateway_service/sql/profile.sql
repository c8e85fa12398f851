-- A user's profile and settings as the API shows them ($1: the user). The JSON columns come as
-- text, whatever JSON codec the connection has (the driver pool's has none).
SELECT u.id, u.email, u.username, u.full_name, u.plan_tier, u.is_admin, u.is_active,
       u.created_at, s.default_provider, s.default_model,
       s.notion_config::text AS notion_config, s.ui_preferences::text AS ui_preferences
FROM gateway.users u JOIN gateway.user_settings s ON s.user_id = u.id
WHERE u.id = $1
