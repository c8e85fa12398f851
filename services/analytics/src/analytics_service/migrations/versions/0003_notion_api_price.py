"""Notion API calls are free: a zero price, so their usage is priced (at nothing), not flagged
as unpriced.

Revision ID: analytics_0003
Revises: analytics_0002
"""

from alembic import op

revision = "analytics_0003"
down_revision = "analytics_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO analytics.model_prices"
        " (provider, model, valid_from, input_per_m, output_per_m, cached_per_m, source)"
        " VALUES ('notion', 'api', '2025-01-01T00:00:00+00:00', 0, 0, 0,"
        " 'Notion''s API has no per-call price')"
        " ON CONFLICT (provider, model, valid_from) DO NOTHING"
    )


def downgrade() -> None:
    op.execute("DELETE FROM analytics.model_prices WHERE provider = 'notion' AND model = 'api'")
