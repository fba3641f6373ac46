from django.apps import AppConfig


class OraclesConfig(AppConfig):
    name = "oracles"
