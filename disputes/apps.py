from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, pre_migrate, pre_save

EDITORS_GROUP = "editors"


class DisputesConfig(AppConfig):
    name = "disputes"
    verbose_name = "Dispute record"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import models, search_index, triggers

        search_index.connect()
        for model in (models.Event, models.RetaliationLink):
            post_delete.connect(
                models.chain_shortened,
                sender=model,
                dispatch_uid=f"disputes.{model.__name__}.chain",
            )

        pre_save.connect(
            models.step_moved, sender=models.Event, dispatch_uid="disputes.Event.moved"
        )

        pre_migrate.connect(triggers.remove, sender=self, dispatch_uid="disputes.triggers.off")
        post_migrate.connect(triggers.install, sender=self, dispatch_uid="disputes.triggers.on")
        post_migrate.connect(grant_editors, sender=self, dispatch_uid="disputes.grant_editors")
        post_migrate.connect(fill_search_index, sender=self, dispatch_uid="disputes.search_index")


def fill_search_index(app_config, using="default", **kwargs):
    """Search entries in this version's format, written after the triggers that keep
    SQLite's FTS5 table: a database that holds a record gets them all written again when it
    has none (one migrated from before the index existed) or when they were written in
    another format (search_index.FORMAT: an upgrade changed what an entry holds)."""
    from django.db import DEFAULT_DB_ALIAS, connections

    from . import search_index
    from .models import Country, SearchEntry, SearchIndexFormat, Source

    if using != DEFAULT_DB_ALIAS:
        return  # search_index reads and writes the default database
    tables = connections[using].introspection.table_names()
    if not {SearchEntry._meta.db_table, SearchIndexFormat._meta.db_table} <= set(tables):
        return
    current = search_index.written_format() == search_index.FORMAT
    if current and SearchEntry.objects.exists():
        return
    if Country.objects.exists() or Source.objects.exists():
        search_index.rebuild()
    elif not current:
        search_index.mark_written()  # nothing to index yet: from now on, this format


def grant_editors(app_config, using="default", **kwargs):
    """Keep the "editors" group holding exactly the rights to keep the record.

    Editors add, change, delete and view every model of the record (those the admin
    offers: a technical table such as the record's version is not theirs to touch), and
    view the edit history of each (the historical models). They get nothing of
    django.contrib.auth, so they cannot create users, change groups or grant themselves
    permissions. Running on every migrate keeps the group right when a model is added later.
    """
    from django.contrib import admin
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    # Permissions for a model are created by auth's own post_migrate handler; make sure
    # they exist whatever order the handlers run in.
    create_permissions(app_config, verbosity=0, using=using)

    wanted = []
    for model in app_config.get_models():
        if is_history_model(model):
            actions = ("view",)
        elif admin.site.is_registered(model):
            actions = ("add", "change", "delete", "view")
        else:
            continue
        wanted += [f"{action}_{model._meta.model_name}" for action in actions]
    permissions = Permission.objects.using(using).filter(
        content_type__app_label=app_config.label, codename__in=wanted
    )
    group, _ = Group.objects.using(using).get_or_create(name=EDITORS_GROUP)
    group.permissions.set(permissions)


def is_history_model(model) -> bool:
    """django-simple-history's historical models (and their m2m tables) point at the
    model they record through `instance_type`."""
    return hasattr(model, "instance_type")
