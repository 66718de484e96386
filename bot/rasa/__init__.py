"""Where bot/ meets Rasa: one module per Rasa extension point.

* ``nlu_safety``    the NLU component that runs the safety screen (config.yml), last in the pipeline
* ``nlu_questions`` the NLU component that keeps a real question out of small talk (config.yml);
  both are ``rule_component.RuleComponent`` (nothing to train)
* ``tracker_store`` the SQL tracker store that forgets (endpoints.yml)
* ``rest``, ``socketio``, ``telegram``  the channels (credentials.yml), and ``guard``, the checks they
  share (per-channel sender ids, the length cap, the per-sender rate limit, openings)
* ``patches``       fixes to Rasa itself, applied once by ``python -m bot.rasa`` (the Rasa entry point)

The rest of bot/ knows nothing of Rasa.
"""
