-- Rate-limit windows too old to weigh on any decision at $1 (admit.sql reads this minute's
-- and the previous one).
DELETE FROM gateway.rate_limit_windows
WHERE window_start < date_trunc('minute', $1::timestamptz) - interval '1 minute'
