"""`rasa shell` with Ctrl-D at the prompt ending the session (channels/rasa_patches.py, patch 4),
in the language COPS_SHELL_LANGUAGE names (patch 5; unset: English).

python -m channels.rasa_shell shell --model models/cops.tar.gz ...    (make shell runs it)
"""

import os
import sys

from rasa.__main__ import main

from channels import rasa_patches

SHELL_LANGUAGE_ENV = "COPS_SHELL_LANGUAGE"

if __name__ == "__main__":
    rasa_patches.console_eof_is_stop()
    if os.environ.get(SHELL_LANGUAGE_ENV, "en") != "en":
        rasa_patches.console_opens_in(os.environ[SHELL_LANGUAGE_ENV])
    sys.exit(main())
