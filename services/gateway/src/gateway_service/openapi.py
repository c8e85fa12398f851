"""Writes the gateway's OpenAPI document: `python -m gateway_service.openapi docs/openapi.json`."""

import json
import sys
from pathlib import Path

from pydantic import SecretStr

from gateway_service.service import create_app
from gateway_service.settings import GatewaySettings


def build_document() -> str:
    # The document does not depend on the secret; a placeholder keeps the generator quiet.
    app = create_app(GatewaySettings(jwt_secret=SecretStr("placeholder-" * 4)))
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/openapi.json")
    target.write_text(build_document())
    print(f"wrote {target}")
