"""The provider APIs the sandbox speaks, one module each; their paths never collide."""

from __future__ import annotations

from dialer.sandbox.apis import allomia, libby, libby_legacy, native, polyai, trillet
from dialer.sandbox.routing import Route

ROUTES: tuple[Route, ...] = (
    *libby.ROUTES,
    *libby_legacy.ROUTES,
    *allomia.ROUTES,
    *trillet.ROUTES,
    *polyai.ROUTES,
    *native.ROUTES,
)
