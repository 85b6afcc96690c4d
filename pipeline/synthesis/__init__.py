"""One sample from a recipe and an index: the recipe, its random streams, the face, the scaling
schedule, the three meshes of eq. 1-3, the scene, and the rendered pair with exact flow."""
