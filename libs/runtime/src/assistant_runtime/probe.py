"""`python -m assistant_runtime.probe`: the container health check.

Exits 0 when the service at `PROBE_URL` (default: the gateway's) answers its readiness check
with 200, else 1 with one line saying why; compose and the image's HEALTHCHECK both run it.
"""

import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/readyz"


def main() -> int:
    url = os.environ.get("PROBE_URL", DEFAULT_URL)
    try:
        with urllib.request.urlopen(url, timeout=4) as response:  # noqa: S310 (set by the operator)
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as error:
        print(f"{url}: {error.code} {error.read(500).decode(errors='replace')}", file=sys.stderr)
    except OSError as error:
        print(f"{url}: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
