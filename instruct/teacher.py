"""A teacher LLM behind any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp
server, Ollama, LM Studio...): it writes the answer to an instruction given the ground truth, and
the answer enters the data only if it agrees with that ground truth (`answers.answer_problems`);
otherwise it is asked again, and after `attempts` tries the record is rejected with the reasons.

Standard library only (urllib): no SDK to install. The key comes from an environment variable,
never from the command line, and is sent as a Bearer token when set.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass

from .answers import Labels, answer_problems, au_list_text
from .labels import DISPLAY, category_of

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_ATTEMPTS = 3
TEMPERATURE = 0.2

SYSTEM = ("You are a FACS-certified expert on facial micro-expressions. You write concise, factual analyses "
          "that follow the requested three steps exactly.")
GROUND_TRUTH = """Ground truth for this sample (your answer must agree with it): action units {aus}; \
micro-expression category {category}. Answer the instruction in its three steps, explain the regions' movement \
with these action units, and end with a line "3. Summary: AUs: ... Micro-expression: {category}." """


class TeacherError(RuntimeError):
    """The endpoint failed or answered something that is not a chat completion."""


@dataclass(frozen=True)
class Teacher:
    url: str  # the API base, e.g. http://localhost:8000/v1 (".../chat/completions" is appended)
    model: str
    key_env: str = DEFAULT_KEY_ENV
    timeout_s: float = DEFAULT_TIMEOUT_S
    attempts: int = DEFAULT_ATTEMPTS

    @property
    def endpoint(self) -> str:
        base = self.url.rstrip("/")
        return base if base.endswith("/chat/completions") else base + "/chat/completions"

    def complete(self, messages: list[dict]) -> str:
        """One chat completion -> the assistant's text. TeacherError with the reason otherwise."""
        body = json.dumps({"model": self.model, "messages": messages, "temperature": TEMPERATURE}).encode()
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.key_env, "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(self.endpoint, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            raise TeacherError(f"{self.endpoint} answered HTTP {err.code}: {err.read()[:200]!r}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise TeacherError(f"{self.endpoint} did not answer within {self.timeout_s:g} s or refused: {reason}") from None
        try:
            content = json.loads(raw)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise TeacherError(f"{self.endpoint} answered something that is not a chat completion: {raw[:200]!r}") from None
        if not isinstance(content, str):
            raise TeacherError(f"{self.endpoint} answered a message without text content")
        return content

    def answer(self, user_text: str, labels: Labels, label_set: str) -> tuple[str | None, list[str]]:
        """(accepted answer, []) or (None, the reasons of every rejected try)."""
        category = DISPLAY[category_of(labels.emotion, label_set)]
        messages = [{"role": "system", "content": SYSTEM},
                    {"role": "user", "content": user_text + "\n\n" + GROUND_TRUTH.format(
                        aus=au_list_text(labels.action_units), category=category)}]
        reasons = []
        for attempt in range(1, self.attempts + 1):
            try:
                text = self.complete(messages)
            except TeacherError as err:
                reasons.append(f"try {attempt}: {err}")
                continue
            problems = answer_problems(text, labels, label_set)
            if not problems:
                return text, []
            reasons.append(f"try {attempt}: " + "; ".join(problems))
        return None, reasons
