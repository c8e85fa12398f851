-- Takes back a refused request's count ($1 user, $2 family, $3 when it was counted): a refused
-- request must not use up the allowance it did not get.
UPDATE gateway.rate_limit_windows SET count = count - 1
WHERE user_id = $1 AND family = $2 AND window_start = date_trunc('minute', $3::timestamptz)
