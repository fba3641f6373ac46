from django.dispatch import Signal

# Sent after commit with round_id, the latest round of one write (a tick publishes many rounds, one signal);
# lending's scanner listens (oracles never import lending).
round_published = Signal()
