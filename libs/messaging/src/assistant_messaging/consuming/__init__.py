"""Receiving events: the router, the event and job consumers, broadcasts, the inbox,
retries and dead letters."""
