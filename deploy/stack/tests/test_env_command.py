"""`python -m assistant_stack env`: lines a shell can `eval`, whatever the values hold."""

import subprocess
import sys

from assistant_stack.profiles import PROFILES


def test_a_shell_that_evals_the_lines_gets_every_value_whole() -> None:
    profile = PROFILES["test"]
    script = (
        f'eval "$({sys.executable} -m assistant_stack env --profile test)"; '
        'printf "%s\\n" "$DATABASE_URL" "$KAFKA_BOOTSTRAP_SERVERS"'
    )
    shown = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert shown.stdout.splitlines() == [profile.database_url, profile.bootstrap_servers]
    assert "&" in profile.database_url  # the case that needs quoting: host and port
