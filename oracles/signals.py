from django.dispatch import Signal

# Sent after commit with round_id; lending's scanner listens (oracles never import lending).
round_published = Signal()
