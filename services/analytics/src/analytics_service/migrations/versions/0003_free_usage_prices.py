"""Usage that costs nothing is priced at zero, not flagged as unpriced: Notion API calls, and
embeddings made by the local model.

Revision ID: analytics_0003
Revises: analytics_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "analytics_0003"
down_revision = "analytics_0002"
branch_labels = None
depends_on = None

FREE = (
    ("notion", "api", "Notion's API has no per-call price"),
    ("local", "all-MiniLM-L6-v2", "embedded on this system's own CPU"),
)


def upgrade() -> None:
    insert = sa.text(
        "INSERT INTO analytics.model_prices"
        " (provider, model, valid_from, input_per_m, output_per_m, cached_per_m, source)"
        " VALUES (:provider, :model, '2025-01-01T00:00:00+00:00', 0, 0, 0, :source)"
        " ON CONFLICT (provider, model, valid_from) DO NOTHING"
    )
    for provider, model, source in FREE:
        op.execute(insert.bindparams(provider=provider, model=model, source=source))


def downgrade() -> None:
    delete = sa.text(
        "DELETE FROM analytics.model_prices WHERE provider = :provider AND model = :model"
    )
    for provider, model, _ in FREE:
        op.execute(delete.bindparams(provider=provider, model=model))
