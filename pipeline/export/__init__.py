"""A dataset as files (Middlebury .flo per sample, MELLM's layout) and its statistics plots."""
