"""drop the never-read users.role; index own ideas and comments by author

Revision ID: d91a3b322093
Revises: 5cd16ba538bc
Create Date: 2026-12-02 02:08:26.379154
"""
from alembic import op
import sqlalchemy as sa


revision = 'd91a3b322093'
down_revision = '5cd16ba538bc'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_ideas_comments_author', 'comments', ['city_id', 'author_id', 'created_at', 'id'], unique=False, schema='ideas')
    op.create_index('ix_ideas_ideas_author', 'ideas', ['city_id', 'author_id', 'created_at', 'id'], unique=False, schema='ideas')
    op.drop_column('users', 'role', schema='ideas')


def downgrade() -> None:
    op.add_column('users', sa.Column('role', sa.TEXT(), autoincrement=False, nullable=True), schema='ideas')
    op.drop_index('ix_ideas_ideas_author', table_name='ideas', schema='ideas')
    op.drop_index('ix_ideas_comments_author', table_name='comments', schema='ideas')
