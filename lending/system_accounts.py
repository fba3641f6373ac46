"""The protocol's own accounts (keeper, treasury): made by the migrations, found by Account.system_role only.

`ensure` works on the models of a migration state (`apps`), so the data migration and the post_migrate
handler (a test database's flush empties every table) share it.
"""
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import FieldDoesNotExist


def ensure(apps, using: str = "default") -> None:
    """Create each missing system account: an inactive user with an unusable password, named after its role,
    or "system:<role>" (a name registration refuses) when someone already holds the role's name."""
    try:
        Account = apps.get_model("lending", "Account")
        roles = [value for value, _ in Account._meta.get_field("system_role").choices]
    except (LookupError, FieldDoesNotExist):  # a migration state before the field
        return
    User = apps.get_model(settings.AUTH_USER_MODEL)
    for role in roles:
        if Account.objects.using(using).filter(system_role=role).exists():
            continue
        name, n = role, 1
        while User.objects.using(using).filter(username__iexact=name).exists():
            name = f"system:{role}" + (f":{n}" if n > 1 else "")
            n += 1
        user = User.objects.using(using).create(username=name, password=make_password(None), is_active=False)
        Account.objects.using(using).create(user=user, system_role=role)
