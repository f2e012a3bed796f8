"""The Flower engine: the same protocol carried by Flower's simulation engine.

A Flower ``ServerApp`` runs :meth:`FederationServer.run` in a thread of this process,
its ``exchange`` sending each :class:`~.messages.Instruction` to every virtual
SuperNode as a Flower ``Message`` (``ArrayRecord`` of parameters + ``ConfigRecord``);
a Flower ``ClientApp``, executed by Ray actors, decodes it, lets the node's
:class:`~.client.SiteClient` (partition ``i`` is the ``i``-th site) answer, and sends
back only an ``ArrayRecord`` (parameters), a ``MetricRecord`` (count and metrics) and
the site's name. :func:`decode_reply` refuses a reply holding anything else.

Flower and Ray are imported on first use (``pip install "mlops_jlab[federated]"``).
Starting Ray costs ~10 s and ~0.9 GB on a 2-core machine (see benchmarks/FEDERATED.md);
the simulation shuts Ray down when it ends, including a Ray the caller started.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..errors import ConfigurationError
from .client import SiteClient
from .messages import ACTIONS, Instruction, SiteMessage
from .server import FederationError, FederationServer, RoundRecord

#: Flower message type of each protocol step
MESSAGE_TYPES = {"statistics": "query", "train": "train", "evaluate": "evaluate"}
NODE_WAIT_S = 120.0
REPLY_TIMEOUT_S = 900.0
_REPLY_RECORDS = {"params", "metrics", "site"}


def _flwr() -> Any:
    """The flwr package, imported with its telemetry off."""
    os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    try:
        with warnings.catch_warnings():  # flwr's CLI dependencies warn on import
            warnings.simplefilter("ignore", DeprecationWarning)
            import flwr
            import flwr.simulation
    except ImportError as exc:
        raise ConfigurationError(
            'engine="flower" needs Flower with its simulation engine: pip install '
            '"mlops_jlab[federated]" (flwr[simulation]); or use engine="local"') from exc
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        raise ConfigurationError('engine="flower" needs Ray: pip install '
                                 '"mlops_jlab[federated]"; or use engine="local"')
    return flwr


def flower_available() -> bool:
    """Whether Flower's simulation engine (flwr + ray) is installed."""
    import importlib.util

    return (importlib.util.find_spec("flwr") is not None
            and importlib.util.find_spec("ray") is not None)


# ---------------------------------------------------------------------- encoding
def encode_instruction(instruction: Instruction) -> Any:
    """The Flower ``RecordDict`` of an instruction."""
    from flwr.app import ArrayRecord, ConfigRecord, RecordDict

    return RecordDict({
        "params": ArrayRecord(list(instruction.params)),
        "scaler": ArrayRecord(list(instruction.scaler)),
        "config": ConfigRecord({"action": instruction.action, "round": instruction.round,
                                "local_epochs": instruction.local_epochs,
                                "seed": instruction.seed}),
    })


def decode_instruction(content: Any) -> Instruction:
    """The instruction a ``RecordDict`` from the server carries."""
    config = content["config"]
    action = str(config["action"])
    if action not in ACTIONS:
        raise FederationError(f"unknown instruction {action!r}")
    return Instruction(action=action,
                       round=int(config["round"]),
                       params=tuple(content["params"].to_numpy_ndarrays()),
                       scaler=tuple(content["scaler"].to_numpy_ndarrays()),
                       local_epochs=int(config["local_epochs"]), seed=int(config["seed"]))


def encode_reply(message: SiteMessage) -> Any:
    """The Flower ``RecordDict`` a site sends: arrays, count + metrics, its name."""
    from flwr.app import ArrayRecord, ConfigRecord, MetricRecord, RecordDict

    metrics = {k: float(v) for k, v in message.metrics.items()}
    return RecordDict({"params": ArrayRecord(list(message.params)),
                       "metrics": MetricRecord({**metrics, "examples": message.examples}),
                       "site": ConfigRecord({"name": message.site})})


def decode_reply(content: Any) -> SiteMessage:
    """The :class:`SiteMessage` in a site's reply; a reply holding any other record, or
    other kinds of values, is refused."""
    from flwr.app import ArrayRecord, ConfigRecord, MetricRecord

    keys = set(content.keys())
    if keys != _REPLY_RECORDS:
        raise FederationError(f"a site's reply holds records {sorted(keys)}; only "
                              f"{sorted(_REPLY_RECORDS)} may leave a site")
    params, metrics, site = content["params"], content["metrics"], content["site"]
    if not (isinstance(params, ArrayRecord) and isinstance(metrics, MetricRecord)
            and isinstance(site, ConfigRecord)) or set(site.keys()) != {"name"}:
        raise FederationError("a site's reply has records of the wrong kinds")
    values = dict(metrics)
    examples = values.pop("examples", None)
    if not isinstance(examples, int) or any(not isinstance(v, (int, float))
                                            for v in values.values()):
        raise FederationError("a site's metrics must be scalars with an integer count")
    scalars = {k: float(v) for k, v in values.items()
               if isinstance(v, (int, float))}
    return SiteMessage.build(str(site["name"]), params.to_numpy_ndarrays(), examples,
                             scalars)


# ---------------------------------------------------------------------- apps
def _client_app(clients: Mapping[str, SiteClient]) -> Any:
    from flwr.app import Context, Message
    from flwr.clientapp import ClientApp

    ordered = list(clients.values())
    app = ClientApp()

    def answer(msg: Message, context: Context) -> Message:
        client = ordered[int(context.node_config["partition-id"])]
        reply = client.handle(decode_instruction(msg.content))
        return Message(encode_reply(reply), reply_to=msg)

    app.train()(answer)
    app.evaluate()(answer)
    app.query()(answer)
    return app


def _server_app(server: FederationServer, outcome: dict[str, Any]) -> Any:
    from flwr.app import Message
    from flwr.serverapp import Grid, ServerApp

    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Any) -> None:
        nodes = _wait_for_nodes(grid, len(server.sites))

        def exchange(instruction: Instruction) -> dict[str, SiteMessage]:
            content = encode_instruction(instruction)
            messages = [Message(content, dst_node_id=node,
                                message_type=MESSAGE_TYPES[instruction.action],
                                group_id=str(instruction.round)) for node in nodes]
            replies: dict[str, SiteMessage] = {}
            for reply in grid.send_and_receive(messages, timeout=REPLY_TIMEOUT_S):
                if reply.has_error():
                    raise FederationError(f"a site failed in round {instruction.round} "
                                          f"({instruction.action}): {reply.error.reason}")
                message = decode_reply(reply.content)
                replies[message.site] = message
            # the first answers come once Ray and its site actors are up
            outcome.setdefault("startup_s", time.perf_counter() - outcome["started"])
            return replies

        outcome["history"] = server.run(exchange)

    return app


def _wait_for_nodes(grid: Any, count: int) -> list[int]:
    deadline = time.monotonic() + NODE_WAIT_S
    while len(nodes := sorted(grid.get_node_ids())) < count:
        if time.monotonic() > deadline:
            raise FederationError(f"only {len(nodes)} of {count} Flower nodes came up")
        time.sleep(0.05)
    return nodes


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Flower's deprecation notice and Ray's tips off; PYTHONPATH (which Flower's Ray
    backend rewrites) restored afterwards."""
    logger = logging.getLogger("flwr")
    level = logger.level
    saved = os.environ.get("PYTHONPATH")
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        logger.setLevel(level)
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def run_flower(server: FederationServer, clients: Mapping[str, SiteClient]
               ) -> tuple[list[RoundRecord], dict[str, float]]:
    """Run the protocol on Flower's simulation engine (Ray backend, one CPU per site
    actor). Returns the round records and timings (``startup_s``: until the first
    answers, Ray and the site actors started; ``total_s``)."""
    _flwr()
    from flwr.simulation import run_simulation

    outcome: dict[str, Any] = {"started": time.perf_counter()}
    cpus = max(1, min(len(clients), os.cpu_count() or 1))
    config = {"client_resources": {"num_cpus": 1, "num_gpus": 0.0},
              "init_args": {"num_cpus": cpus, "include_dashboard": False,
                            "logging_level": "ERROR", "log_to_driver": False}}
    with _quiet():
        run_simulation(server_app=_server_app(server, outcome),
                       client_app=_client_app(clients), num_supernodes=len(clients),
                       backend_config=config)  # type: ignore[arg-type]
    if "history" not in outcome:
        raise FederationError("the Flower simulation ended before the federation finished")
    timings = {"startup_s": float(outcome.get("startup_s", np.nan)),
               "total_s": time.perf_counter() - outcome["started"]}
    return outcome["history"], timings
