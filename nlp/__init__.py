"""NLP stage: clean, link, score and break down mentions by touchpoint.

Reads pending ``Mention`` rows and writes ``MentionAnalysis`` / ``MentionTouchpoint``
rows (see :mod:`nlp.pipeline`). Everything else in the package is pure logic:

- :mod:`nlp.text` — clean-up of reviews and posts
- :mod:`nlp.segment` — jieba with the catalog's names kept whole
- :mod:`nlp.linking` — mention → brand / store / product with a confidence
- :mod:`nlp.models` — the ``SentimentModel`` protocol, its registry, the shipped models
- :mod:`nlp.scoring` — sentiment + touchpoints + urgent terms for a batch of texts
- :mod:`nlp.touchpoints`, :mod:`nlp.urgent`, :mod:`nlp.keywords`, :mod:`nlp.aggregates`
- :mod:`nlp.batch`, :mod:`nlp.metrics` — streaming CSV scoring and evaluation (``tingfeng nlp``)
- :mod:`nlp.train` — rebuilds the shipped model from ``../shared/data/sentiment`` (dev only)

Imports ``storage`` only, never the other stages.
"""
