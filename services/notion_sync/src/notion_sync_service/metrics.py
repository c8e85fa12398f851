"""notion_sync's domain metrics (bounded labels: no user or page ids)."""

from prometheus_client import Counter

SAVES = Counter(
    "notion_saves_total", "Notion save attempts by how they ended", ["outcome"]
)  # synced, failed, retried
API_CALLS = Counter("notion_api_calls_total", "Notion API calls made for saves")
