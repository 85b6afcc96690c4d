"""Training on MEFlow shards (the loader now; MEFlowNet to come)."""
