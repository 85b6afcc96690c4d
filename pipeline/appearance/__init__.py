"""Human appearance from code: skin, brows, lashes, lips, stubble, make-up and hair painted in the
head model's UV space (so they move exactly with the surface), plus the hair cap's thickness.

- `profile`: the recipe's distributions ([render.appearance]), validated;
- `identity`: one identity's draws (a frozen, JSON-able record), sampled from a seeded stream;
- `layout`: where every texel sits on the neutral template, and the facial anchors there;
- `noise`: band-limited value noise over template space;
- `paint`: identity + layout -> albedo, height and roughness maps; `library`: UV texture folders.
"""
