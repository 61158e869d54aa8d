"""taskdroid: a language server and CLI for task markdown and droid definition files."""

__version__ = "0.1.0"
