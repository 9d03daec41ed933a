"""Which default roles hold which sales rights: used by the role seeds and by the migration
that gives roles created before the sales app the same rights."""

from __future__ import annotations

SALES_WORK = (
    "view_contract",
    "add_contract",
    "change_contract",
    "view_order",
    "add_order",
    "change_order",
)
SALES_READ = ("view_contract", "view_order")

ROLE_GRANTS: dict[str, tuple[str, ...]] = {
    "sales_manager": SALES_WORK,
    "sales_rep": SALES_WORK,
    "finance": (*SALES_READ, "change_order"),
    "data_admin": SALES_READ,
    "service_rep": SALES_READ,
    "analyst": SALES_READ,
}


def dotted_names(codenames: tuple[str, ...]) -> list[str]:
    return [f"sales.{c}" for c in codenames]


# Per-object-type scopes beyond a role's own: finance records payments on every order.
ROLE_SCOPES: dict[str, dict[str, tuple[str, str]]] = {"finance": {"order": ("all", "all")}}


def add_role_scopes(role_scope_model: type, role: object, code: str) -> None:
    """The sales scopes of a default role, where the role has none for that type yet."""
    for object_type, (read, write) in ROLE_SCOPES.get(code, {}).items():
        role_scope_model.objects.get_or_create(
            role=role,
            object_type=object_type,
            defaults={"read_scope": read, "write_scope": write},
        )
