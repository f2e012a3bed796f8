"""Fuzz the REST API with schemathesis and write the figures to benchmarks/security.md.

    python benchmarks/security_fuzz.py [examples per operation and strategy, default 10]

Same pass as ``tests/test_fuzz.py`` (a Jupyter server subprocess with a token and its own
store, seeded; every operation of the OpenAPI document), with the figures recorded.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.team_server import TeamServer  # noqa: E402
from tests.test_fuzz import fuzz, seed, write_figures  # noqa: E402


def main() -> int:
    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory() as tmp:
        server = TeamServer(Path(tmp))
        try:
            server.wait_ready()
            seeded = seed(server)
            started = time.perf_counter()
            report = fuzz(server, examples, seeded={"run_id": seeded["run_id"]})
            seconds = time.perf_counter() - started
        finally:
            server.stop()
    print(report.summary(), f"({seconds:.0f} s)")
    for line in report.server_errors + report.bad_error_bodies:
        print("  ", line)
    for label, message in report.schema_mismatches.items():
        print("   schema:", label, message.splitlines()[0] if message else "")
    write_figures(report, examples, ROOT / "benchmarks" / "security.md")
    return 1 if report.server_errors or report.bad_error_bodies else 0


if __name__ == "__main__":
    sys.exit(main())
