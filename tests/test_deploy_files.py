"""compose.yaml and the production scripts: a worker for every queue the app routes to, exactly one beat, the
services the profile needs, and scripts that bash can parse. (docker is not available here to run compose.)"""
import subprocess
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_compose_runs_a_worker_per_queue_one_beat_and_the_services():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"web", "beat", "postgres", "redis", "rabbitmq", "migrate"} <= set(services)
    queues = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}
    served = set()
    for service in services.values():
        command = service.get("command") or []
        if isinstance(command, list) and command[:4] == ["celery", "-A", "config", "worker"]:
            served |= set(command[command.index("-Q") + 1].split(","))
    assert served == queues
    beat = services["beat"]
    assert "beat" in beat["command"] and beat["deploy"]["replicas"] == 1
    assert services["web"]["environment"]["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert services["web"]["environment"]["CELERY_BROKER_URL"].startswith("amqp://")


def test_production_scripts_parse():
    for script in ("serve-prod.sh", "load.sh"):
        assert subprocess.run(["bash", "-n", str(ROOT / "scripts" / script)]).returncode == 0
