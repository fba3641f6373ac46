from django.apps import AppConfig


class RisklabConfig(AppConfig):
    name = "risklab"
    verbose_name = "Risk lab"
