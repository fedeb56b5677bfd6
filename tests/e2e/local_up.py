"""`glean local up` as the end-to-end tests run it: the real command (`glean.cli.main` with the given arguments, in
its own process), with the offline dataset request adopted by the policies of the first ADOPTERS validators only.

The command lets every validator adopt the request (`LocalOptions.request_adopters` is None); the request tests also
need a validator whose policy lists nobody, and only `LocalOptions` has that knob, not the command line.

Usage: python -m tests.e2e.local_up ADOPTERS [arguments of `glean`...]
"""

from __future__ import annotations

import functools
import sys


def main(argv: list[str]) -> int:
    from glean import local_cmd
    from glean.cli import main as glean

    local_cmd.LocalOptions = functools.partial(local_cmd.LocalOptions, request_adopters=int(argv[0]))
    return glean(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
