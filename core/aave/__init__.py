"""Aave math for every engine, in integers: WadRayMath/PercentageMath and v3.3 logic (no Django)."""
