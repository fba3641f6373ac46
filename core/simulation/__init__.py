"""Simulation engines: backtests on real bars (no Django)."""
