"""The pure core: Aave math for every engine, money parsing, the market clock, haircut models and simulations.

Nothing here imports Django (tests/test_layering.py checks it), so it is easy to test, reuse and run anywhere."""
