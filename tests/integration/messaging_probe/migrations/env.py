from assistant_db.migrations import run_env
from messaging_probe.probe import metadata

run_env(metadata)
