"""MEU-Instruct: motion prompts from facial flow in MELLM's 29 regions, and instruction data for
micro-expression LLMs built from them (MELLM section 3.4).

numpy and the standard library (matplotlib for pictures). Depends on `facial` (regions, action
units, directions), `shards` (reading datasets, the flow-method contract) and nothing of the
trainer or the factory: a flow method comes in as any object with `predict(onset, apex)`.
- `motion`: per-region motion statistics (pure);
- `prompt`: the motion prompt as JSON or MELLM's line format, and the three-step instruction;
- `labels`: emotion vocabularies (3- and 7-class) and reading a category out of free text;
- `answers`: the rule-based FACS writer and the checks a teacher's answer must pass;
- `teacher`: an OpenAI-compatible chat-completions client;
- `sources`: samples from shards and from a CSV of real clips;
- `builder`: chat-messages JSONL, images and a dataset card, resumable;
- `scoring`: ACC, UF1, UAR and the confusion matrix;
- `pictures`: the regions picture, the AU report and the confusion-matrix PNG.
"""
