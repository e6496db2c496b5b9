"""What handlers may ask Litestar to inject: the process's services, built once in the lifespan."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from app.services.container import Services

# Handlers ask for the services by this name; Litestar injects them from app state.
ServicesDep = NamedDependency[Services]


def provide_services(state: State) -> Services:
    return state.services


DEPENDENCIES = {"services": Provide(provide_services, sync_to_thread=False)}
