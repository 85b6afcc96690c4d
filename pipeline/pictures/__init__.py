"""Pictures people look at: head models, contact sheets, the package architecture."""
