"""Errors raised by the nlp package.

::

    NlpError
    ├── ModelError
    │   ├── UnknownModel        no model registered under that name
    │   └── ModelArtifactError  the shipped artifact is missing or corrupt
    ├── InputError
    │   └── MissingColumns      a CSV lacks a required column (id, text[, label])
    ├── UnknownScope            keywords / aggregates asked for a scope type we do not know
    ├── AdaptError              nlp adapt cannot fit a chain model (too few rated mentions …)
    └── VocabularyError         a lexicon file (urgent terms, touchpoints, stop words) is unreadable
"""


class NlpError(Exception):
    """Base of every nlp error."""


class ModelError(NlpError):
    """A sentiment model cannot be provided."""


class UnknownModel(ModelError, KeyError):
    """No model is registered under the requested name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class ModelArtifactError(ModelError):
    """The model's shipped artifact is missing, unreadable or inconsistent."""


class InputError(NlpError):
    """Input data (a CSV file) cannot be used as given."""


class MissingColumns(InputError):
    """A CSV file lacks a required column."""


class UnknownScope(NlpError, ValueError):
    """A scope type the nlp helpers do not know how to select."""


class AdaptError(NlpError):
    """``nlp adapt`` cannot fit a chain model (too few rated mentions, missing base data)."""


class VocabularyError(NlpError):
    """A lexicon data file (urgent terms, touchpoint lexicon, stop words) cannot be read."""
