"""NLP stage: clean, link, score and break down mentions by touchpoint.

Reads pending ``Mention`` rows and writes ``MentionAnalysis`` / ``MentionTouchpoint``
rows (see :mod:`nlp.pipeline`). Everything else in the package is pure logic:

- :mod:`nlp.text` — clean-up of reviews and posts
- :mod:`nlp.segment` — jieba with the catalog's names kept whole
- :mod:`nlp.linking` — mention → brand / store / product with a confidence
- :mod:`nlp.models` — the ``SentimentModel`` protocol and its registry
- :mod:`nlp.touchpoints`, :mod:`nlp.urgent`, :mod:`nlp.keywords`, :mod:`nlp.aggregates`
- :mod:`nlp.batch` — streaming CSV scoring and evaluation (the ``tingfeng nlp`` CLI)

Imports ``storage`` only, never the other stages.
"""
