"""Pure protocol math (Aave v3.3), free of Django so it is easy to test and reuse."""
