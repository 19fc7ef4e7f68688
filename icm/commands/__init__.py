"""Command modules of `icm`: each exposes `add_commands(subparsers)` and is listed in icm/cli.py."""
