"""MEFlowNet and its baselines on MEFlow shards: torch datasets and shard-aware samplers, models,
losses, the trainer, evaluation and inference. Installs with the train group alone: no Blender,
no Dask, no factory code."""
