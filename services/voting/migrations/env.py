from services.common.migrate import run_env
from services.voting.models import metadata

run_env(metadata)
