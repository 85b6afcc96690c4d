"""`python -m pipeline.cli ...` is `meflow ...`."""
from . import main

main()
