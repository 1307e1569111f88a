"""GraphStore: the storage contract against the fake Graph server, and Graph's own ways."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from calbridge.calendars.graph import GraphStore
from servers.graph_server import FakeGraph, serve_graph

from .contract import StoreContract


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with serve_graph() as fake:
        yield fake


class TestGraphStore(StoreContract):
    incremental = True

    @pytest.fixture
    def store(self, graph: FakeGraph) -> Iterator[GraphStore]:
        with GraphStore(graph.calendar_url()) as store:
            yield store
