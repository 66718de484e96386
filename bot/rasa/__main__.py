"""Rasa's command line with this project's patches applied first: ``python -m bot.rasa run ...``.

Every script and test starts Rasa this way (never ``.venv/bin/rasa``), so the patches in
:mod:`bot.rasa.patches` hold for every server, shell and test run.
"""
from __future__ import annotations


def main() -> None:
    from bot.rasa.patches import apply_patches

    apply_patches()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
