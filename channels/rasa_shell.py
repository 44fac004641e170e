"""`rasa shell` with Ctrl-D at the prompt ending the session (channels/rasa_patches.py, patch 4).

python -m channels.rasa_shell shell --model models/cops.tar.gz ...    (make shell runs it)
"""

import sys

from rasa.__main__ import main

from channels import rasa_patches

if __name__ == "__main__":
    rasa_patches.console_eof_is_stop()
    sys.exit(main())
