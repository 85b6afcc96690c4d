"""Evaluating flow methods on MEFlow test data: classical baselines, the EPE figures of the paper
(facial, head, expression; whole face and facial regions), and a contact sheet of predictions."""
