"""The factory: the `meflow` command line and everything that makes a dataset.

- `cli`: the command line, one module per command group;
- `synthesis`: one sample from a recipe and an index (faces, schedule, meshes, scene, render);
- `build`: a dataset on a Dask cluster (shard tasks, clusters, provenance);
- `export`: a dataset as files (flo, mellm) and its statistics;
- `pictures`: pictures of head models, contact sheets, the architecture;
- `fitting`: photos -> FLAME parameters, camera and UV texture;
- `resources`: the shipped recipes and cluster settings.
"""
