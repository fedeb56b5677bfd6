"""`python -m glean.sampleweb --port N --data-dir D`: serve the sample web until interrupted.

On start it writes `<data-dir>/sampleweb.json` ({"base_url", "port", "pid", "articles"}) so a parent
process that asked for port 0 learns the real port, and, with `--domains-dir`, the demo domain specs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from glean.sampleweb.clock import WallClock
from glean.sampleweb.domains import write_domain_specs
from glean.sampleweb.server import SampleWeb
from schemas.errors import GleanError

INFO_FILE = "sampleweb.json"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m glean.sampleweb", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    parser.add_argument("--data-dir", type=Path, required=True,
                        help="folder for sampleweb.json and state.json (edits, faults, the publication anchor)")
    parser.add_argument("--domains-dir", type=Path, default=None,
                        help="also write the demo domain specs (YAML) for this server into this folder")
    parser.add_argument("--schedule-interval", type=float, default=0.0,
                        help="publish, change or remove a page every this many seconds of the clock (0: off)")
    parser.add_argument("--schedule-seed", type=int, default=0, help="seed of the schedule (the same seed, the "
                        "same events)")
    parser.add_argument("--clock-rate", type=float, default=1.0,
                        help="the clock runs this many times faster than real time (default 1)")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        web = SampleWeb(host=args.host, port=args.port, data_dir=args.data_dir, clock=WallClock(args.clock_rate))
        if args.schedule_interval > 0:
            web.start_schedule(interval=args.schedule_interval, seed=args.schedule_seed)
        if args.domains_dir is not None:
            write_domain_specs(web.base_url, args.domains_dir)
    except (GleanError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    info = {"base_url": web.base_url, "port": web.port, "pid": os.getpid(), "articles": len(web.articles())}
    args.data_dir.mkdir(parents=True, exist_ok=True)
    tmp = args.data_dir / (INFO_FILE + ".tmp")  # a reader polling for the file never sees half of it
    tmp.write_text(json.dumps(info, indent=1), encoding="utf-8")
    tmp.replace(args.data_dir / INFO_FILE)

    def stop(*_: object) -> None:  # shutdown() waits for serve_forever, so call it from another thread
        threading.Thread(target=web.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"sample web serving {info['articles']} articles at {web.base_url}", flush=True)
    web.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
