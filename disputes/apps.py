from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "disputes"
    verbose_name = "Dispute record"
    default_auto_field = "django.db.models.BigAutoField"
