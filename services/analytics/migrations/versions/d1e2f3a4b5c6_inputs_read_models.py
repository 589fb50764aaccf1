"""what the officials' workspace reads: open flags of ideas, comment texts, each voter's vote

Revision ID: d1e2f3a4b5c6
Revises: 4609d776b3dc
Create Date: 2026-12-02 02:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'd1e2f3a4b5c6'
down_revision = '4609d776b3dc'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('ideas', sa.Column('flags', sa.Integer(), server_default='0', nullable=False), schema='analytics')
    op.add_column('comments', sa.Column('parent_id', sa.UUID(), nullable=True), schema='analytics')
    op.add_column('comments', sa.Column('body', sa.Text(), nullable=True), schema='analytics')
    op.create_table('votes',
    sa.Column('target_id', sa.UUID(), nullable=False),
    sa.Column('voter_id', sa.UUID(), nullable=False),
    sa.Column('city_id', sa.UUID(), nullable=False),
    sa.Column('project_id', sa.UUID(), nullable=True),
    sa.Column('idea_id', sa.UUID(), nullable=False),
    sa.Column('target_type', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('voted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('target_id', 'voter_id'),
    schema='analytics'
    )
    op.create_index('ix_analytics_votes_project', 'votes', ['city_id', 'project_id'], unique=False, schema='analytics')


def downgrade() -> None:
    op.drop_index('ix_analytics_votes_project', table_name='votes', schema='analytics')
    op.drop_table('votes', schema='analytics')
    op.drop_column('comments', 'body', schema='analytics')
    op.drop_column('comments', 'parent_id', schema='analytics')
    op.drop_column('ideas', 'flags', schema='analytics')
