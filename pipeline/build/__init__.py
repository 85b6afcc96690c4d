"""A dataset on a Dask cluster: one task per shard, render workers, clusters (local, SLURM,
Kubernetes), shard records and provenance."""
