"""Rasa's command line with this project's patches applied first: ``python -m bot.rasa run ...``.

Every script and test starts Rasa this way (never ``.venv/bin/rasa``), so the patches in
:mod:`bot.rasa.patches` hold for every server, shell and test run. At the default log level the
libraries' deprecation warnings are not shown (a patient testing ``make shell`` should see the
prompt, not twenty lines of Python warnings); ``--debug`` or ``-v`` shows them again.
"""
from __future__ import annotations

import sys
import warnings

_VERBOSE_FLAGS = {"-v", "--verbose", "-vv", "--debug"}
_QUIET_CATEGORIES = (DeprecationWarning, PendingDeprecationWarning, FutureWarning, UserWarning)


def quiet_library_warnings(argv: list) -> None:
    if _VERBOSE_FLAGS.intersection(argv):
        return
    for category in _QUIET_CATEGORIES:
        warnings.filterwarnings("ignore", category=category)


def main() -> None:
    quiet_library_warnings(sys.argv[1:])
    from bot.rasa.patches import apply_patches

    apply_patches()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
