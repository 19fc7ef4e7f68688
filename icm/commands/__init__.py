"""Command modules of the `icm` command line: each exposes add_commands(subparsers)."""
