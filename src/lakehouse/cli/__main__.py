"""``python -m lakehouse.cli``: the ``lakehouse`` command without its installed script."""

from lakehouse.cli import main

main()
