"""Run the taskdroid copy bundled in a platform build of the VS Code extension.

``scripts/bundle-server.py`` installs taskdroid and its dependencies (for this platform and each
supported CPython version) into ``bundled/libs`` when the ``.vsix`` is packaged. The extension
starts this file as ``<python> -P taskdroid_bundled.py lsp`` from its own folder: ``-P`` keeps the
current directory and this script's folder off ``sys.path``, and only ``bundled/libs`` is put in
front — nothing in a workspace can shadow the bundled packages, and no ``PYTHONPATH`` leaks into the
programs the server starts (droid runs).

``--check-bundle`` (the extension's probe) imports everything the server needs, compiled modules
included, and prints the version; it fails with one line saying why on another Python.
"""

import os
import sys

LIBS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "libs")


def main() -> int:
    version = "%d.%d" % sys.version_info[:2]
    if sys.version_info < (3, 11):
        print(f"taskdroid needs Python 3.11 or newer, this is {version}", file=sys.stderr)
        return 1
    if not os.path.isdir(os.path.join(LIBS, "taskdroid")):
        print(f"this build of the extension carries no server ({LIBS} is missing)", file=sys.stderr)
        return 1
    sys.path.insert(0, LIBS)
    if sys.argv[1:] == ["--check-bundle"]:
        try:
            import pydantic_core._pydantic_core  # noqa: F401  (compiled: one build per Python)
            import taskdroid
            import taskdroid.cli  # noqa: F401
            import taskdroid.lsp.server  # noqa: F401
        except ImportError as e:
            print(
                f"the bundled server does not run on Python {version} ({sys.platform}): {e}",
                file=sys.stderr,
            )
            return 1
        print(taskdroid.__version__)
        return 0
    from taskdroid.cli import main as cli_main

    sys.argv[0] = "taskdroid"
    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
