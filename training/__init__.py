"""Training on MEFlow shards: torch datasets, identity splits and shard-aware samplers (MEFlowNet
to come). Installs with the train group alone: no Blender, no Dask, no factory code."""
