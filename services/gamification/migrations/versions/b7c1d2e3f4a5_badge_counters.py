"""badge counters: what each user's badges count, kept as subjects start or stop counting

Revision ID: b7c1d2e3f4a5
Revises: 92e620e83db4
Create Date: 2026-12-01 20:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'b7c1d2e3f4a5'
down_revision = '92e620e83db4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('counters',
    sa.Column('city_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('n', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('city_id', 'user_id', 'name'),
    schema='gamification'
    )
    # the counts of the subjects that count now
    op.execute(
        """
        INSERT INTO gamification.counters (city_id, user_id, name, n)
        SELECT city_id, user_id, kind, count(*) FROM gamification.subjects WHERE counts GROUP BY 1, 2, 3
        UNION ALL
        SELECT city_id, user_id, 'comment_vote', count(*) FROM gamification.subjects
        WHERE counts AND kind = 'vote' AND target_type = 'comment' GROUP BY 1, 2
        """
    )


def downgrade() -> None:
    op.drop_table('counters', schema='gamification')
