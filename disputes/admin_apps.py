from django.contrib.admin.apps import AdminConfig


class DisputesAdminConfig(AdminConfig):
    """Django's admin, on the record's own site (disputes/admin_site.py)."""

    default_site = "disputes.admin_site.DisputesAdminSite"
