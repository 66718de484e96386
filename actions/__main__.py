"""The action server: ``python -m actions [--port 5055]`` (rasa-sdk's own server, as `rasa run actions`).

It never needs TensorFlow or JAX, but spaCy's backend (thinc) imports them when they are installed,
which costs ~500 MB per action server (make bench); marking them absent keeps it to ~130 MB.
"""
import logging
import sys
from typing import Any, Callable

for _module in ("tensorflow", "jax"):
    sys.modules.setdefault(_module, None)  # type: ignore[arg-type]

from rasa_sdk.__main__ import main  # noqa: E402


def without_patient_text(create_app: Callable[..., Any]) -> Callable[..., Any]:
    """rasa-sdk 3.6 answers an action that raised with the whole request (the conversation) and logs
    the exception with it; Rasa then logs that answer. This app answers and logs the error's type only."""
    from sanic import response
    from sanic.exceptions import SanicException

    def create(*args: Any, **kwargs: Any) -> Any:
        app = create_app(*args, **kwargs)

        @app.listener("before_server_start")
        async def warm_up(_app: Any, _loop: Any) -> None:
            warm_up_composer()

        @app.exception(Exception)
        async def failed(_request: Any, error: Exception) -> Any:
            if isinstance(error, SanicException):  # 400, 404, 413 ...: the client's mistake
                return response.json({"error": type(error).__name__}, status=error.status_code)
            logging.getLogger("actions").error("an action failed: %s", type(error).__name__)
            return response.json({"error": "the action failed"}, status=500)

        return app

    return create


def warm_up_composer() -> None:
    """Build the medical lexicon, the store's caches and spaCy before listening (a few seconds, while
    Rasa loads its model), so the first patient does not wait for them. A store that is not built yet
    is reported when a question comes, as before."""
    try:
        from bot.answers import Question, default_composer
        from bot.topics import Topic

        default_composer().respond(Question("what causes hip pain? and what is lupus?", Topic.CONDITIONS_FOR_PAIN))
    except Exception as error:  # noqa: BLE001 - never stop the server over a warm-up
        logging.getLogger("actions").warning("warm-up skipped: %s", type(error).__name__)


if __name__ == "__main__":
    import rasa_sdk.endpoint

    rasa_sdk.endpoint.create_app = without_patient_text(rasa_sdk.endpoint.create_app)
    main()
