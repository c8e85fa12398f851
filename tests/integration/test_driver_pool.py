"""The driver pool's commits: as durable as the server's own setting says, unless a pool is
told not to wait for the disk; and its plans, made once per connection."""

import pytest

from assistant_db import DriverPool

SETTING = "SELECT setting, source FROM pg_settings WHERE name = 'synchronous_commit'"


@pytest.mark.parametrize("durable", [True, False])
async def test_only_a_pool_told_so_commits_without_waiting_for_the_disk(
    database_url: str, durable: bool
) -> None:
    pool = DriverPool(database_url, 1, durable_commits=durable)
    try:
        setting, source = await (await pool.pool()).fetchrow(SETTING)
    finally:
        await pool.close()
    if durable:
        assert source != "client", "a durable pool keeps the server's setting"
    else:
        assert (setting, source) == ("off", "client")


async def test_a_pool_plans_each_statement_once_per_connection(database_url: str) -> None:
    pool = DriverPool(database_url, 1)
    try:
        mode = await (await pool.pool()).fetchval("SHOW plan_cache_mode")
    finally:
        await pool.close()
    assert mode == "force_generic_plan"
