"""Fixes to Rasa Open Source itself, applied once at start-up by ``python -m bot.rasa``.

Each patch names the Rasa bug or limit it works around and the version it was written for;
``apply_patches`` refuses to patch another Rasa version silently (it logs and skips instead).
"""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Dict, Text

log = logging.getLogger(__name__)

PATCHED_RASA_VERSION = "3.6.21"


@lru_cache(maxsize=1)
def _action_response_validator() -> Any:
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    """Rasa 3.6.21 calls ``jsonschema.validate`` per action response, re-checking the schema against
    its meta-schema every time (half the server's time per turn in ``make bench``): build it once."""
    from jsonschema import ValidationError

    try:
        _action_response_validator().validate(result)
        return True
    except ValidationError as error:
        error.message += ". Failed to validate Action server response from API."
        raise error


def patch_action_response_validation() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result


def _load_with_an_eager_build(
    cls: Any,
    model_file_name: Text,
    model_data_example: Any,
    predict_data_example: Any = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Rasa 3.6.21's ``RasaModel.load`` builds the weights by one *traced* training step (Keras traces
    the whole training graph: most of a server's start-up); one eager step builds the same weights."""
    import tensorflow as tf
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
    from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator

    config = kwargs.get("config", {})
    model = cls(*args, **kwargs)
    model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)), run_eagerly=True)
    model.fit(RasaBatchDataGenerator(model_data_example, batch_size=1), verbose=False)
    # Back to the configured mode before the weights: predictions run as the trained model's did.
    model.run_eagerly = config.get(RUN_EAGERLY)
    model.load_weights(model_file_name)
    if not finetune_mode and predict_data_example:
        model.run_inference(predict_data_example)
    return model


def patch_model_load() -> None:
    from rasa.utils.tensorflow.models import RasaModel

    original = RasaModel.load

    def load(cls: Any, model_file_name: Text, model_data_example: Any, predict_data_example: Any = None,
             finetune_mode: bool = False, *args: Any, **kwargs: Any) -> Any:
        # Fine-tuning continues training: keep Rasa's own traced build for it.
        build = original.__func__ if finetune_mode else _load_with_an_eager_build
        return build(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                     *args, **kwargs)

    RasaModel.load = classmethod(load)


def patch_failed_action_reply() -> None:
    """Rasa 3.6.21 sends nothing when a custom action fails (action server or its database away): say so."""
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel

    from bot import texts

    original = RemoteAction.run
    if getattr(original, "says_it_failed", False):
        return

    async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> Any:
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except Exception:  # Rasa logs it and goes on without the action's events, as before
            said = isinstance(output_channel, CollectingOutputChannel) and any(
                m.get("text") == texts.ACTION_FAILED for m in output_channel.messages)
            if not said:
                await output_channel.send_text_message(tracker.sender_id, texts.ACTION_FAILED)
            raise

    run.says_it_failed = True  # type: ignore[attr-defined]
    RemoteAction.run = run


_PATCHES = (patch_action_response_validation, patch_model_load, patch_failed_action_reply)
_applied = False


def apply_patches() -> None:
    """Apply every patch once (idempotent)."""
    global _applied
    if _applied:
        return
    import rasa

    if rasa.__version__ != PATCHED_RASA_VERSION:
        log.warning("Rasa %s is not %s: its patches are not applied", rasa.__version__, PATCHED_RASA_VERSION)
        return
    for patch in _PATCHES:
        patch()
    _applied = True
