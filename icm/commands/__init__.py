"""The subcommands of `icm`, one module per topic, each exposing `add_commands(subparsers)`."""
