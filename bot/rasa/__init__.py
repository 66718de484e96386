"""Where bot/ meets Rasa: one module per Rasa extension point.

* ``nlu_safety``    the NLU component that runs the safety screen (config.yml)
* ``tracker_store`` the SQL tracker store that forgets (endpoints.yml)
* ``rest``, ``socketio``, ``telegram``  the channels (credentials.yml)
* ``patches``       fixes to Rasa itself, applied once by ``python -m bot.rasa`` (the Rasa entry point)

The rest of bot/ knows nothing of Rasa.
"""
