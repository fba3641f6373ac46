"""Closed-market haircut models (no Django)."""
