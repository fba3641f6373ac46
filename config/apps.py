from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project on top of every app: its setup commands (load_universe, setup_schedules) live here."""

    name = "config"
    label = "project"
