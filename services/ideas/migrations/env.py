from services.common.migrate import run_env
from services.ideas.models import metadata

run_env(metadata)
