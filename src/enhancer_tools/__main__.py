"""``python -m enhancer_tools --version``: print the package version."""

import sys

from enhancer_tools import __version__


def main(argv: list[str] | None = None) -> int:
    """Print the version (the only thing the package entry point does) or list the tools."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("--version", "-V"):
        print(f"enhancer-tools {__version__}")
        return 0
    print(f"enhancer-tools {__version__}: run one of the console scripts (see README.md), "
          "or 'python -m enhancer_tools --version'.")
    return 0 if not argv else 2


if __name__ == "__main__":
    sys.exit(main())
