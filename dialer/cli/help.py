"""Help in click's conventions, which typer 0.29 dropped: an argument is ``NAME`` in the usage
line and in errors (typer writes ``{name}``), and a flag shows no ``<bool>``: it takes no
value. Every command and group of the ``dialer`` command uses these classes.

typer carries its own copy of click (``typer._click``), so parameters are told apart by what
they say they are (``param_type_name``, ``is_flag``), not by click's classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from typer._click.core import Context, Parameter


def _conventional(params: list[Parameter]) -> list[Parameter]:
    for param in params:
        if getattr(param, "is_flag", False):
            param.metavar = ""
        elif param.param_type_name == "argument" and param.metavar is None and param.name:
            name = param.name.upper()
            many = "..." if param.nargs != 1 else ""
            param.metavar = f"{name}{many}" if param.required else f"[{name}]{many}"
    return params


class Command(TyperCommand):
    def get_params(self, ctx: Context) -> list[Parameter]:
        return _conventional(super().get_params(ctx))

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument" and param.metavar:
                pieces.append(param.metavar)
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


class Group(TyperGroup):
    def get_params(self, ctx: Context) -> list[Parameter]:
        return _conventional(super().get_params(ctx))
