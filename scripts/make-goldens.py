#!/usr/bin/env python3
"""Reference greedy decodes of the tiny fixtures with Hugging Face transformers.

    python3 scripts/make-goldens.py [--fixtures DIR] [--out DIR] [--only a,b] [--steps 32]

For every fixture of scripts/make-fixtures.mjs (except the sharded one, which
shares llama-f32's golden and is only checked to give identical logits) this
loads the checkpoint with transformers in float32 (bf16 weights are upcast),
checks that every tensor was loaded as-is, and greedy-decodes `steps` tokens
from four deterministic prompts (1, 7, 40 and 300 tokens) with a KV cache:
one forward over the prompt, then one token at a time (no stop at EOS).
Each step records the argmax token and the top-5 (id, logprob) of a float64
log_softmax of the float32 logits. Writes test/goldens/models/<fixture>.json.

Needs torch, transformers, safetensors, tokenizers, numpy; runs on CPU.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch
import transformers
from safetensors.torch import load_file
from tokenizers import Tokenizer
from transformers import AutoConfig, AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPT_LENGTHS = (1, 7, 40, 300)
# numpy PCG64 seed is PROMPT_SEED + prompt length. 2 was picked among a few
# seeds as the one with the largest smallest top1-top2 logit gap over all goldens.
PROMPT_SEED = 2
TOP_K = 5
GAP_WARN = 1e-4


def sig7(x):
    return float(f"{x:.7g}")


def node_fixture_list():
    """FIXTURES from scripts/make-fixtures.mjs (single source of truth)."""
    code = (
        "import('./scripts/make-fixtures.mjs').then(m => console.log(JSON.stringify("
        "m.FIXTURES.map(f => ({name: f.name, family: f.family, goldenOf: f.goldenOf, dtype: f.torchDtype})))))"
    )
    out = subprocess.run(["node", "--input-type=module", "-e", code], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def ensure_fixtures(fixtures_dir):
    subprocess.run(["node", "scripts/make-fixtures.mjs", "--quiet", "--out", fixtures_dir], cwd=ROOT, check=True)


# ---------------------------------------------------------------------------
# Prompts


def tokenizer_info(model_dir):
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    with open(os.path.join(model_dir, "tokenizer.json"), encoding="utf-8") as fh:
        tj = json.load(fh)
    added = sorted(a["id"] for a in tj["added_tokens"])
    model_vocab = tj["model"]["vocab"]
    n_model = len(model_vocab) if isinstance(model_vocab, (dict, list)) else None
    added_set = set(added)
    # Ordinary tokens: the model vocabulary minus added/special tokens. (For the
    # Llama-2 tokenizer the specials are ids 0..2, so "ids below the first
    # added token" would be empty; this rule covers every tokenizer.)
    ordinary = np.array([i for i in range(n_model) if i not in added_set], dtype=np.int64)
    enc = tok.encode("hello", add_special_tokens=True).ids
    plain = tok.encode("hello", add_special_tokens=False).ids
    bos = None
    if len(enc) == len(plain) + 1 and enc[1:] == plain and enc[0] in added_set:
        bos = enc[0]
    return {"ordinary": ordinary, "bos": bos, "first_added": added[0] if added else None}


def make_prompts(tinfo):
    prompts = []
    for n in PROMPT_LENGTHS:
        rng = np.random.Generator(np.random.PCG64(PROMPT_SEED + n))
        if tinfo["bos"] is not None:
            body = rng.choice(tinfo["ordinary"], size=n - 1, replace=True)
            ids = [int(tinfo["bos"])] + [int(x) for x in body]
        else:
            ids = [int(x) for x in rng.choice(tinfo["ordinary"], size=n, replace=True)]
        prompts.append(ids)
    return prompts


# ---------------------------------------------------------------------------
# Loading and checks


def load_model(model_dir, config=None):
    kwargs = dict(dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    if config is not None:
        kwargs["config"] = config
    model, info = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
    bad = {k: v for k, v in info.items() if v}
    if bad:
        raise SystemExit(f"{model_dir}: transformers did not load the checkpoint cleanly: {bad}")
    model.eval()
    for p in model.parameters():
        if p.dtype != torch.float32:
            raise SystemExit(f"{model_dir}: parameter in {p.dtype}, expected float32")
    return model


def checkpoint_tensors(model_dir):
    idx = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as fh:
            files = sorted(set(json.load(fh)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    out = {}
    for f in files:
        out.update(load_file(os.path.join(model_dir, f)))
    return out


def verify_weights(model, model_dir):
    """Every checkpoint tensor must equal (after f32 upcast) what HF holds."""
    sd = model.state_dict()
    ck = checkpoint_tensors(model_dir)
    cfg = model.config
    seen = set()

    def same(param_name, value):
        p = sd[param_name]
        if tuple(p.shape) != tuple(value.shape) or not torch.equal(p, value.to(torch.float32)):
            raise SystemExit(f"{model_dir}: {param_name} differs from the checkpoint")
        seen.add(param_name)

    if cfg.model_type == "mixtral":
        E = cfg.num_local_experts
        for i in range(cfg.num_hidden_layers):
            p = f"model.layers.{i}."
            w1 = torch.stack([ck.pop(f"{p}block_sparse_moe.experts.{e}.w1.weight") for e in range(E)])
            w3 = torch.stack([ck.pop(f"{p}block_sparse_moe.experts.{e}.w3.weight") for e in range(E)])
            w2 = torch.stack([ck.pop(f"{p}block_sparse_moe.experts.{e}.w2.weight") for e in range(E)])
            same(f"{p}mlp.experts.gate_up_proj", torch.cat([w1, w3], dim=1))
            same(f"{p}mlp.experts.down_proj", w2)
            same(f"{p}mlp.gate.weight", ck.pop(f"{p}block_sparse_moe.gate.weight"))
    for name, value in ck.items():
        same(name, value)
    if cfg.tie_word_embeddings:
        if "lm_head.weight" in ck:
            raise SystemExit(f"{model_dir}: tied model has lm_head.weight in the checkpoint")
        if model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr():
            raise SystemExit(f"{model_dir}: lm_head is not tied to embed_tokens")
        seen.add("lm_head.weight")
    missing = [k for k in sd if k not in seen]
    if missing:
        raise SystemExit(f"{model_dir}: parameters not in the checkpoint: {missing}")


def plain_inv_freq(theta, dim):
    return 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))


def report_model_semantics(name, model):
    """Print and assert how transformers interpreted the config."""
    cfg = model.config
    rope = dict(cfg.rope_parameters)
    inv = model.model.rotary_emb.inv_freq.clone()
    head_dim = model.model.layers[0].self_attn.head_dim
    scaling = model.model.layers[0].self_attn.scaling
    theta = rope["rope_theta"]
    plain = plain_inv_freq(theta, head_dim)
    facts = {
        "rope_parameters": rope,
        "attention_scaling(rope)": model.model.rotary_emb.attention_scaling,
        "head_dim": head_dim,
        "attn_scale": scaling,
        "sliding_window": getattr(cfg, "sliding_window", None),
        "layer_types": getattr(cfg, "layer_types", None),
    }
    print(f"  [{name}] " + ", ".join(f"{k}={v}" for k, v in facts.items()))
    print(f"  [{name}] inv_freq={[float(f'{x:.6g}') for x in inv.tolist()]}")
    assert abs(scaling - head_dim ** -0.5) < 1e-12
    rtype = rope.get("rope_type", "default")
    if rtype == "default":
        assert torch.equal(inv, plain), "default rope inv_freq mismatch"
    elif rtype == "linear":
        assert torch.allclose(inv, plain / rope["factor"], rtol=1e-6), "linear rope mismatch"
        print(f"  [{name}] linear: inv_freq == plain(theta={theta})/{rope['factor']} (plain={[float(f'{x:.6g}') for x in plain.tolist()]})")
    elif rtype == "llama3":
        changed = (~torch.isclose(inv, plain, rtol=1e-6)).nonzero().flatten().tolist()
        unchanged = [i for i in range(len(inv)) if i not in changed]
        assert changed and unchanged, "llama3 rope scaling should change some but not all frequencies"
        print(f"  [{name}] llama3: plain={[float(f'{x:.6g}') for x in plain.tolist()]}; "
              f"pairs changed {changed}, unchanged {unchanged}; ratio plain/scaled="
              f"{[float(f'{x:.4g}') for x in (plain / inv).tolist()]}")
    if cfg.model_type == "qwen2":
        assert cfg.sliding_window is None, "qwen2 with use_sliding_window=false must not slide"
        assert model.model.layers[0].self_attn.q_proj.bias is not None
    if cfg.model_type == "mistral":
        assert cfg.sliding_window == 128
    return facts


# ---------------------------------------------------------------------------
# Decoding


class RouterGap:
    """Min over routed tokens of logit(k-th expert) - logit(k+1-th expert) of the Mixtral routers.

    topk of the softmax equals topk of the logits, so this says how robust the
    expert choice is to rounding (a probability gap is not: it is tiny whenever
    one expert takes nearly all the mass, and then a swap hardly matters)."""

    def __init__(self, model):
        self.min_gap = math.inf
        self.handles = []
        self.k = model.config.num_experts_per_tok
        for layer in model.model.layers:
            self.handles.append(layer.mlp.gate.register_forward_hook(self.hook))

    def hook(self, module, inputs, output):
        logits = output[0].float()
        top = torch.topk(logits, self.k + 1, dim=-1).values
        self.min_gap = min(self.min_gap, float((top[:, self.k - 1] - top[:, self.k]).min()))

    def remove(self):
        for h in self.handles:
            h.remove()


def step_record(logits):
    """logits: float32 [vocab] -> (argmax, top5 [(id, lp)], gap)."""
    lp = torch.log_softmax(logits.double(), dim=-1)
    vals, idx = torch.topk(logits, TOP_K)
    tok = int(torch.argmax(logits))
    assert tok == int(idx[0])
    gap = float(vals[0].double() - vals[1].double())
    top = [[int(i), sig7(float(lp[i]))] for i in idx.tolist()]
    return tok, top, gap


@torch.no_grad()
def greedy(model, prompt, steps):
    ids = torch.tensor([prompt], dtype=torch.long)
    out = model(input_ids=ids, use_cache=True)
    past = out.past_key_values
    logits = out.logits[0, -1].float()
    tokens, tops, gaps, step_logits = [], [], [], []
    for _ in range(steps):
        tok, top, gap = step_record(logits)
        tokens.append(tok)
        tops.append(top)
        gaps.append(gap)
        step_logits.append(logits.clone())
        out = model(input_ids=torch.tensor([[tok]], dtype=torch.long), past_key_values=past, use_cache=True)
        past = out.past_key_values
        logits = out.logits[0, -1].float()
    return tokens, tops, gaps, torch.stack(step_logits)


@torch.no_grad()
def full_forward_logits(model, prompt, tokens):
    """No-cache forward over prompt + tokens[:-1]; logits that predicted each token."""
    seq = torch.tensor([prompt + tokens[:-1]], dtype=torch.long)
    logits = model(input_ids=seq, use_cache=False).logits[0].float()
    return logits[len(prompt) - 1:]


def repeat_stats(tokens):
    return {"distinct": len(set(tokens))}


# ---------------------------------------------------------------------------


def run_fixture(fx, fixtures_dir, out_dir, steps):
    name = fx["name"]
    model_dir = os.path.join(fixtures_dir, name)
    t0 = time.time()
    model = load_model(model_dir)
    verify_weights(model, model_dir)
    facts = report_model_semantics(name, model)
    tinfo = tokenizer_info(model_dir)
    prompts = make_prompts(tinfo)
    router = RouterGap(model) if model.config.model_type == "mixtral" else None

    with open(os.path.join(model_dir, ".complete")) as fh:
        fixture_hash = fh.read().strip()
    with open(os.path.join(model_dir, "config.json")) as fh:
        weights_dtype = json.load(fh)["torch_dtype"]

    records = []
    summary = []
    last_logits = {}
    for prompt in prompts:
        if router:
            router.min_gap = math.inf
        tokens, tops, gaps, step_logits = greedy(model, prompt, steps)
        rec = {"ids": prompt, "tokens": tokens, "top_logprobs": tops, "min_gap": sig7(min(gaps))}
        if router:
            rec["min_router_logit_gap"] = sig7(router.min_gap)
        # Cross-check the cached decode against a single no-cache forward.
        full = full_forward_logits(model, prompt, tokens)
        diff = float((full - step_logits).abs().max())
        if not torch.equal(full.argmax(-1), torch.tensor(tokens)):
            raise SystemExit(f"{name}: cached and uncached greedy decodes disagree (prompt len {len(prompt)})")
        if diff > 1e-3:
            raise SystemExit(f"{name}: cached vs uncached logits differ by {diff}")
        if min(gaps) < GAP_WARN:
            print(f"  WARNING {name} prompt len {len(prompt)}: top1-top2 logit gap {min(gaps):.3g} < {GAP_WARN}")
        records.append(rec)
        last_logits[len(prompt)] = step_logits
        summary.append(f"len {len(prompt)}: min_gap {min(gaps):.4g}"
                       + (f", router_gap {router.min_gap:.3g}" if router else "")
                       + f", distinct {len(set(tokens))}/{steps}, cache-vs-full {diff:.1e}")
    if router:
        router.remove()

    # Mistral: show that the sliding window really changes the 300-token result.
    if model.config.model_type == "mistral":
        cfg = AutoConfig.from_pretrained(model_dir)
        cfg.sliding_window = None
        nowin = load_model(model_dir, config=cfg)
        p = prompts[-1]
        with torch.no_grad():
            a = model(input_ids=torch.tensor([p]), use_cache=False).logits[0].float()
            b = nowin(input_ids=torch.tensor([p]), use_cache=False).logits[0].float()
        w = model.config.sliding_window
        d_in = float((a[:w] - b[:w]).abs().max())
        d_out = float((a[w:] - b[w:]).abs().max())
        print(f"  [{name}] sliding_window={w}: |logits(window) - logits(no window)| max over positions < {w}: "
              f"{d_in:.2e}, >= {w}: {d_out:.3g}")
        assert d_in < 1e-4 and d_out > 1e-2, "sliding window not applied as expected"
        facts["sliding_window_effect"] = {"positions_lt_window": d_in, "positions_ge_window": d_out}

    golden = {
        "fixture": name,
        "also_for": [f["name"] for f in FIXTURE_LIST if f["goldenOf"] == name and f["name"] != name],
        "fixture_hash": fixture_hash,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "weights_dtype": weights_dtype,
        "compute_dtype": "float32",
        "attn_implementation": "eager",
        "steps": steps,
        "prompt_seed": f"numpy PCG64({PROMPT_SEED} + prompt length)",
        "prompt_bos": tinfo["bos"],
        "prompts": records,
    }
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{name}.json")
    with open(path, "w") as fh:
        json.dump(golden, fh, separators=(",", ":"))
        fh.write("\n")
    dt = time.time() - t0
    print(f"{name}: {os.path.getsize(path)} bytes, {dt:.2f}s; " + "; ".join(summary))
    return model, prompts, last_logits


def check_shared(fx, fixtures_dir, ref_model, prompts):
    """A fixture that shares another's golden (the sharded one) must give identical logits."""
    model_dir = os.path.join(fixtures_dir, fx["name"])
    model = load_model(model_dir)
    verify_weights(model, model_dir)
    with torch.no_grad():
        for p in prompts:
            a = model(input_ids=torch.tensor([p]), use_cache=False).logits
            b = ref_model(input_ids=torch.tensor([p]), use_cache=False).logits
            if not torch.equal(a, b):
                raise SystemExit(f"{fx['name']}: logits differ from {fx['goldenOf']}")
    print(f"{fx['name']}: identical logits to {fx['goldenOf']} (shares its golden)")


FIXTURE_LIST = []


def main():
    global FIXTURE_LIST
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "test", "fixtures", "models"))
    ap.add_argument("--out", default=os.path.join(ROOT, "test", "goldens", "models"))
    ap.add_argument("--only", default=None, help="comma-separated fixture names")
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--no-make", action="store_true", help="do not run make-fixtures.mjs first")
    args = ap.parse_args()

    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    FIXTURE_LIST = node_fixture_list()
    if not args.no_make:
        ensure_fixtures(args.fixtures)
    only = set(args.only.split(",")) if args.only else None
    t0 = time.time()
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    refs = {}
    for fx in FIXTURE_LIST:
        if only and fx["name"] not in only:
            continue
        if fx["goldenOf"] == fx["name"]:
            model, prompts, _ = run_fixture(fx, args.fixtures, args.out, args.steps)
            if any(f["goldenOf"] == fx["name"] and f["name"] != fx["name"] for f in FIXTURE_LIST):
                refs[fx["name"]] = (model, prompts)
    for fx in FIXTURE_LIST:
        if fx["goldenOf"] != fx["name"] and (not only or fx["name"] in only):
            ref = refs.get(fx["goldenOf"])
            if ref is None:
                ref_model = load_model(os.path.join(args.fixtures, fx["goldenOf"]))
                ref = (ref_model, make_prompts(tokenizer_info(os.path.join(args.fixtures, fx["goldenOf"]))))
            check_shared(fx, args.fixtures, *ref)
    print(f"done in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    sys.exit(main())
