"""Flow networks: MEFlowNet (a WAFT-style warping estimator with a facial and a head decoder) and
torchvision's RAFT-small as the deep baseline, both built from a ModelConfig by `build_model`."""
