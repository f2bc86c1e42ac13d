"""Understanding text: tokenise, topic category, rumour probability, events, bursts, heat.

Pure: text and numbers in, labels and scores out; no database, no network.
The public surface:

- :class:`classifiers.tokenizer.Tokenizer` — ``Tokenizer.from_playbook(pb).tokenize(text)``
- :class:`classifiers.api.Classifier` — ``Classifier.load(pb).classify(record)`` →
  :class:`classifiers.api.Classification` (category, category_scores, rumour_probability,
  rumour_verdict, why)
- :class:`classifiers.events.EventClusterer` — ``add(text, when, hint_event=None)`` →
  :class:`classifiers.events.Placement`; ``get`` / ``restore`` / ``rename`` / ``forget_before`` of a
  :class:`classifiers.events.Cluster`; ``export_state()`` / ``from_state()``
- :func:`classifiers.burst.detect_burst` — ``detect_burst(times, now, BurstPolicy())``
- :func:`classifiers.heat.heat_score` — ``heat_score(HeatInputs(...), now, pb)``
- :class:`classifiers.tally.EventTally` — an event's running summary: ``add(Member(...))``,
  ``score(category, now)``, ``burst_signal(now)``, ``settle(now)``, ``to_data()`` / ``from_data()``

Errors: :mod:`classifiers.errors` (``ClassifierError`` and subclasses).
"""
