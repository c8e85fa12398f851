"""The web console (`web/`, built into `web/dist`) served at `/`, beside the API under `/v1`.

Its files are served as built (scripts and styles gzipped at build time, to browsers that
accept it), under a strict Content-Security-Policy: scripts, styles and
connections from this origin only, no inline script, no framing. A path that names no file is
one of the console's own routes (`/chat/…`), answered with its `index.html`; the API's and
the docs' paths never reach here, as their routes are matched first.
"""

import mimetypes
from pathlib import Path

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Built files are named by their content hash: a browser may keep them for good.
IMMUTABLE = "public, max-age=31536000, immutable"


class ConsoleFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = self._gzipped(path, scope) or await super().get_response(path, scope)
        except HTTPException as missing:
            if missing.status_code != 404 or path.startswith(("v1/", "assets/")):
                raise
            response = await super().get_response("index.html", scope)
        response.headers.update(HEADERS)
        hashed = path.startswith("assets/") and response.status_code == 200
        response.headers["Cache-Control"] = IMMUTABLE if hashed else "no-cache"
        return response

    def _gzipped(self, path: str, scope: Scope) -> Response | None:
        """The build's gzipped copy of an asset, to a browser that accepts gzip."""
        if not path.startswith("assets/") or "gzip" not in Headers(scope=scope).get(
            "accept-encoding", ""
        ):
            return None
        full_path, stat = self.lookup_path(path + ".gz")
        if stat is None:
            return None
        return FileResponse(
            full_path,
            stat_result=stat,
            media_type=mimetypes.guess_type(path)[0],
            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )


def serve_console(app: FastAPI, built: Path) -> bool:
    """Serves the console from `built` (its `index.html` and `assets/`) if it was built."""
    if not (built / "index.html").is_file():
        return False
    app.mount("/", ConsoleFiles(directory=built, html=True), name="console")
    return True
