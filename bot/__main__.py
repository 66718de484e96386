import sys

# The command line never needs TensorFlow or JAX, but spaCy's backend (thinc) imports them when they
# are installed (~2.5 s and ~500 MB); marking them absent keeps `make store` fast (as actions/__main__.py).
for _module in ("tensorflow", "jax"):
    sys.modules.setdefault(_module, None)  # type: ignore[arg-type]

from bot.cli import main  # noqa: E402

sys.exit(main())
