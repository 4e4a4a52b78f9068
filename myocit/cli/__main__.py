"""``python -m myocit.cli``, as the service's own processes and the tests start it."""

from myocit.cli import main

main()
