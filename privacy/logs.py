"""Masks personal data in every log record of the process, whatever logs it and at any level.

Rasa logs what a visitor types at debug level ("Received user message '...'"), the action server
logs the trackers it gets, and Python's own exceptions may quote a message. A filter on a handler
would miss the handlers Rasa adds after reading a logging configuration (it installs coloredlogs'
handler on the root logger when it starts), so the record itself is masked when it is made:
`install()` wraps logging's record factory. The cost falls only on records a logger emits.

The Rasa server installs it by importing privacy.tracker_store (endpoints.yml names its store);
the action server by importing actions.
"""

import logging
import re
import traceback

from privacy.pii import mask

_installed = False
# Rasa logs its events as JSON, where "nací" is written "nac\u00ed": the masking reads letters.
# (Surrogates stay escaped: alone, they cannot be written to a log.)
_UNICODE_ESCAPE = re.compile(r"\\u(?!d[89a-f])([0-9a-f]{4})", re.IGNORECASE)


def _unescaped(message: str) -> str:
    return _UNICODE_ESCAPE.sub(lambda escape: chr(int(escape.group(1), 16)), message)


def install() -> None:
    """Masks every log record made from now on in this process (once, however often called)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.msg = mask(_unescaped(record.getMessage()))
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = mask("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record

    logging.setLogRecordFactory(masked_record)
    _installed = True
