"""down votes are stored as what they are: `..._downvoted`, worth nothing

Revision ID: c4d5e6f7a8b9
Revises: b7c1d2e3f4a5
Create Date: 2026-12-02 02:10:00
"""
from alembic import op

revision = 'c4d5e6f7a8b9'
down_revision = 'b7c1d2e3f4a5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A down vote never counts, so it was awarded nothing: only its reason and worth change.
    op.execute(
        "UPDATE gamification.subjects SET reason = target_type || '_downvoted', points = 0 "
        "WHERE kind = 'vote' AND value = 'down' AND reason <> target_type || '_downvoted'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE gamification.subjects SET reason = target_type || '_upvoted' "
        "WHERE kind = 'vote' AND value = 'down'"
    )
