"""Dependencies: the store, the ontology Model and the settings, shared by every route."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from nimgraph.config import Settings
from nimgraph.ontology import Model
from nimgraph.store.base import GraphStore


def _store(request: Request) -> GraphStore:
    return request.app.state.store


def _model(request: Request) -> Model:
    return request.app.state.model


def _settings(request: Request) -> Settings:
    return request.app.state.settings


StoreDep = Annotated[GraphStore, Depends(_store)]
ModelDep = Annotated[Model, Depends(_model)]
SettingsDep = Annotated[Settings, Depends(_settings)]
