"""The in-process engine: the server and every site in this Python process, one after
the other, with no Ray and no network. It runs exactly the client and strategy code the
Flower engine runs; only the carrier differs. It is the fallback where Flower's
simulation engine cannot start, and what the fast tests use."""

from __future__ import annotations

from collections.abc import Mapping

from .client import SiteClient
from .messages import Instruction, SiteMessage
from .server import FederationServer, RoundRecord


def run_local(server: FederationServer, clients: Mapping[str, SiteClient]
              ) -> list[RoundRecord]:
    """Run the whole protocol, each instruction answered by each site in turn."""

    def exchange(instruction: Instruction) -> dict[str, SiteMessage]:
        return {name: client.handle(instruction) for name, client in clients.items()}

    return server.run(exchange)
