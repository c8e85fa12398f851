from messaging_probe.probe import metadata

from assistant_db.migrations import run_env

run_env(metadata)
