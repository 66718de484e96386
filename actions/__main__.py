"""The action server: ``python -m actions [--port 5055]`` (rasa-sdk's own server, as `rasa run actions`).

It never needs TensorFlow or JAX, but spaCy's backend (thinc) imports them when they are installed,
which costs ~500 MB per action server (make bench); marking them absent keeps it to ~130 MB.
"""
import sys

for _module in ("tensorflow", "jax"):
    sys.modules.setdefault(_module, None)  # type: ignore[assignment]

from rasa_sdk.__main__ import main  # noqa: E402

if __name__ == "__main__":
    main()
